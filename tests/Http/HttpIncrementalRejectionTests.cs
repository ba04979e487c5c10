using NUnit.Framework;
using Proxy.Worker.Http;
using static Proxy.Tests.Http.HttpTestHelper;

namespace Proxy.Tests.Http;

/// <summary>A rejection does not depend on how the bytes arrive: same error at every split point.</summary>
public class HttpIncrementalRejectionTests
{
    [TestCase("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", HttpParseError.BareCr)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\n\r\n", HttpParseError.BareLf)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", HttpParseError.ObsoleteLineFolding)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", HttpParseError.ContentLengthAndTransferEncoding)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", HttpParseError.ConflictingContentLength)]
    [TestCase("GET / HTTP/2.0\r\nHost: h\r\n\r\n", HttpParseError.UnsupportedVersion)]
    [TestCase("GET / HTTP/1.1\r\n\r\n", HttpParseError.MissingHost)]
    public void Parse_RejectedRequestSplitAnywhere_GivesTheSameError(string text, HttpParseError expected)
    {
        using var head = new HttpHead();
        foreach (List<byte[]> pieces in AllSplits(B(text)))
        {
            head.Reset(HttpMessageKind.Request);
            var (status, _) = Drive(Http1RequestParser.Parse, head, pieces);
            Assert.That((status, head.Error), Is.EqualTo((HttpParseStatus.Error, expected)), $"pieces {pieces.Count}");
        }
    }

    [TestCase("5;a=\"x\u0001\"\r\n", HttpParseError.InvalidChunkExtension)]
    [TestCase("3\r\nabcX\r\n", HttpParseError.InvalidChunkTerminator)]
    [TestCase("3\r\nabc\r\n0\r\nX : y\r\n\r\n", HttpParseError.InvalidTrailer)]
    [TestCase("3\r\nabc\r\nzz\r\n", HttpParseError.InvalidChunkSize)]
    public void Process_RejectedChunkedBodySplitAnywhere_GivesTheSameError(string body, HttpParseError expected)
    {
        foreach (List<byte[]> pieces in AllSplits(B(body)))
        {
            var f = new HttpBodyFramer();
            f.Reset(HttpBodyFraming.Chunked);
            var r = Frame(ref f, pieces);
            Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, expected)), $"pieces {pieces.Count}");
        }
    }
}
