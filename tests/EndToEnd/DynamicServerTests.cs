using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `add server` / `del server` (doc/management.txt 9.3) on a running instance of 2 workers: a new server starts in
/// maintenance, `enable server` puts it in every worker's farm and on the board, `del server` takes it away only
/// from maintenance with no connection, and a reload loses it, as HAProxy does. Answers compared with Debian's 2.6.12.
/// One instance for the fixture; the tests run in order on it.
/// </summary>
[TestFixture]
public sealed class DynamicServerTests
{
    private EchoServer _e1 = null!, _e2 = null!;
    private ProxyInstance _proxy = null!;
    private int _port;

    [OneTimeSetUp]
    public void Start()
    {
        _e1 = new EchoServer();
        _e2 = new EchoServer();
        _port = Ports.Free();
        _proxy = new ProxyInstance(TestConfigs.Tcp(_port, _e1.Port) + """
            backend fixed
                balance static-rr
                server f1 127.0.0.1:9
            """).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _e1?.Dispose();
        _e2?.Dispose();
    }

    private Task<string> Cli(string command) => ControlClient.SendAsync(_proxy.SocketPath, command, TimeSpan.FromSeconds(20));

    private async Task SendAsync(int count)
    {
        for (int i = 0; i < count; i++)
            Assert.That(await TcpClientHelper.RoundTripAsync(_port, [1], TimeSpan.FromSeconds(5)), Has.Length.EqualTo(1));
    }

    private async Task<string?> StatRow(string key)
    {
        string csv = await Cli("show stat");
        return csv.Split('\n').FirstOrDefault(l => l.StartsWith(key.Replace('/', ',') + ",", StringComparison.Ordinal));
    }

    [Test, Order(1)]
    public async Task AddServer_StartsInMaint_EnableServer_SendsTrafficFromEveryWorker()
    {
        Assert.That(await Cli($"add server be/s2 127.0.0.1:{_e2.Port} weight 1"), Is.EqualTo("New server registered.\n\n"));
        Assert.That(await StatRow("be/s2"), Does.Contain(",MAINT,"), "on the board, in maintenance");
        Assert.That(await StatRow("be/s1"), Does.Contain(",no check,"), "a server in service without checks: HAProxy's \"no check\"");
        await SendAsync(30);
        Assert.That(_e2.Connections, Is.EqualTo(0), "a new server takes no traffic before `enable server`");

        Assert.That(await Cli("enable server be/s2"), Is.EqualTo("\n"));
        await SendAsync(60);
        Assert.That(_e2.Connections, Is.GreaterThan(10), "in the farm");
        // Both workers sent it connections: two per-worker rows of be/s2 (pid set) counted some (stot, column 8).
        string csv = ProcessRunner.Run(Artifacts.Proxyctl, ["stats", "-f", _proxy.ConfigPath, "--csv"]).Stdout;
        var counted = csv.Split('\n').Where(l => l.StartsWith("be,s2,", StringComparison.Ordinal))
            .Select(l => l.Split(',')).Where(c => c[26] != "" && c[26] != "0" && long.Parse(c[7]) > 0).Select(c => c[26]).Distinct().ToList();
        Assert.That(counted, Has.Count.EqualTo(2), csv);
    }

    [Test, Order(2)]
    public async Task AddServer_Refusals_AreHaproxysAnswers()
    {
        Assert.That(await Cli($"add server be/s2 127.0.0.1:{_e2.Port}"), Is.EqualTo("Already exists a server with the same name in backend.\n\n"));
        Assert.That(await Cli("add server nope/s9 127.0.0.1:1"), Is.EqualTo("No such backend.\n\n"));
        Assert.That(await Cli("add server be/s9"), Is.EqualTo("'server' expects <name> and <addr>[:<port>] as arguments.\n\n"));
        Assert.That(await Cli("add server fixed/s9 127.0.0.1:1"), Is.EqualTo("Backend must use a dynamic load balancing to support dynamic servers.\n\n"));
        Assert.That(await Cli("add server be"), Is.EqualTo("Require 'backend/server'.\n\n"));
        Assert.That(await Cli("add server be/s9 127.0.0.1:1 nosuchoption"), Does.Contain("nosuchoption"));
        Assert.That(await StatRow("be/s9"), Is.Null, "a refused server leaves no row");
    }

    [Test, Order(3)]
    public async Task DelServer_OnlyInMaint_WithoutConnections()
    {
        Assert.That(await Cli("del server be/s2"), Is.EqualTo("Only servers in maintenance mode can be deleted.\n\n"));
        Assert.That(await Cli("del server be/zz"), Is.EqualTo("No such server.\n\n"));
        // Take s1 out so that a held connection lands on s2, then put s2 in maintenance: the connection stays.
        Assert.That(await Cli("disable server be/s1"), Is.EqualTo("\n"));
        using var held = new TcpClient();
        await held.ConnectAsync(IPAddress.Loopback, _port);
        await held.GetStream().WriteAsync(new byte[] { 1 });
        Assert.That(await held.GetStream().ReadAsync(new byte[1]), Is.EqualTo(1));
        Assert.That(await Cli("disable server be/s2"), Is.EqualTo("\n"));
        Assert.That(await Cli("del server be/s2"), Is.EqualTo("Server still has connections attached to it, cannot remove it.\n\n"));
        held.Close();
        await Poll.UntilAsync(() => Cli("del server be/s2").GetAwaiter().GetResult(), a => a == "Server deleted.\n\n",
            "be/s2 deleted once its connection ended");
        Assert.That(await StatRow("be/s2"), Is.Null, "its row is gone from the board");
        Assert.That(await Cli("enable server be/s1"), Is.EqualTo("\n"));
        int before = _e2.Connections;
        await SendAsync(20);
        Assert.That(_e2.Connections, Is.EqualTo(before), "no worker sends it traffic any more");
    }

    [Test, Order(4)]
    public async Task Reload_LosesDynamicServers_AsHaproxy()
    {
        Assert.That(await Cli($"add server be/s3 127.0.0.1:{_e2.Port}"), Is.EqualTo("New server registered.\n\n"));
        Assert.That(await StatRow("be/s3"), Is.Not.Null);
        var r = _proxy.Ctl("reload");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(await StatRow("be/s3"), Is.Null, "the file has no s3: a reload drops it");
        Assert.That(await StatRow("be/s1"), Is.Not.Null);
    }
}
