using System.Buffers;
using NUnit.Framework;
using Proxy.Worker.Http;
using static Proxy.Tests.Http.HttpTestHelper;

namespace Proxy.Tests.Http;

/// <summary>The hot path allocates nothing per message once a connection's HttpHead exists.</summary>
public class HttpAllocationTests
{
    private static readonly byte[] Request = B(
        "POST /api/v1/items?id=42 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\nAccept: */*\r\n" +
        "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
    private static readonly byte[] Body = B("5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n");
    private static readonly byte[] Response = B("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: s\r\n\r\n");

    private static long RunOnce(HttpHead head, ReadOnlySequence<byte> request, ReadOnlySequence<byte> body, ReadOnlySequence<byte> response, byte[] output)
    {
        head.Reset(HttpMessageKind.Request);
        if (Http1RequestParser.Parse(head, request, out _, out _) != HttpParseStatus.Complete) return -1;
        Span<byte> extra = stackalloc byte[64];
        int n = Http1HeadWriter.AppendHeader(extra, 0, "X-Forwarded-For"u8, "192.0.2.7"u8);
        int written = Http1HeadWriter.Write(head, output, HttpHeadWriteFlags.ConnectionClose, extra[..n], [], 0, [], 0);
        if (written < 0) return -1;
        var framer = new HttpBodyFramer();
        framer.Reset(head);
        if (framer.Process(body, false, out _) != HttpBodyStatus.Complete) return -1;
        head.Reset(HttpMessageKind.Response, head.Method);
        if (Http1ResponseParser.Parse(head, response, out _, out _) != HttpParseStatus.Complete) return -1;
        _ = head.TryGetHeader("server"u8, out _);
        return written;
    }

    [Test]
    public void ParseFrameAndWrite_WarmedUp_AllocateNothing()
    {
        using var head = new HttpHead();
        byte[] output = new byte[1024];
        // Several segments, as a pipe would hold them; built before measuring.
        var request = Sequence(Cut(Request, 7, 30, 31, 90).ToArray());
        var body = Sequence(Cut(Body, 3, 12).ToArray());
        var response = Sequence(Cut(Response, 20).ToArray());
        for (int i = 0; i < 50; i++) Assert.That(RunOnce(head, request, body, response, output), Is.GreaterThan(0));

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) RunOnce(head, request, body, response, output);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero);
    }
}
