using NUnit.Framework;
using Proxy.Worker.Http;
using static Proxy.Tests.Http.HttpTestHelper;

namespace Proxy.Tests.Http;

public class Http1HeadWriterTests
{
    private HttpHead _head = null!;

    [SetUp]
    public void SetUp() => _head = new HttpHead();

    [TearDown]
    public void TearDown() => _head.Dispose();

    private string Write(string request, HttpHeadWriteFlags flags = HttpHeadWriteFlags.None, string extra = "")
    {
        _head.Reset(HttpMessageKind.Request);
        Assert.That(ParseRequest(_head, request), Is.EqualTo(HttpParseStatus.Complete), () => _head.Error.ToString());
        return Write(_head, flags, extra);
    }

    private static string Write(HttpHead head, HttpHeadWriteFlags flags = HttpHeadWriteFlags.None, string extra = "")
    {
        var output = new byte[4096];
        int n = Http1HeadWriter.Write(head, output, flags, B(extra), [], 0, [], 0);
        Assert.That(n, Is.GreaterThan(0));
        return S(output.AsSpan(0, n));
    }

    [Test]
    public void Write_PlainRequest_IsNormalizedButEquivalent() =>
        Assert.That(Write("GET /x HTTP/1.1\r\nHost:  h \r\nAccept:*/*\r\n\r\n"),
            Is.EqualTo("GET /x HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"));

    [Test]
    public void Write_HopByHopHeaders_AreRemoved() =>
        Assert.That(Write("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\n" +
                          "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: websocket\r\nx-secret: 1\r\nX-Public: 2\r\n\r\n"),
            Is.EqualTo("GET / HTTP/1.1\r\nHost: h\r\nX-Public: 2\r\n\r\n"));

    [Test]
    public void Write_ConnectionNamingFramingHeaders_DoesNotStripThem() =>
        Assert.That(Write("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: Content-Length, Host, Expect\r\nExpect: 100-continue\r\n\r\n"),
            Is.EqualTo("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));

    [Test]
    public void Write_TransferEncoding_IsKept()
    {
        const string req = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        Assert.That(Write(req), Does.Contain("Transfer-Encoding: chunked\r\n"));
    }

    [Test]
    public void Write_Tunnelling_KeepsUpgradeAndSaysSo() =>
        Assert.That(Write("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", HttpHeadWriteFlags.KeepUpgrade),
            Is.EqualTo("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"));

    [TestCase(HttpHeadWriteFlags.ConnectionClose, "Connection: close\r\n")]
    [TestCase(HttpHeadWriteFlags.ConnectionKeepAlive, "Connection: keep-alive\r\n")]
    [TestCase(HttpHeadWriteFlags.ConnectionClose | HttpHeadWriteFlags.KeepUpgrade, "Connection: upgrade, close\r\n")]
    public void Write_ConnectionFlags_AddOneConnectionHeader(HttpHeadWriteFlags flags, string line) =>
        Assert.That(Write("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n", flags),
            Is.EqualTo("GET / HTTP/1.1\r\nHost: h\r\n" + line + "\r\n"));

    [Test]
    public void Write_ExtraHeaders_AreAddedBeforeTheEnd()
    {
        Span<byte> extra = stackalloc byte[128];
        int n = Http1HeadWriter.AppendHeader(extra, 0, "X-Forwarded-For"u8, "192.0.2.1"u8);
        n = Http1HeadWriter.AppendHeader(extra, n, "X-Forwarded-Proto"u8, "http"u8);
        Assert.That(Write("GET / HTTP/1.1\r\nHost: h\r\n\r\n", HttpHeadWriteFlags.ConnectionClose, S(extra[..n])),
            Is.EqualTo("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 192.0.2.1\r\nX-Forwarded-Proto: http\r\nConnection: close\r\n\r\n"));
    }

    [Test]
    public void AppendHeader_InvalidOrTooLong_ReturnsMinusOne()
    {
        Span<byte> extra = stackalloc byte[16];
        Assert.That(Http1HeadWriter.AppendHeader(extra, 0, "X Bad"u8, "v"u8), Is.EqualTo(-1));
        Assert.That(Http1HeadWriter.AppendHeader(extra, 0, "X"u8, "a\r\nb"u8), Is.EqualTo(-1));
        Assert.That(Http1HeadWriter.AppendHeader(extra, 0, "X-Long-Name"u8, "value"u8), Is.EqualTo(-1));
        Assert.That(Http1HeadWriter.AppendHeader(extra, 0, "X"u8, "v"u8), Is.EqualTo(6));
    }

    [Test]
    public void Write_DestinationTooSmall_ReturnsMinusOne()
    {
        Assert.That(ParseRequest(_head, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), Is.EqualTo(HttpParseStatus.Complete));
        int length = Write(_head).Length;
        var span = new byte[length];
        Assert.That(Http1HeadWriter.Write(_head, span.AsSpan(0, length - 1), HttpHeadWriteFlags.None, default, [], 0, [], 0), Is.EqualTo(-1));
        int written = Http1HeadWriter.Write(_head, span, HttpHeadWriteFlags.None, default, [], 0, [], 0);
        Assert.That(written, Is.EqualTo(length));
    }

    [Test]
    public void Write_Response_KeepsStatusLine()
    {
        Assert.That(ParseResponse(_head, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(Write(_head), Is.EqualTo("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    }

    [Test]
    public void Write_Output_ParsesBackToTheSameHead()
    {
        string written = Write("POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nX: 1\r\n\r\n");
        using var again = new HttpHead();
        Assert.That(ParseRequest(again, written), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(again.BodyFraming, Is.EqualTo(HttpBodyFraming.Chunked));
        Assert.That(again.HeaderCount, Is.EqualTo(3));
    }
}
