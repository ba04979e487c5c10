using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Balancing;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker.Balancing;

[TestFixture]
public sealed class BalancerTests
{
    // An unconnected socket: only `balance source` looks at the client, and it copes with no remote address.
    private static readonly IPEndPoint? NoClient = null;   // no client address: `balance source` falls back to round robin


    private static BackendRuntime Backend(BalanceAlgorithm balance, params ServerConfig[] servers)
        => new(TcpTestKit.Backend(servers, balance));

    private static ServerConfig S(string name, int weight = 1, bool backup = false, bool disabled = false, int maxConn = 0)
        => Server(name, new IPEndPoint(IPAddress.Loopback, 1), weight, backup, disabled, maxConn: maxConn);

    private static string Picks(BackendRuntime be, int n, ServerRuntime? exclude = null)
    {
        var names = new List<string>();
        for (int i = 0; i < n; i++) names.Add(be.Picker.Pick(NoClient, exclude)?.Name ?? "-");
        return string.Join(" ", names);
    }

    [Test]
    public void RoundRobin_Weights511_FollowsNginxSmoothOrder()
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, S("a", 5), S("b", 1), S("c", 1));
        Assert.That(Picks(be, 14), Is.EqualTo("a a b a c a a a a b a c a a"));
    }

    [Test]
    public void RoundRobin_WeightZeroAndDisabled_GetNothing()
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, S("a", 0), S("b", 2, disabled: true), S("c", 1));
        Assert.That(Picks(be, 3), Is.EqualTo("c c c"));
    }

    [Test]
    public void Backup_OnlyFirstUsableBackup_WhenNoActiveLeft()
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, S("a"), S("b1", backup: true), S("b2", backup: true));
        Assert.That(Picks(be, 3), Is.EqualTo("a a a"));
        be.Servers[0].SetUp(false);
        Assert.That(Picks(be, 3), Is.EqualTo("b1 b1 b1"), "HAProxy without `option allbackups` uses the first backup");
        be.Servers[1].SetUp(false);
        Assert.That(Picks(be, 2), Is.EqualTo("b2 b2"));
        be.Servers[2].SetUp(false);
        Assert.That(Picks(be, 1), Is.EqualTo("-"));
        be.Servers[0].SetUp(true);
        Assert.That(Picks(be, 2), Is.EqualTo("a a"));
    }

    [Test]
    public void Pick_WithExclude_ReturnsAnotherServerWhenOneExists()
    {
        foreach (var algorithm in Enum.GetValues<BalanceAlgorithm>())
        {
            var be = Backend(algorithm, S("a"), S("b"));
            var a = be.Servers[0];
            for (int i = 0; i < 10; i++) Assert.That(be.Picker.Pick(NoClient, a)?.Name, Is.EqualTo("b"), algorithm.ToString());
            var single = Backend(algorithm, S("only"));
            Assert.That(single.Picker.Pick(NoClient, single.Servers[0])?.Name, Is.EqualTo("only"), algorithm + ": the only server is still returned");
        }
    }

    [Test]
    public void StaticRoundRobin_Weights12_DistributesProportionally()
    {
        var be = Backend(BalanceAlgorithm.StaticRoundRobin, S("a", 1), S("b", 2));
        Assert.That(Picks(be, 6), Is.EqualTo("b a b b a b"));
    }

    [Test]
    public void LeastConn_PrefersFewestSessionsPerWeight()
    {
        var be = Backend(BalanceAlgorithm.LeastConn, S("a", 1), S("b", 2));
        be.Servers[0].Counters.OpenSession();    // a: 1 session, weight 1 -> load 1
        be.Servers[1].Counters.OpenSession();    // b: 1 session, weight 2 -> load 0.5
        Assert.That(Picks(be, 3), Is.EqualTo("b b b"));
        be.Servers[1].Counters.OpenSession();
        be.Servers[1].Counters.OpenSession();    // b: 3 / 2 > a: 1 / 1
        Assert.That(Picks(be, 2), Is.EqualTo("a a"));
    }

    [Test]
    public void First_FillsServersInDeclarationOrder()
    {
        var be = Backend(BalanceAlgorithm.First, S("a", maxConn: 2), S("b", maxConn: 2));
        Assert.That(Picks(be, 2), Is.EqualTo("a a"));
        // Full means its maxconn permits are taken (HAProxy's fas_get_next_server compares srv->served), instance-wide.
        Assert.That(be.Servers[0].Permits.TryReserve() && be.Servers[0].Permits.TryReserve(), Is.True);
        Assert.That(Picks(be, 2), Is.EqualTo("b b"));
    }

    [Test]
    public async Task Source_SameClientAddress_SameServer()
    {
        var be = Backend(BalanceAlgorithm.Source, S("a"), S("b"), S("c"));
        using var listener = Listen();
        using var client = await ConnectAsync((IPEndPoint)listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();
        var first = be.Picker.Pick(accepted.RemoteEndPoint as IPEndPoint, null);
        for (int i = 0; i < 10; i++) Assert.That(be.Picker.Pick(accepted.RemoteEndPoint as IPEndPoint, null), Is.SameAs(first));
    }

    [Test]
    public void Random_Weights_AllServersPickedRoughlyByWeight()
    {
        var be = Backend(BalanceAlgorithm.Random, S("a", 1), S("b", 3));
        int b = 0;
        for (int i = 0; i < 4000; i++) if (be.Picker.Pick(NoClient, null)!.Name == "b") b++;
        Assert.That(b, Is.InRange(2700, 3300));
    }

    [Test]
    public void Pick_CountsLbtotOnServerAndBackend()
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, S("a"), S("b"));
        Picks(be, 4);
        Assert.That(be.Counters.LoadBalancedTotal, Is.EqualTo(4));
        Assert.That(be.Servers[0].Counters.LoadBalancedTotal, Is.EqualTo(2));
    }
}
