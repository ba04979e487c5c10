using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>Bodies streamed both ways (Content-Length and chunked), messages without body, 100-continue, WebSocket tunnels.</summary>
public class HttpBodyTests
{
    private const int Big = 20 << 20;

    /// <summary>Echoes a request body: Content-Length in, chunked out (1 MiB chunks) when the path is /chunked.</summary>
    private static byte[]? Echo(HttpMessage req)
    {
        if (!req.StartLine.Contains("/chunked"))
            return [.. Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {req.Body.Length}\r\n\r\n"), .. req.Body];
        var ms = new MemoryStream();
        ms.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"u8);
        for (int off = 0; off < req.Body.Length; off += 1 << 20)
        {
            int n = Math.Min(1 << 20, req.Body.Length - off);
            ms.Write(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
            ms.Write(req.Body, off, n);
            ms.Write("\r\n"u8);
        }
        ms.Write("0\r\n\r\n"u8);
        return ms.ToArray();
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task TwentyMiB_StreamedThroughBothWays(bool chunked)
    {
        await using var origin = new HttpOrigin("a", Echo);
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        var body = RandomNumberGenerator.GetBytes(Big);
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        var send = Task.Run(async () =>
        {
            if (!chunked)
            {
                await SendAsync(c, $"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: {Big}\r\n\r\n");
                await TcpTestKit.SendAllAsync(c, body);
                return;
            }
            await SendAsync(c, "POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int off = 0; off < Big; off += 100_000)
            {
                int n = Math.Min(100_000, Big - off);
                await SendAsync(c, $"{n:x};ext=1\r\n");
                await TcpTestKit.SendAllAsync(c, body.AsMemory(off, n));
                await SendAsync(c, "\r\n");
            }
            await SendAsync(c, "0\r\nX-Trailer: t\r\n\r\n");
        });
        var resp = await reader.ReadAsync(true);
        await send;
        Assert.That(resp!.Status, Is.EqualTo(200));
        Assert.That(resp.Body.Length, Is.EqualTo(Big));
        Assert.That(resp.Body.AsSpan().SequenceEqual(body), Is.True);
        Assert.That(origin.Requests.Single().Request.Body.AsSpan().SequenceEqual(body), Is.True);
        // Still usable afterwards: the next request on the same connection.
        await SendAsync(c, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok");
        Assert.That((await reader.ReadAsync(true))!.BodyText, Is.EqualTo("ok"));
    }

    [TestCase("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")]
    [TestCase("GET", "HTTP/1.1 204 No Content\r\n\r\n")]
    [TestCase("GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\nETag: \"x\"\r\n\r\n")]
    public async Task ResponsesWithoutBody_DoNotHangTheConnection(string method, string response)
    {
        await using var origin = new HttpOrigin("a", req => req.StartLine.Contains("/next") ? HttpOrigin.Ok("next") : Encoding.ASCII.GetBytes(response));
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        await SendAsync(c, $"{method} / HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n");
        var first = await reader.ReadAsync(true, headRequest: true);
        Assert.That(first!.Status, Is.EqualTo(int.Parse(response.Split(' ')[1])));
        Assert.That((await reader.ReadAsync(true))!.BodyText, Is.EqualTo("next"), "no body was expected after the first response");
        Assert.That(origin.Connections, Is.EqualTo(1));
    }

    [Test]
    public async Task ExpectContinue_100IsRelayedBeforeTheBody()
    {
        // An origin that answers 100 Continue itself before reading the body.
        await using var server = new TestServer(async s =>
        {
            var r = new HttpReader(s);
            var buf = new byte[4096];
            int got = 0;
            string head = "";
            while (!head.Contains("\r\n\r\n")) { int n = await s.ReceiveAsync(buf.AsMemory(got), SocketFlags.None); got += n; head = Encoding.ASCII.GetString(buf, 0, got); }
            await s.SendAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), SocketFlags.None);
            int bodyStart = head.IndexOf("\r\n\r\n") + 4;
            while (got - bodyStart < 4) got += await s.ReceiveAsync(buf.AsMemory(got), SocketFlags.None);
            await s.SendAsync(HttpOrigin.Ok("got " + Encoding.ASCII.GetString(buf, bodyStart, 4)), SocketFlags.None);
        });
        await using var proxy = StartFromText(HttpConfig($"    server a 127.0.0.1:{server.EndPoint.Port}"));
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        await SendAsync(c, "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        var interim = await reader.ReadAsync(true);
        Assert.That(interim!.Status, Is.EqualTo(100));
        await SendAsync(c, "data");
        var final = await reader.ReadAsync(true);
        Assert.That(final!.BodyText, Is.EqualTo("got data"));
        Assert.That(proxy.Engine.Counters[0].HttpResponses1xx, Is.EqualTo(1));
    }

    [Test]
    public async Task WebSocketUpgrade_BecomesATunnel()
    {
        await using var server = new TestServer(async s =>
        {
            var r = new HttpReader(s);
            var req = await r.ReadAsync(false);
            if (req!.Header("Upgrade") != "websocket") return;
            await s.SendAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"u8.ToArray(), SocketFlags.None);
            var buf = new byte[1024];
            while (true)
            {
                int n = await s.ReceiveAsync(buf, SocketFlags.None);
                if (n == 0) break;
                await s.SendAsync(buf.AsMemory(0, n), SocketFlags.None);   // echo frames as raw bytes
            }
            s.Shutdown(SocketShutdown.Send);
        });
        await using var proxy = StartFromText(HttpConfig($"    server a 127.0.0.1:{server.EndPoint.Port}", backendExtra: "    timeout tunnel 5s"));
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        await SendAsync(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n");
        var resp = await reader.ReadAsync(true, headRequest: true);
        Assert.That(resp!.Status, Is.EqualTo(101));
        Assert.That(resp.Header("Upgrade"), Is.EqualTo("websocket"));
        for (int i = 0; i < 3; i++)
        {
            await SendAsync(c, $"frame{i}");
            var buf = new byte[6];
            int got = 0;
            while (got < 6) got += await c.ReceiveAsync(buf.AsMemory(got), SocketFlags.None);
            Assert.That(Encoding.ASCII.GetString(buf), Is.EqualTo($"frame{i}"));
        }
        c.Shutdown(SocketShutdown.Send);
        Assert.That(await reader.ReadToEndAsync(), Is.Empty, "FIN relayed both ways");
    }

    [Test]
    public async Task TunnelTimeout_ClosesAnIdleTunnel()
    {
        await using var server = new TestServer(async s =>
        {
            await new HttpReader(s).ReadAsync(false);
            await s.SendAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"u8.ToArray(), SocketFlags.None);
            var buf = new byte[16];
            while (await s.ReceiveAsync(buf, SocketFlags.None) > 0) { }
        });
        await using var proxy = StartFromText(HttpConfig($"    server a 127.0.0.1:{server.EndPoint.Port}", backendExtra: "    timeout tunnel 300ms"));
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        await SendAsync(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
        Assert.That((await reader.ReadAsync(true, headRequest: true))!.Status, Is.EqualTo(101));
        long t0 = Environment.TickCount64;
        Assert.That(await reader.ReadToEndAsync(), Is.Empty);
        Assert.That(Environment.TickCount64 - t0, Is.InRange(200, 5000));
    }
}
