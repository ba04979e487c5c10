using NUnit.Framework;
using Proxy.Worker.Http;
using static Proxy.Tests.Http.HttpTestHelper;

namespace Proxy.Tests.Http;

/// <summary>
/// Request smuggling classics (CL.TE, TE.CL, TE.TE): every ambiguous framing is refused with 400 before
/// anything is forwarded, so the proxy and the server can never disagree on where a request ends.
/// </summary>
public class HttpSmugglingTests
{
    private static HttpParseError Reject(string text)
    {
        using var head = new HttpHead();
        Assert.That(ParseRequest(head, text), Is.EqualTo(HttpParseStatus.Error), "must be refused");
        Assert.That(HttpParseErrors.StatusCode(head.Error, HttpMessageKind.Request), Is.EqualTo(400));
        return head.Error;
    }

    [Test]
    public void ClTe_ContentLengthThenChunked_Is400() =>
        Assert.That(Reject("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED"),
            Is.EqualTo(HttpParseError.ContentLengthAndTransferEncoding));

    [Test]
    public void TeCl_ChunkedThenContentLength_Is400() =>
        Assert.That(Reject("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n"),
            Is.EqualTo(HttpParseError.ContentLengthAndTransferEncoding));

    [Test]
    public void ClTe_Http10_Is400() =>
        Assert.That(Reject("POST / HTTP/1.0\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Is.EqualTo(HttpParseError.ContentLengthAndTransferEncoding));

    // TE.TE: one side is made to miss the Transfer-Encoding header. Each obfuscation either is read as
    // chunked the same way any conforming parser reads it (and then CL alongside is refused), or is refused.
    [TestCase("Transfer-Encoding: xchunked", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("Transfer-Encoding: chunked\u000b", HttpParseError.InvalidHeaderValue)]
    [TestCase("Transfer-Encoding: chunked\u000c", HttpParseError.InvalidHeaderValue)]
    [TestCase("Transfer-Encoding : chunked", HttpParseError.WhitespaceBeforeColon)]
    [TestCase("Transfer-Encoding\t: chunked", HttpParseError.WhitespaceBeforeColon)]
    [TestCase(" Transfer-Encoding: chunked", HttpParseError.ObsoleteLineFolding)]
    [TestCase("X: y\r\n Transfer-Encoding: chunked", HttpParseError.ObsoleteLineFolding)]
    [TestCase("Transfer-Encoding:\r\n chunked", HttpParseError.ObsoleteLineFolding)]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: x", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("Transfer-Encoding: x\r\nTransfer-Encoding: chunked", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("Transfer-Encoding: chunked, identity", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("Transfer-Encoding: \"chunked\"", HttpParseError.InvalidTransferEncoding)]
    [TestCase("Transfer-Encoding: chunk", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("Transfer-Encoding: chunked\rX: y", HttpParseError.BareCr)]
    [TestCase("Transfer-Encoding: chunked\nX: y", HttpParseError.BareLf)]
    [TestCase("Transfer-Encoding:  chunked", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("Transfer-Encoding:\tchunked", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("Transfer-Encoding: CHUNKED", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("transfer-encoding: chunked", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("Transfer-Encoding: ,chunked", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("Transfer_Encoding: chunked", HttpParseError.None)]
    public void TeTe_ObfuscatedTransferEncodingWithContentLength_IsRefused(string teLine, HttpParseError expected)
    {
        string text = $"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n{teLine}\r\n\r\n";
        if (expected == HttpParseError.None)
        {
            // Not Transfer-Encoding at all: an ordinary header every parser ignores; CL frames the body.
            using var head = new HttpHead();
            Assert.That(ParseRequest(head, text), Is.EqualTo(HttpParseStatus.Complete));
            Assert.That(head.BodyFraming, Is.EqualTo(HttpBodyFraming.ContentLength));
            return;
        }
        Assert.That(Reject(text), Is.EqualTo(expected));
    }

    // Without Content-Length the same obfuscations cannot be framed: refused as well, never read as "no body".
    [TestCase("Transfer-Encoding: xchunked")]
    [TestCase("Transfer-Encoding: chunked, identity")]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: x")]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked")]
    [TestCase("Transfer-Encoding: chunk")]
    public void TeTe_ObfuscatedTransferEncodingAlone_IsRefused(string teLine) =>
        Assert.That(Reject($"POST / HTTP/1.1\r\nHost: h\r\n{teLine}\r\n\r\n"), Is.EqualTo(HttpParseError.InvalidTransferEncoding));

    [TestCase("Content-Length: 4\r\nContent-Length: 40")]
    [TestCase("Content-Length: 4, 40")]
    [TestCase("Content-Length: +4")]
    [TestCase("Content-Length : 4")]
    [TestCase("Content-Length: 4\u0000")]
    [TestCase("Content-Length: 0x4")]
    public void ClCl_AmbiguousContentLength_IsRefused(string clLines) =>
        Reject($"POST / HTTP/1.1\r\nHost: h\r\n{clLines}\r\n\r\n");

    [Test]
    public void ChunkedBody_SmuggledSecondRequestInChunkSize_IsError()
    {
        // A chunk size with trailing garbage (some servers read "0" and stop) must not pass.
        var f = new HttpBodyFramer();
        f.Reset(HttpBodyFraming.Chunked);
        var r = Frame(ref f, [B("0 GET /admin HTTP/1.1\r\n\r\n")]);
        Assert.That(r.Status, Is.EqualTo(HttpBodyStatus.Error));
    }

    [Test]
    public void ChunkedBody_BareLfAfterLastChunk_IsError()
    {
        var f = new HttpBodyFramer();
        f.Reset(HttpBodyFraming.Chunked);
        var r = Frame(ref f, [B("0\n\nGET /admin HTTP/1.1\r\n\r\n")]);
        Assert.That(r.Status, Is.EqualTo(HttpBodyStatus.Error));
    }
}
