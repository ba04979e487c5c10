using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `show sess` (each worker asked over its channel) and `set rate-limit connections|sessions global` taking effect in
/// the workers, on one instance of 2 workers. Formats compared with Debian's HAProxy 2.6.12 (doc/management.txt 9.3).
/// </summary>
[TestFixture]
public sealed class RuntimeSessionsTests
{
    private EchoServer _echo = null!;
    private ProxyInstance _proxy = null!;
    private int _port;

    [OneTimeSetUp]
    public void Start()
    {
        _echo = new EchoServer();
        _port = Ports.Free();
        _proxy = new ProxyInstance(TestConfigs.Tcp(_port, _echo.Port)).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _echo?.Dispose();
    }

    private Task<string> Cli(string command) => ControlClient.SendAsync(_proxy.SocketPath, command, TimeSpan.FromSeconds(10));

    private async Task<TcpClient> HoldAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _port);
        await client.GetStream().WriteAsync(new byte[] { 1 });
        Assert.That(await client.GetStream().ReadAsync(new byte[1]), Is.EqualTo(1), "echoed: connected to the server");
        return client;
    }

    [Test]
    public async Task ShowSess_ListsEveryWorkersSessions_OneHaproxyLineEach()
    {
        var held = new List<TcpClient>();
        try
        {
            // Enough connections that both workers hold some (SO_REUSEPORT spreads them by the client's port).
            for (int i = 0; i < 12; i++) held.Add(await HoldAsync());
            var lines = (await Cli("show sess")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var ours = lines.Where(l => l.Contains(" fe=fe ")).ToList();
            Assert.That(ours, Has.Count.EqualTo(12), string.Join("\n", lines));
            foreach (var l in ours)
                Assert.That(l, Does.Match(@"^0x[0-9a-f]+: proto=tcpv4 src=127\.0\.0\.1:\d+ fe=fe be=be srv=s1 age=\d+s$"));
            var workers = ours.Select(l => l[..l.IndexOf(':')]).Select(id => Convert.ToInt64(id, 16) >> 32).Distinct().ToList();
            Assert.That(workers, Has.Count.EqualTo(2), "both workers answered: " + string.Join("\n", ours));
            string first = ours[0][..ours[0].IndexOf(':')];
            Assert.That(await Cli("show sess " + first), Is.EqualTo(ours[0] + "\n\n"), "`show sess ID`: that session");
        }
        finally
        {
            foreach (var c in held) c.Dispose();
        }
        await Poll.UntilAsync(() => Cli("show sess").GetAwaiter().GetResult(), a => !a.Contains(" fe=fe "), "sessions gone once closed");
    }

    [Test]
    public async Task SetRateLimitConnections_ThrottlesAccepts_ZeroLiftsIt()
    {
        Assert.That(await Cli("set rate-limit connections global 4"), Is.EqualTo("\n"));
        try
        {
            // `show info` prints the instance's limit (not a worker's share), once the workers published it.
            await Poll.UntilAsync(() => Cli("show info").GetAwaiter().GetResult(), a => a.Contains("\nConnRateLimit: 4\n"), "ConnRateLimit in show info");
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < 12; i++)
                Assert.That(await TcpClientHelper.RoundTripAsync(_port, [1], TimeSpan.FromSeconds(10)), Has.Length.EqualTo(1));
            // 12 connections at 4 per second over the instance (2 per worker per second) need at least 3 windows.
            Assert.That(clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(1.5)));
        }
        finally
        {
            Assert.That(await Cli("set rate-limit connections global 0"), Is.EqualTo("\n"));
        }
        Assert.That(await Cli("set rate-limit sessions global"), Is.EqualTo("Expects an integer value.\n\n"));
        Assert.That(await Cli("set rate-limit sessions global 1000"), Is.EqualTo("\n"));
        await Poll.UntilAsync(() => Cli("show info typed").GetAwaiter().GetResult(), a => a.Contains("\n30.SessRateLimit.1:CLP:u32:1000\n"),
            "SessRateLimit at HAProxy's position 30 in show info typed");
        Assert.That(await Cli("set rate-limit sessions global 0"), Is.EqualTo("\n"));
    }
}
