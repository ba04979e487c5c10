using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// Termination states (doc/configuration.txt 8.5) and timers of traffic log lines for the common endings, through an
/// in-process engine logging to a UDP socket of the test.
/// </summary>
public class TrafficLogStateTests
{
    private sealed class Syslog : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        public Syslog()
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        }

        public int Port { get; }

        /// <summary>The next traffic line, its syslog header removed.</summary>
        public async Task<string> NextAsync()
        {
            var buf = new byte[65536];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            int n = await _socket.ReceiveAsync(buf, SocketFlags.None, cts.Token);
            var line = Encoding.UTF8.GetString(buf, 0, n);
            return line[(line.IndexOf("]: ", StringComparison.Ordinal) + 3)..];
        }

        public void Dispose() => _socket.Dispose();
    }

    private static string TcpConfig(int syslog, IPEndPoint server, string timeouts) => $"""
        defaults
            mode tcp
            log 127.0.0.1:{syslog} local0
            option tcplog
            timeout connect 1s
        {timeouts}
        frontend fe
            bind BIND
            default_backend be
        backend be
            server s1 127.0.0.1:{server.Port}
        """;

    [Test]
    public async Task Tcp_ServerSilent_TimeoutServer_IsSD()
    {
        using var syslog = new Syslog();
        await using var server = new TestServer(async s => await Task.Delay(Timeout.Infinite));
        await using var proxy = StartFromText(TcpConfig(syslog.Port, server.EndPoint, "    timeout client 10s\n    timeout server 200ms"));
        using var c = await proxy.ConnectAsync();
        await c.SendAsync("ping"u8.ToArray(), SocketFlags.None);
        Assert.That(await TcpTestKit.ReadToEndAsync(c), Is.Empty);
        Assert.That(await syslog.NextAsync(), Does.Match(@"^127\.0\.0\.1:\d+ \[.+\] fe be/s1 0/\d+/\d+ 0 sD 1/1/1/1/0 0/0$"));
    }

    [Test]
    public async Task Tcp_ClientIdle_TimeoutClient_IsCD()
    {
        using var syslog = new Syslog();
        await using var server = TestServer.Echo();
        await using var proxy = StartFromText(TcpConfig(syslog.Port, server.EndPoint, "    timeout client 200ms\n    timeout server 10s"));
        using var c = await proxy.ConnectAsync();
        await c.SendAsync("ping"u8.ToArray(), SocketFlags.None);
        Assert.That(Encoding.ASCII.GetString(await TcpTestKit.ReadToEndAsync(c)), Is.EqualTo("ping"));
        Assert.That(await syslog.NextAsync(), Does.Match(@" fe be/s1 0/\d+/\d+ 4 cD 1/1/1/1/0 0/0$"));
    }

    [Test]
    public async Task Tcp_ClientReset_IsCD_AndNormalEnd_IsDashes()
    {
        using var syslog = new Syslog();
        await using var server = TestServer.Echo();
        await using var proxy = StartFromText(TcpConfig(syslog.Port, server.EndPoint, "    timeout client 10s\n    timeout server 10s"));
        using (var c = await proxy.ConnectAsync())
        {
            await c.SendAsync("ab"u8.ToArray(), SocketFlags.None);
            var two = new byte[2];
            Assert.That(await c.ReceiveAsync(two, SocketFlags.None), Is.EqualTo(2));
            c.LingerState = new LingerOption(true, 0);   // close with a reset
        }
        Assert.That(await syslog.NextAsync(), Does.Match(@" fe be/s1 0/\d+/\d+ 2 CD 1/1/1/1/0 0/0$"));

        using (var c = await proxy.ConnectAsync())
        {
            await c.SendAsync("abc"u8.ToArray(), SocketFlags.None);
            c.Shutdown(SocketShutdown.Send);
            Assert.That(Encoding.ASCII.GetString(await TcpTestKit.ReadToEndAsync(c)), Is.EqualTo("abc"));
        }
        Assert.That(await syslog.NextAsync(), Does.Match(@" fe be/s1 0/\d+/\d+ 3 -- 1/1/1/1/0 0/0$"));
    }

    [Test]
    public async Task Tcp_ConnectTimeout_IsSC_lowercase()
    {
        using var syslog = new Syslog();
        var (listener, filler, ep) = await TcpTestKit.SaturatedListenerAsync();
        using var _l = listener;
        using var _f = filler;
        await using var proxy = StartFromText(TcpConfig(syslog.Port, ep, "    timeout client 10s\n    timeout server 10s\n    retries 0")
            .Replace("timeout connect 1s", "timeout connect 200ms"));
        using var c = await proxy.ConnectAsync();
        await c.SendAsync("ping"u8.ToArray(), SocketFlags.None);
        try
        {
            Assert.That(await TcpTestKit.ReadToEndAsync(c), Is.Empty);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // closed with "ping" unread
        }
        Assert.That(await syslog.NextAsync(), Does.Match(@" fe be/s1 0/-1/\d+ 0 sC 1/1/1/0/0 0/0$"));
    }

    [Test]
    public async Task Http_ServerSilent_Is504_sH()
    {
        using var syslog = new Syslog();
        await using var server = new TestServer(async s => await Task.Delay(Timeout.Infinite));
        await using var proxy = StartFromText(HttpConfig($"    server s1 127.0.0.1:{server.EndPoint.Port}",
            frontendExtra: $"    option httplog\n    log 127.0.0.1:{syslog.Port} local0", backendExtra: "    timeout server 200ms"));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
        var reply = await TcpTestKit.ReadToEndAsync(c);
        Assert.That(Encoding.ASCII.GetString(reply), Does.StartWith("HTTP/1.1 504"));
        Assert.That(await syslog.NextAsync(), Does.Match(
            $@" fe be/s1 \d+/0/\d+/-1/\d+ 504 {reply.Length} - - sH-- 1/1/1/1/0 0/0 ""GET /slow HTTP/1.1""$"));
    }

    [Test]
    public async Task Http_KeepAlive_OneLinePerRequest_SecondReusesTheConnection()
    {
        using var syslog = new Syslog();
        var origin = new HttpOrigin("o");
        await using var _ = origin;
        await using var proxy = StartFromText(HttpConfig(Server("s1", origin),
            frontendExtra: $"    option httplog\n    log 127.0.0.1:{syslog.Port} local0"));
        using var c = await proxy.ConnectAsync();
        for (int i = 1; i <= 2; i++)
        {
            await SendAsync(c, $"GET /r{i} HTTP/1.1\r\nHost: h\r\n\r\n");
            var reader = new HttpReader(c);
            Assert.That((await reader.ReadAsync(isResponse: true))!.StartLine, Does.StartWith("HTTP/1.1 200"));
        }
        var first = await syslog.NextAsync();
        var second = await syslog.NextAsync();
        Assert.That(first, Does.Match(@" fe be/s1 \d+/0/\d+/\d+/\d+ 200 \d+ - - ---- 1/1/1/1/0 0/0 ""GET /r1 HTTP/1\.1""$"));
        Assert.That(second, Does.Match(@" fe be/s1 \d+/0/0/\d+/\d+ 200 \d+ - - ---- 1/1/1/1/0 0/0 ""GET /r2 HTTP/1\.1""$"), "Tc 0: the session's connection was reused");
    }
}
