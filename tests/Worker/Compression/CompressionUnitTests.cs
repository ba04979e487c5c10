using System.Buffers;
using System.IO.Compression;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Compression;
using Proxy.Worker.Http;

namespace Proxy.Tests.Worker.Compression;

/// <summary>The rules (CompressionNegotiation), the chunk payload reader and the codec, without sockets.</summary>
public class CompressionUnitTests
{
    private static readonly CompressionRuntime GzipDeflate =
        new(new CompressionSettings([CompressionAlgorithm.Gzip, CompressionAlgorithm.Deflate], ["text/"], false));

    private static HttpHead Request(string text)
    {
        var head = new HttpHead();
        head.Reset(HttpMessageKind.Request);
        Assert.That(Http1RequestParser.Parse(head, new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), out _, out _), Is.EqualTo(HttpParseStatus.Complete));
        return head;
    }

    private static HttpHead Response(string text, Http1Method method = Http1Method.Get)
    {
        var head = new HttpHead();
        head.Reset(HttpMessageKind.Response, method);
        Assert.That(Http1ResponseParser.Parse(head, new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), out _, out _), Is.EqualTo(HttpParseStatus.Complete));
        return head;
    }

    [TestCase("gzip", CompressionAlgorithm.Gzip)]
    [TestCase("deflate, gzip", CompressionAlgorithm.Deflate)]       // equal weights: the first token wins, as HAProxy
    [TestCase("gzip;q=0.5, deflate", CompressionAlgorithm.Deflate)]
    [TestCase("gzip; q=1, deflate;q=0.9", CompressionAlgorithm.Gzip)]
    [TestCase("GZIP", CompressionAlgorithm.Gzip)]
    [TestCase("*", CompressionAlgorithm.Deflate)]
    [TestCase("br", null)]
    [TestCase("gzip;q=0", null)]
    public void SelectAlgorithm_AcceptEncoding(string accept, CompressionAlgorithm? expected)
    {
        using var req = Request($"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {accept}\r\n\r\n");
        Assert.That(CompressionNegotiation.SelectAlgorithm(req, GzipDeflate, null), Is.EqualTo(expected));
    }

    [Test]
    public void SelectAlgorithm_OldMozilla4_None_ButMsie7Compressed()
    {
        using var old = Request("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/4.0 (X11)\r\nAccept-Encoding: gzip\r\n\r\n");
        Assert.That(CompressionNegotiation.SelectAlgorithm(old, GzipDeflate, null), Is.Null);
        using var msie = Request("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1)\r\nAccept-Encoding: gzip\r\n\r\n");
        Assert.That(CompressionNegotiation.SelectAlgorithm(msie, GzipDeflate, null), Is.EqualTo(CompressionAlgorithm.Gzip));
    }

    [Test]
    public void SelectAlgorithm_BackendListFirst_IdentityImplicit()
    {
        var identity = new CompressionRuntime(new CompressionSettings([CompressionAlgorithm.Identity], [], false));
        using var req = Request("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(CompressionNegotiation.SelectAlgorithm(req, GzipDeflate, identity), Is.EqualTo(CompressionAlgorithm.Identity));
    }

    [TestCase("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\n\r\n", "Compress")]
    [TestCase("HTTP/1.1 203 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n", "Compress")]
    [TestCase("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\n\r\n", "Http10")]
    [TestCase("HTTP/1.1 206 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\n\r\n", "Status")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n", "NoBody")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", "NoBody")]   // close-delimited: no known length
    [TestCase("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\nContent-Length: 10\r\n\r\n", "Encoded")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nCache-Control: public, No-Transform\r\nContent-Length: 10\r\n\r\n", "NoTransform")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: \"a\"\r\nETag: \"b\"\r\nContent-Length: 10\r\n\r\n", "BadETag")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 10\r\n\r\n", "Type")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "Type")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed\r\nContent-Length: 10\r\n\r\n", "Multipart")]
    public void Check_ResponseRules(string response, string expected)
    {
        using var req = Request("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        using var resp = Response(response);
        Assert.That(CompressionNegotiation.Check(req, resp, GzipDeflate, null).ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void Check_HeadRequest_NotCompressed()
    {
        using var req = Request("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
        using var resp = Response("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\n\r\n", Http1Method.Head);
        Assert.That(CompressionNegotiation.Check(req, resp, GzipDeflate, null), Is.EqualTo(CompressionVerdict.Head));
    }

    [Test]
    public void ChunkedPayloadReader_SplitAnywhere_GivesTheData()
    {
        byte[] body = Encoding.ASCII.GetBytes("5;a=b\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n");
        for (int cut = 0; cut <= body.Length; cut++)
        {
            var reader = new ChunkedPayloadReader();
            reader.Reset();
            var got = new List<byte>();
            foreach (var part in new[] { body[..cut], body[cut..] })
            {
                int offset = 0;
                while (reader.Next(part, ref offset, out var data)) got.AddRange(data.ToArray());
            }
            Assert.That(Encoding.ASCII.GetString(got.ToArray()), Is.EqualTo("hello0123456789"), $"cut at {cut}");
        }
    }

    [TestCase(CompressionAlgorithm.Gzip)]
    [TestCase(CompressionAlgorithm.Deflate)]
    [TestCase(CompressionAlgorithm.RawDeflate)]
    [TestCase(CompressionAlgorithm.Identity)]
    public void ResponseCompressor_Chunks_DecodeToTheInput(CompressionAlgorithm algo)
    {
        byte[] page = EndToEnd.CompressionTests.MakePage(100_000);
        var c = new ResponseCompressor();
        var wire = new MemoryStream();
        for (int round = 0; round < 2; round++)   // reused for a second body
        {
            wire.SetLength(0);
            c.Begin(algo, 1);
            for (int at = 0; at < page.Length; at += 16384)
            {
                c.Write(page.AsSpan(at, Math.Min(16384, page.Length - at)));
                if (at % 32768 == 0) c.Flush();
                if (c.Pending > 0) wire.Write(c.TakeChunk(last: false).Span);
            }
            c.Finish();
            wire.Write(c.TakeChunk(last: true).Span);
            c.End();
            byte[] payload = Dechunk(wire.ToArray());
            byte[] decoded = algo switch
            {
                CompressionAlgorithm.Identity => payload,
                CompressionAlgorithm.RawDeflate => EndToEnd.CompressionTests.Decode("deflate", payload, raw: true),
                CompressionAlgorithm.Gzip => EndToEnd.CompressionTests.Decode("gzip", payload),
                _ => EndToEnd.CompressionTests.Decode("deflate", payload),
            };
            Assert.That(decoded, Is.EqualTo(page));
        }
    }

    /// <summary>Per compressed response: only the codec's own objects (zlib stream, its handle; measured 232 B).</summary>
    [Test]
    public void ResponseCompressor_WarmedUp_AllocatesOnlyTheCodec()
    {
        byte[] page = EndToEnd.CompressionTests.MakePage(100_000);
        var c = new ResponseCompressor();
        void One()
        {
            c.Begin(CompressionAlgorithm.Gzip, 1);
            for (int at = 0; at < page.Length; at += 16384)
            {
                c.Write(page.AsSpan(at, Math.Min(16384, page.Length - at)));
                c.Flush();
                if (c.Pending > 0) c.TakeChunk(last: false);
            }
            c.Finish();
            c.TakeChunk(last: true);
            c.End();
        }
        for (int i = 0; i < 20; i++) One();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) One();
        long perResponse = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
        TestContext.Out.WriteLine($"allocated per compressed response: {perResponse} B");
        Assert.That(perResponse, Is.LessThan(1024), "nothing but the codec's own state per response");
    }

    private static byte[] Dechunk(byte[] wire)
    {
        var reader = new ChunkedPayloadReader();
        reader.Reset();
        var output = new List<byte>();
        int offset = 0;
        while (reader.Next(wire, ref offset, out var data)) output.AddRange(data.ToArray());
        Assert.That(Encoding.ASCII.GetString(wire[^5..]), Is.EqualTo("0\r\n\r\n"), "ends with the last chunk");
        return [.. output];
    }
}
