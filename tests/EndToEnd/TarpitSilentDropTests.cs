using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `http-request tarpit` held for `timeout tarpit` then answered with its deny_status, and `silent-drop` in
/// `http-request` and `tcp-request connection` (doc/configuration.txt 4.2): the client gets no response and no FIN,
/// only a reset once it sends again (TCP_REPAIR) or at once (the fallback). Both count as denied requests (dreq).
/// </summary>
[TestFixture]
public sealed class TarpitSilentDropTests
{
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private int _port;

    internal const string Config = """
        defaults
            mode http
            timeout connect 5s
            timeout client 30s
            timeout server 30s
        frontend web
            bind 127.0.0.1:{0}
            timeout tarpit 1s
            tcp-request connection silent-drop if {{ src 127.0.0.2 }}
            http-request tarpit deny_status 429 if {{ path_beg /tarpit }}
            http-request silent-drop if {{ path_beg /drop }}
            default_backend b
        backend b
            server o 127.0.0.1:{1}
        """;

    [OneTimeSetUp]
    public void Start()
    {
        _origin = new OriginProcess("o");
        _port = Ports.Free();
        _proxy = new ProxyInstance(string.Format(Config, _port, _origin.Port)).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
    }

    private async Task<long> DeniedRequestsAsync()
    {
        var lines = (await ControlClient.SendAsync(_proxy.SocketPath, "show stat", TimeSpan.FromSeconds(10))).Split('\n');
        int column = Array.IndexOf(lines[0].TrimStart('#', ' ').Split(','), "dreq");
        var row = lines.First(l => l.StartsWith("web,FRONTEND,", StringComparison.Ordinal)).Split(',');
        return long.Parse(row[column]);
    }

    [Test]
    public async Task Tarpit_HoldsForTimeoutTarpit_ThenAnswersItsStatus()
    {
        long before = await DeniedRequestsAsync();
        var clock = Stopwatch.StartNew();
        var reply = Encoding.ASCII.GetString(await TrafficLogTests.ExchangeAsync(_port, "GET /tarpit HTTP/1.1\r\nHost: t\r\n\r\n"));
        long elapsed = clock.ElapsedMilliseconds;
        Assert.That(reply, Does.StartWith("HTTP/1.1 429 "));
        // The engine's timer ticks at most every 100 ms; the answer comes after `timeout tarpit`, never much later.
        Assert.That(elapsed, Is.InRange(950, 2500), "held for timeout tarpit (1 s)");
        await Poll.UntilAsync(() => DeniedRequestsAsync().GetAwaiter().GetResult(), n => n == before + 1, "the tarpit counted in dreq");
        var normal = Encoding.ASCII.GetString(await TrafficLogTests.ExchangeAsync(_port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
        Assert.That(normal, Does.StartWith("HTTP/1.1 200 "), "other requests pass");
    }

    /// <summary>
    /// Sends <paramref name="request"/> from <paramref name="source"/>; then, until something comes back, sends a byte
    /// every 50 ms. Returns the first bytes received (0 for a FIN) and whether the connection was reset instead; -1
    /// when nothing came back in 10 s.
    /// </summary>
    /// <remarks>
    /// One thread does both, in turn: a receive pending while a send runs races it for the reset. The kernel hands the
    /// reset's error to whichever call comes first; a receive after a send that took it reads 0, as if a FIN had come.
    /// </remarks>
    private async Task<(int Received, bool Reset)> DroppedAsync(IPAddress source, string request)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(source, 0));
        await s.ConnectAsync(IPAddress.Loopback, _port);
        await s.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None);
        return await Task.Run(() =>
        {
            var buffer = new byte[4096];
            long deadline = Environment.TickCount64 + 10_000;
            while (Environment.TickCount64 < deadline)
            {
                if (s.Poll(50_000, SelectMode.SelectRead))
                {
                    try { return (s.Receive(buffer), false); }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { return (0, true); }
                }
                // A silently dropped connection is gone on the proxy's side: the next segment the client sends is
                // answered with a reset, which this send or the next poll sees. A connection still open takes the byte.
                try { s.Send("x"u8); }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { return (0, true); }
            }
            return (-1, false);
        });
    }

    [Test]
    public async Task HttpRequestSilentDrop_NoResponseNoFin_CountedAsDenied()
    {
        long before = await DeniedRequestsAsync();
        var (received, reset) = await DroppedAsync(IPAddress.Loopback, "GET /drop HTTP/1.1\r\nHost: t\r\n\r\n");
        Assert.That((received, reset), Is.EqualTo((0, true)), "no byte, no FIN: a reset ends it");
        await Poll.UntilAsync(() => DeniedRequestsAsync().GetAwaiter().GetResult(), n => n == before + 1, "the drop counted in dreq");
    }

    [Test]
    public async Task TcpRequestConnectionSilentDrop_FromTheListedSource()
    {
        var (received, reset) = await DroppedAsync(IPAddress.Parse("127.0.0.2"), "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        Assert.That((received, reset), Is.EqualTo((0, true)), "dropped at accept, before any response");
    }
}
