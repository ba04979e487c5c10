using NUnit.Framework;
using Proxy.Worker.Http;
using static Proxy.Tests.Http.HttpTestHelper;

namespace Proxy.Tests.Http;

public class Http1RequestParserTests
{
    private HttpHead _head = null!;

    [SetUp]
    public void SetUp() => _head = new HttpHead();

    [TearDown]
    public void TearDown() => _head.Dispose();

    private HttpParseError Reject(string text)
    {
        _head.Reset(HttpMessageKind.Request);
        Assert.That(ParseRequest(_head, text), Is.EqualTo(HttpParseStatus.Error));
        Assert.That(HttpParseErrors.StatusCode(_head.Error, HttpMessageKind.Request), Is.EqualTo(_head.Error == HttpParseError.UnsupportedVersion ? 505 : 400));
        return _head.Error;
    }

    private void Accept(string text)
    {
        _head.Reset(HttpMessageKind.Request);
        Assert.That(ParseRequest(_head, text), Is.EqualTo(HttpParseStatus.Complete), () => _head.Error.ToString());
    }

    private const string Simple =
        "POST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nX-Empty:\r\nUser-Agent:  curl/8 \t\r\n\r\nhello";

    [Test]
    public void Parse_SimpleRequest_FillsHeadAndConsumesExactlyTheHead()
    {
        var (status, consumed) = Drive(Http1RequestParser.Parse, _head, [B(Simple)]);
        Assert.That(status, Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(consumed, Is.EqualTo(Simple.Length - 5));
        Assert.That(_head.Method, Is.EqualTo(Http1Method.Post));
        Assert.That(S(_head.MethodBytes), Is.EqualTo("POST"));
        Assert.That(S(_head.Target), Is.EqualTo("/upload?x=1"));
        Assert.That(_head.Version, Is.EqualTo(Http1Version.Http11));
        Assert.That(_head.HeaderCount, Is.EqualTo(4));
        Assert.That(S(_head.GetHeaderName(3)), Is.EqualTo("User-Agent"));
        Assert.That(S(_head.GetHeaderValue(3)), Is.EqualTo("curl/8"), "OWS around the value is not part of it");
        Assert.That(S(_head.GetHeaderValue(2)), Is.EqualTo(""));
        Assert.That(_head.ContentLength, Is.EqualTo(5));
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.ContentLength));
        Assert.That(_head.IsKeepAlive, Is.True);
        Assert.That(S(_head.StartLine), Is.EqualTo("POST /upload?x=1 HTTP/1.1"));
    }

    [Test]
    public void Parse_SplitAtEveryByteBoundary_GivesTheSameHead()
    {
        byte[] data = B(Simple);
        foreach (List<byte[]> pieces in AllSplits(data))
        {
            _head.Reset(HttpMessageKind.Request);
            var (status, consumed) = Drive(Http1RequestParser.Parse, _head, pieces);
            Assert.That(status, Is.EqualTo(HttpParseStatus.Complete), $"pieces {pieces.Count}: {_head.Error}");
            Assert.That(consumed, Is.EqualTo(data.Length - 5));
            Assert.That(S(_head.Target), Is.EqualTo("/upload?x=1"));
            Assert.That(S(_head.GetHeaderValue(3)), Is.EqualTo("curl/8"));
            Assert.That(_head.ContentLength, Is.EqualTo(5));
        }
    }

    [Test]
    public void Parse_ManySegmentsInOneCall_IsComplete()
    {
        byte[] data = B(Simple);
        var seq = Sequence(data.Select(b => new[] { b }).Prepend([]).ToArray());
        var status = Http1RequestParser.Parse(_head, seq, out var consumed, out _);
        Assert.That(status, Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(seq.Slice(consumed).Length, Is.EqualTo(5));
    }

    [Test]
    public void Parse_NeedMoreData_ConsumesEverythingSoNothingIsScannedTwice()
    {
        var seq = Sequence(B("GET / HTTP/1.1\r\nHo"));
        var status = Http1RequestParser.Parse(_head, seq, out var consumed, out var examined);
        Assert.That(status, Is.EqualTo(HttpParseStatus.NeedMoreData));
        Assert.That(consumed, Is.EqualTo(seq.End));
        Assert.That(examined, Is.EqualTo(seq.End));
        status = Http1RequestParser.Parse(_head, Sequence(B("st: a\r\n\r\n")), out _, out _);
        Assert.That(status, Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(_head.TryGetHeader("host"u8, out var host), Is.True);
        Assert.That(S(host), Is.EqualTo("a"));
    }

    [Test]
    public void Parse_PipelinedRequests_StopsAtTheEndOfTheFirstHead()
    {
        string two = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
        var seq = Sequence(B(two));
        Assert.That(Http1RequestParser.Parse(_head, seq, out var consumed, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(S(_head.Target), Is.EqualTo("/a"));
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.None));
        _head.Reset(HttpMessageKind.Request);
        Assert.That(Http1RequestParser.Parse(_head, seq.Slice(consumed), out consumed, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(S(_head.Target), Is.EqualTo("/b"));
        Assert.That(seq.Slice(consumed).Length, Is.Zero);
    }

    [TestCase("GET", Http1Method.Get)]
    [TestCase("HEAD", Http1Method.Head)]
    [TestCase("POST", Http1Method.Post)]
    [TestCase("PUT", Http1Method.Put)]
    [TestCase("DELETE", Http1Method.Delete)]
    [TestCase("TRACE", Http1Method.Trace)]
    [TestCase("PATCH", Http1Method.Patch)]
    [TestCase("PROPFIND", Http1Method.Other)]
    [TestCase("get", Http1Method.Other)]
    public void Parse_Method_IsIdentified(string method, Http1Method expected)
    {
        Accept($"{method} / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(_head.Method, Is.EqualTo(expected));
        Assert.That(S(_head.MethodBytes), Is.EqualTo(method));
    }

    [Test]
    public void Parse_Http10WithoutHost_IsAcceptedAndNotKeepAlive()
    {
        Accept("GET / HTTP/1.0\r\n\r\n");
        Assert.That(_head.Version, Is.EqualTo(Http1Version.Http10));
        Assert.That(_head.IsKeepAlive, Is.False);
        Accept("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        Assert.That(_head.IsKeepAlive, Is.True);
    }

    [Test]
    public void Parse_LeadingEmptyLines_AreIgnored()
    {
        Accept("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(S(_head.StartLine), Is.EqualTo("GET / HTTP/1.1"));
    }

    [TestCase("OPTIONS * HTTP/1.1", "h")]
    [TestCase("CONNECT example.com:443 HTTP/1.1", "example.com:443")]
    [TestCase("CONNECT [::1]:8443 HTTP/1.1", "[::1]:8443")]
    [TestCase("GET http://example.com/x HTTP/1.1", "example.com")]
    [TestCase("GET http://Example.com:80?q HTTP/1.1", "example.COM")]
    [TestCase("GET http://example.com:8080/ HTTP/1.1", "example.com:8080")]
    [TestCase("GET HTTPS://example.com HTTP/1.1", "example.com:443")]
    [TestCase("GET /a/b;c?d=e&f=%20 HTTP/1.1", "h")]
    public void Parse_ValidRequestTargetForms_AreAccepted(string line, string host) => Accept($"{line}\r\nHost: {host}\r\n\r\n");

    [TestCase("GET http://example.com/x HTTP/1.1", "evil.com")]
    [TestCase("GET http://example.com:8080/x HTTP/1.1", "example.com")]
    [TestCase("GET http://user@example.com/x HTTP/1.1", "example.com")]
    [TestCase("GET https://example.com/x HTTP/1.1", "example.com:80")]
    public void Parse_AbsoluteFormAuthorityDifferentFromHost_Is400(string line, string host) =>
        Assert.That(Reject($"{line}\r\nHost: {host}\r\n\r\n"), Is.EqualTo(HttpParseError.HostMismatch));

    [TestCase("a b")]
    [TestCase("h/x")]
    [TestCase("user@h")]
    [TestCase("h?x")]
    [TestCase("h\\x")]
    public void Parse_InvalidHostValue_Is400(string host) =>
        Assert.That(Reject($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidHost));

    [Test]
    public void Parse_EmptyHost_IsAccepted() => Accept("GET / HTTP/1.1\r\nHost:\r\n\r\n");

    [TestCase("GET * HTTP/1.1")]
    [TestCase("CONNECT /x HTTP/1.1")]
    [TestCase("CONNECT example.com HTTP/1.1")]
    [TestCase("CONNECT example.com:https HTTP/1.1")]
    [TestCase("GET example.com:443 HTTP/1.1")]
    [TestCase("GET ftp://example.com/ HTTP/1.1")]
    [TestCase("GET /a#frag HTTP/1.1")]
    [TestCase("GET /a\u0001b HTTP/1.1")]
    [TestCase("GET /a\u00e9 HTTP/1.1")]
    [TestCase("GET /a b HTTP/1.1")]
    [TestCase("GET http:// HTTP/1.1")]
    public void Parse_InvalidRequestTarget_Is400(string line) =>
        Assert.That(Reject(line + "\r\nHost: h\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidRequestTarget));

    [TestCase("G(T / HTTP/1.1")]
    [TestCase("G\u0000T / HTTP/1.1")]
    [TestCase("GÉT / HTTP/1.1")]
    [TestCase(" GET / HTTP/1.1")]
    public void Parse_InvalidMethodToken_Is400(string line) =>
        Assert.That(Reject(line + "\r\nHost: h\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidMethod));

    [TestCase("GET /")]
    [TestCase("GET")]
    public void Parse_RequestLineWithoutVersion_Is400(string line) =>
        Assert.That(Reject(line + "\r\nHost: h\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidRequestLine));

    [TestCase("HTTP/1.2", HttpParseError.UnsupportedVersion)]
    [TestCase("HTTP/2.0", HttpParseError.UnsupportedVersion)]
    [TestCase("HTTP/0.9", HttpParseError.UnsupportedVersion)]
    [TestCase("http/1.1", HttpParseError.InvalidVersion)]
    [TestCase("HTTP/1.10", HttpParseError.InvalidVersion)]
    [TestCase("HTTP/1", HttpParseError.InvalidVersion)]
    [TestCase("HTTP/1.1 ", HttpParseError.InvalidRequestTarget)]
    [TestCase("", HttpParseError.InvalidVersion)]
    public void Parse_BadVersion_Is400Or505(string version, HttpParseError expected) =>
        Assert.That(Reject($"GET / {version}\r\nHost: h\r\n\r\n"), Is.EqualTo(expected));

    [Test]
    public void Parse_Http2Version_Answers505() =>
        Assert.That(HttpParseErrors.StatusCode(Reject("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), HttpMessageKind.Request), Is.EqualTo(505));

    [Test]
    public void Parse_Http11WithoutHost_Is400() =>
        Assert.That(Reject("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), Is.EqualTo(HttpParseError.MissingHost));

    [Test]
    public void Parse_TwoHostHeaders_Is400() =>
        Assert.That(Reject("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), Is.EqualTo(HttpParseError.MultipleHost));

    [TestCase("GET / HTTP/1.1\nHost: h\r\n\r\n")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\n\r\n")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\n\n")]
    public void Parse_BareLf_Is400(string text) => Assert.That(Reject(text), Is.EqualTo(HttpParseError.BareLf));

    [TestCase("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n")]
    [TestCase("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n")]
    [TestCase("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n")]
    public void Parse_BareCr_Is400(string text) => Assert.That(Reject(text), Is.EqualTo(HttpParseError.BareCr));

    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\t2\r\n\r\n")]
    [TestCase("GET / HTTP/1.1\r\n Host: h\r\n\r\n")]
    public void Parse_ObsoleteLineFolding_Is400(string text) =>
        Assert.That(Reject(text), Is.EqualTo(HttpParseError.ObsoleteLineFolding));

    [TestCase("Host : h")]
    [TestCase("Host\t: h")]
    public void Parse_WhitespaceBeforeColon_Is400(string line) =>
        Assert.That(Reject($"GET / HTTP/1.1\r\n{line}\r\n\r\n"), Is.EqualTo(HttpParseError.WhitespaceBeforeColon));

    [Test]
    public void Parse_EmptyHeaderName_Is400() =>
        Assert.That(Reject("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n"), Is.EqualTo(HttpParseError.EmptyHeaderName));

    [TestCase("X A: v")]
    [TestCase("X\u0000A: v")]
    [TestCase("X(A): v")]
    [TestCase("NoColonHere")]
    public void Parse_InvalidHeaderName_Is400(string line) =>
        Assert.That(Reject($"GET / HTTP/1.1\r\nHost: h\r\n{line}\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidHeaderName));

    [TestCase("X: a\u0000b")]
    [TestCase("X: a\u0001")]
    [TestCase("X: a\u000bb")]
    [TestCase("X: \u007f")]
    [TestCase("X: \u001b[31m")]
    public void Parse_ControlByteInValue_Is400(string line) =>
        Assert.That(Reject($"GET / HTTP/1.1\r\nHost: h\r\n{line}\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidHeaderValue));

    [Test]
    public void Parse_HtabAndObsTextInValue_AreAccepted()
    {
        Accept("GET / HTTP/1.1\r\nHost: h\r\nX: a\tb \u00e9\u00ff\r\n\r\n");
        Assert.That(_head.TryGetHeader("x"u8, out var v), Is.True);
        Assert.That(S(v), Is.EqualTo("a\tb \u00e9\u00ff"));
    }

    [Test]
    public void Parse_MaxHeaders_AreAcceptedOneMoreIs400()
    {
        string Headers(int n) => "GET / HTTP/1.1\r\nHost: h\r\n" + string.Concat(Enumerable.Range(1, n - 1).Select(i => $"X-{i}: {i}\r\n")) + "\r\n";
        Accept(Headers(HttpHead.DefaultMaxHeaders));
        Assert.That(_head.HeaderCount, Is.EqualTo(101));
        Assert.That(Reject(Headers(HttpHead.DefaultMaxHeaders + 1)), Is.EqualTo(HttpParseError.TooManyHeaders));
    }

    [Test]
    public void Parse_ConfiguredMaxHeaders_IsHonoured()
    {
        using var head = new HttpHead(maxHeaders: 2);
        Assert.That(ParseRequest(head, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n"), Is.EqualTo(HttpParseStatus.Complete));
        head.Reset(HttpMessageKind.Request);
        Assert.That(ParseRequest(head, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n"), Is.EqualTo(HttpParseStatus.Error));
        Assert.That(head.Error, Is.EqualTo(HttpParseError.TooManyHeaders));
    }

    [Test]
    public void Parse_HeadOfExactlyBufsize_IsAcceptedOneByteMoreIs400()
    {
        string prefix = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
        string Of(int size) => prefix + new string('a', size - prefix.Length - 4) + "\r\n\r\n";
        Accept(Of(HttpHead.DefaultMaxHeadSize));
        Assert.That(Reject(Of(HttpHead.DefaultMaxHeadSize + 1)), Is.EqualTo(HttpParseError.HeadTooLarge));
    }

    [Test]
    public void Parse_HeadTooLargeArrivingInPieces_Is400WithoutWaitingForTheEnd()
    {
        using var head = new HttpHead(maxHeadSize: 64);
        byte[] big = B("GET / HTTP/1.1\r\nHost: h\r\nX: " + new string('a', 100));
        var (status, _) = Drive(Http1RequestParser.Parse, head, Cut(big, 10, 30, 50, 70));
        Assert.That(status, Is.EqualTo(HttpParseStatus.Error));
        Assert.That(head.Error, Is.EqualTo(HttpParseError.HeadTooLarge));
    }

    [Test]
    public void Parse_ContentLengthRepeatedIdentical_IsMerged()
    {
        Accept("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\nContent-Length: 7, 7\r\n\r\n");
        Assert.That(_head.ContentLength, Is.EqualTo(7));
    }

    [TestCase("Content-Length: 7\r\nContent-Length: 8")]
    [TestCase("Content-Length: 7, 8")]
    [TestCase("Content-Length: 7\r\nContent-Length: 07\r\nContent-Length: 8")]
    public void Parse_DifferingContentLengths_Is400(string headers) =>
        Assert.That(Reject($"POST / HTTP/1.1\r\nHost: h\r\n{headers}\r\n\r\n"), Is.EqualTo(HttpParseError.ConflictingContentLength));

    [TestCase("-1")]
    [TestCase("+1")]
    [TestCase("1a")]
    [TestCase("0x10")]
    [TestCase("")]
    [TestCase("1 2")]
    [TestCase("1,")]
    [TestCase("9223372036854775808")]
    [TestCase("99999999999999999999999")]
    public void Parse_InvalidContentLength_Is400(string value) =>
        Assert.That(Reject($"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: {value}\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidContentLength));

    [Test]
    public void Parse_LargestContentLength_IsAccepted()
    {
        Accept("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n");
        Assert.That(_head.ContentLength, Is.EqualTo(long.MaxValue));
    }

    [TestCase("chunked")]
    [TestCase("Chunked")]
    [TestCase("gzip, chunked")]
    [TestCase("gzip\r\nTransfer-Encoding: chunked")]
    public void Parse_FinalChunked_IsChunked(string value)
    {
        Accept($"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: {value}\r\n\r\n");
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.Chunked));
        Assert.That(_head.ContentLength, Is.EqualTo(-1));
    }

    [TestCase("gzip")]
    [TestCase("chunked, gzip")]
    [TestCase("chunked, chunked")]
    [TestCase("chunked\r\nTransfer-Encoding: chunked")]
    [TestCase("chunked\r\nTransfer-Encoding: gzip")]
    [TestCase("chunked;q=1")]
    [TestCase("identity")]
    [TestCase("\"chunked\"")]
    public void Parse_TransferEncodingNotEndingInOneChunked_Is400(string value) =>
        Assert.That(Reject($"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: {value}\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidTransferEncoding));

    [Test]
    public void Parse_ChunkedHttp10_IsChunkedButMustClose()
    {
        Accept("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n");
        Assert.That(_head.BodyFraming, Is.EqualTo(HttpBodyFraming.Chunked));
        Assert.That(_head.MustClose, Is.True);
        Assert.That(_head.IsKeepAlive, Is.False);
    }

    [Test]
    public void Parse_ConnectionTokens_AreRecognised()
    {
        Accept("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, foo\r\nconnection: CLOSE\r\nUpgrade: websocket\r\n\r\n");
        Assert.That(_head.ConnectionOptions, Is.EqualTo(HttpConnectionOptions.Upgrade | HttpConnectionOptions.Close));
        Assert.That(_head.HasUpgrade, Is.True);
        Assert.That(_head.IsKeepAlive, Is.False);
        Assert.That(_head.IsListedInConnection("FOO"u8), Is.True);
        Assert.That(_head.IsListedInConnection("bar"u8), Is.False);
    }

    [TestCase("100-continue", true)]
    [TestCase("100-Continue", true)]
    [TestCase("200-ok", false)]
    public void Parse_Expect_IsRecognised(string value, bool expected)
    {
        Accept($"POST / HTTP/1.1\r\nHost: h\r\nExpect: {value}\r\nContent-Length: 3\r\n\r\n");
        Assert.That(_head.ExpectsContinue, Is.EqualTo(expected));
    }

    [Test]
    public void IndexOfHeader_RepeatedHeader_FindsEachInTurn()
    {
        Accept("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nY: 0\r\nx-a: 2\r\n\r\n");
        int first = _head.IndexOfHeader("X-a"u8);
        int second = _head.IndexOfHeader("X-a"u8, first + 1);
        Assert.That((first, second), Is.EqualTo((1, 3)));
        Assert.That(_head.IndexOfHeader("X-a"u8, second + 1), Is.EqualTo(-1));
        Assert.That(_head.TryGetHeader("X-Missing"u8, out _), Is.False);
    }

    [Test]
    public void Reset_AfterError_ParsesTheNextMessageCleanly()
    {
        Reject("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n");
        Accept("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(_head.Error, Is.EqualTo(HttpParseError.None));
        Assert.That(_head.ContentLength, Is.EqualTo(-1));
    }
}
