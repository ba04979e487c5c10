using System.Buffers;
using NUnit.Framework;
using Proxy.Worker.Http;
using static Proxy.Tests.Http.HttpTestHelper;

namespace Proxy.Tests.Http;

public class Http1ResponseParserTests
{
    private HttpHead _head = null!;

    [SetUp]
    public void SetUp() => _head = new HttpHead();

    [TearDown]
    public void TearDown() => _head.Dispose();

    private void Accept(string text, Http1Method requestMethod = Http1Method.Get) =>
        Assert.That(ParseResponse(_head, text, requestMethod), Is.EqualTo(HttpParseStatus.Complete), () => _head.Error.ToString());

    private HttpParseError Reject(string text)
    {
        Assert.That(ParseResponse(_head, text), Is.EqualTo(HttpParseStatus.Error));
        Assert.That(HttpParseErrors.StatusCode(_head.Error, HttpMessageKind.Response), Is.EqualTo(502));
        return _head.Error;
    }

    private const string Ok = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";

    [Test]
    public void Parse_SimpleResponse_FillsHead()
    {
        _head.Reset(HttpMessageKind.Response, Http1Method.Get);
        var (status, consumed) = Drive(Http1ResponseParser.Parse, _head, [B(Ok)]);
        Assert.That(status, Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(consumed, Is.EqualTo(Ok.Length - 2));
        Assert.That(_head.StatusCode, Is.EqualTo(200));
        Assert.That(S(_head.Reason), Is.EqualTo("OK"));
        Assert.That(_head.Version, Is.EqualTo(Http1Version.Http11));
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.ContentLength));
        Assert.That(_head.ContentLength, Is.EqualTo(2));
    }

    [Test]
    public void Parse_SplitAtEveryByteBoundary_GivesTheSameHead()
    {
        byte[] data = B(Ok);
        foreach (List<byte[]> pieces in AllSplits(data))
        {
            _head.Reset(HttpMessageKind.Response, Http1Method.Get);
            var (status, consumed) = Drive(Http1ResponseParser.Parse, _head, pieces);
            Assert.That(status, Is.EqualTo(HttpParseStatus.Complete), $"pieces {pieces.Count}: {_head.Error}");
            Assert.That(consumed, Is.EqualTo(data.Length - 2));
            Assert.That(_head.StatusCode, Is.EqualTo(200));
            Assert.That(S(_head.GetHeaderValue(0)), Is.EqualTo("text/plain"));
        }
    }

    [TestCase("HTTP/1.1 200 \r\n", "")]
    [TestCase("HTTP/1.1 200\r\n", "")]
    [TestCase("HTTP/1.1 404 Not  Found \u00e9\r\n", "Not  Found \u00e9")]
    public void Parse_ReasonPhrase_MayBeEmpty(string line, string reason)
    {
        Accept(line + "Content-Length: 0\r\n\r\n");
        Assert.That(S(_head.Reason), Is.EqualTo(reason));
    }

    [TestCase("HTTP/1.1 20 OK")]
    [TestCase("HTTP/1.1 2000 OK")]
    [TestCase("HTTP/1.1 abc OK")]
    [TestCase("HTTP/1.1 099 Low")]
    [TestCase("HTTP/1.1 600 High")]
    [TestCase("HTTP/1.1  200 OK")]
    [TestCase("HTTP/1.1 200 O\u0000K")]
    [TestCase("HTTP/1.1")]
    public void Parse_BadStatusLine_Is502(string line) =>
        Assert.That(Reject(line + "\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidStatusLine));

    [TestCase("HTTP/2.0 200 OK")]
    [TestCase("HTTP/1.2 200 OK")]
    [TestCase("HTTX/1.1 200 OK")]
    public void Parse_BadVersion_Is502(string line) =>
        Assert.That(Reject(line + "\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidVersion));

    [Test]
    public void Parse_NoLengthNoChunked_IsCloseDelimited()
    {
        Accept("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.CloseDelimited));
        Assert.That(_head.IsKeepAlive, Is.False);
    }

    [Test]
    public void Parse_TransferEncodingWithoutFinalChunked_IsCloseDelimited()
    {
        Accept("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.CloseDelimited));
    }

    [Test]
    public void Parse_Chunked_IsChunked()
    {
        Accept("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.Chunked));
        Assert.That(_head.IsKeepAlive, Is.True);
    }

    [TestCase("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", Http1Method.Get)]
    [TestCase("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", Http1Method.Get)]
    [TestCase("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", Http1Method.Get)]
    [TestCase("HTTP/1.1 100 Continue\r\n\r\n", Http1Method.Post)]
    [TestCase("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", Http1Method.Get)]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", Http1Method.Head)]
    [TestCase("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Http1Method.Head)]
    [TestCase("HTTP/1.1 200 OK\r\n\r\n", Http1Method.Head)]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Http1Method.Get)]
    public void Parse_BodylessResponse_HasNoBody(string text, Http1Method requestMethod)
    {
        Accept(text, requestMethod);
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.None));
    }

    [Test]
    public void Parse_InterimResponse_IsInterimAndNot101()
    {
        Accept("HTTP/1.1 100 Continue\r\n\r\n", Http1Method.Post);
        Assert.That(_head.IsInterim, Is.True);
        Accept("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
        Assert.That(_head.IsInterim, Is.False);
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.Tunnel));
    }

    [Test]
    public void Parse_InterimThenFinalInOneBuffer_ParsesBothInTurn()
    {
        var seq = Sequence(B("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"));
        _head.Reset(HttpMessageKind.Response, Http1Method.Post);
        Assert.That(Http1ResponseParser.Parse(_head, seq, out var consumed, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That((_head.StatusCode, _head.IsInterim, _head.BodyFraming), Is.EqualTo((100, true, HttpBodyFraming.None)));
        _head.Reset(HttpMessageKind.Response, Http1Method.Post);
        Assert.That(Http1ResponseParser.Parse(_head, seq.Slice(consumed), out consumed, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That((_head.StatusCode, _head.IsInterim, _head.BodyFraming), Is.EqualTo((201, false, HttpBodyFraming.ContentLength)));
        Assert.That(S(seq.Slice(consumed).ToArray()), Is.EqualTo("ok"));
    }

    [Test]
    public void Parse_HeadResetForARequest_Throws()
    {
        _head.Reset(HttpMessageKind.Request);
        Assert.Throws<InvalidOperationException>(() => Http1ResponseParser.Parse(_head, Sequence(B("HTTP/1.1 200 OK\r\n\r\n")), out _, out _));
    }

    [Test]
    public void Parse_2xxToConnect_IsTunnel()
    {
        Accept("HTTP/1.1 200 Connection established\r\n\r\n", Http1Method.Connect);
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.Tunnel));
        Accept("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 3\r\n\r\n", Http1Method.Connect);
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.ContentLength));
    }

    [Test]
    public void Parse_ContentLengthAndChunked_Is502() =>
        Assert.That(Reject("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Is.EqualTo(HttpParseError.ContentLengthAndTransferEncoding));

    [TestCase("chunked, gzip")]
    [TestCase("chunked, chunked")]
    public void Parse_ChunkedNotFinalOrTwice_Is502(string te) =>
        Assert.That(Reject($"HTTP/1.1 200 OK\r\nTransfer-Encoding: {te}\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidTransferEncoding));

    [Test]
    public void Parse_DifferingContentLengths_Is502() =>
        Assert.That(Reject("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), Is.EqualTo(HttpParseError.ConflictingContentLength));

    [TestCase("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", HttpParseError.BareLf)]
    [TestCase("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", HttpParseError.BareCr)]
    [TestCase("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", HttpParseError.ObsoleteLineFolding)]
    [TestCase("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", HttpParseError.WhitespaceBeforeColon)]
    [TestCase("HTTP/1.1 200 OK\r\nX: a\u0000\r\n\r\n", HttpParseError.InvalidHeaderValue)]
    public void Parse_MalformedHeaderLines_Is502(string text, HttpParseError expected) =>
        Assert.That(Reject(text), Is.EqualTo(expected));

    [Test]
    public void Parse_LeadingEmptyLineBeforeStatusLine_Is502() =>
        Assert.That(Reject("\r\nHTTP/1.1 200 OK\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidStatusLine));

    [Test]
    public void Parse_Http10Response_IsNotKeepAliveUnlessAsked()
    {
        Accept("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n");
        Assert.That(_head.Version, Is.EqualTo(Http1Version.Http10));
        Assert.That(_head.IsKeepAlive, Is.False);
        Accept("HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n");
        Assert.That(_head.IsKeepAlive, Is.True);
    }
}
