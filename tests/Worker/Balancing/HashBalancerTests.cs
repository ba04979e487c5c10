using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Tests.Http;
using Proxy.Worker.Balancing;
using Proxy.Worker.Runtime;
using Proxy.Worker.Http;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker.Balancing;

/// <summary>`balance uri|url_param|hdr|source|random(N)` and `option allbackups` through <see cref="BackendRuntime"/>.</summary>
public sealed class HashBalancerTests
{
    private static readonly IPEndPoint? NoClient = null;   // no client address: `balance source` falls back to round robin
    private readonly HttpHead _head = new();

    [TearDown]
    public void ReleaseHead() => _head.Dispose();

    private static ServerConfig S(string name, int weight = 1, bool backup = false) =>
        Server(name, new IPEndPoint(IPAddress.Loopback, 1), weight, backup);

    private static BackendRuntime Backend(BalanceAlgorithm balance, BalanceOptions options, params ServerConfig[] servers) =>
        new(TcpTestKit.Backend(servers, balance) with { BalanceOptions = options });

    private string Pick(BackendRuntime be, string target, string headers = "", ServerRuntime? exclude = null)
    {
        _head.Reset(HttpMessageKind.Request);
        Assert.That(HttpTestHelper.ParseRequest(_head, $"GET {target} HTTP/1.1\r\nHost: h\r\n{headers}\r\n"), Is.EqualTo(HttpParseStatus.Complete));
        return be.Picker.Pick(NoClient, _head, exclude)?.Name ?? "-";
    }

    private static readonly BalanceOptions Consistent = BalanceOptions.Default with { HashMethod = HashMethod.Consistent, HashAvalanche = true };

    [TestCase(false)]
    [TestCase(true)]
    public void Uri_SameUriSameServer_DistinctUrisSpreadByWeight(bool consistent)
    {
        var be = Backend(BalanceAlgorithm.Uri, consistent ? Consistent : BalanceOptions.Default, S("a", 1), S("b", 1), S("c", 2));
        var first = new Dictionary<string, string>();
        for (int round = 0; round < 3; round++)
            for (int i = 0; i < 2000; i++)
            {
                var name = Pick(be, $"/img/{i}.png?v={round}");   // the query does not count
                if (round == 0) first[$"{i}"] = name;
                else Assert.That(name, Is.EqualTo(first[$"{i}"]));
            }
        var counts = first.Values.GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count() / 2000.0);
        TestContext.Out.WriteLine($"{(consistent ? "consistent" : "map-based")}: " + string.Join(", ", counts.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value:P1}")));
        Assert.That(counts["a"], Is.InRange(0.20, 0.30));
        Assert.That(counts["b"], Is.InRange(0.20, 0.30));
        Assert.That(counts["c"], Is.InRange(0.45, 0.55));
    }

    [Test]
    public void Uri_WeightZeroServer_NeverPicked()
    {
        var be = Backend(BalanceAlgorithm.Uri, BalanceOptions.Default, S("a"), S("zero", 0), S("b"));
        for (int i = 0; i < 300; i++) Assert.That(Pick(be, $"/{i}"), Is.Not.EqualTo("zero"));
    }

    [Test]
    public void Uri_Exclude_GivesAnotherServer()
    {
        foreach (var options in new[] { BalanceOptions.Default, Consistent })
        {
            var be = Backend(BalanceAlgorithm.Uri, options, S("a"), S("b"), S("c"));
            for (int i = 0; i < 50; i++)
            {
                var owner = be.Servers.Single(s => s.Name == Pick(be, $"/x{i}"));
                Assert.That(Pick(be, $"/x{i}", exclude: owner), Is.Not.EqualTo(owner.Name).And.Not.EqualTo("-"));
            }
        }
    }

    [Test]
    public void UrlParam_SameValueSameServer_AbsentGoesRoundRobin()
    {
        var be = Backend(BalanceAlgorithm.UrlParam, BalanceOptions.Default with { UrlParam = "user" }, S("a"), S("b"), S("c"));
        var alice = Pick(be, "/cart?user=alice");
        for (int i = 0; i < 10; i++) Assert.That(Pick(be, $"/page{i}?lang=en&user=alice"), Is.EqualTo(alice));
        var rr = Enumerable.Range(0, 6).Select(i => Pick(be, $"/page?lang=en&n={i}")).ToArray();
        Assert.That(string.Join(" ", rr), Is.EqualTo("a b c a b c"));
        var users = Enumerable.Range(0, 300).Select(i => Pick(be, $"/?user=u{i}")).Distinct().Count();
        Assert.That(users, Is.EqualTo(3), "distinct values spread over every server");
    }

    [Test]
    public void Header_SameValueSameServer_AbsentGoesRoundRobin_DomainOnly()
    {
        var be = Backend(BalanceAlgorithm.Header, BalanceOptions.Default with { Header = "X-Tenant" }, S("a"), S("b"));
        var t1 = Pick(be, "/", "X-Tenant: t1\r\n");
        for (int i = 0; i < 10; i++) Assert.That(Pick(be, $"/{i}", "x-tenant: t1\r\n"), Is.EqualTo(t1));
        Assert.That(Pick(be, "/") + " " + Pick(be, "/") + " " + Pick(be, "/", "X-Tenant:\r\n"), Is.EqualTo("a b a"));

        var host = Backend(BalanceAlgorithm.Header, BalanceOptions.Default with { Header = "X-Site", UseDomainOnly = true },
            S("a"), S("b"), S("c"), S("d"));
        var example = Pick(host, "/", "X-Site: www.example.com\r\n");
        Assert.That(Pick(host, "/", "X-Site: api.example.com:8443\r\n"), Is.EqualTo(example));
        Assert.That(Pick(host, "/", "X-Site: example.org\r\n"), Is.EqualTo(example), "only 'example' is hashed");
    }

    [Test]
    public async Task Source_Consistent_SameClientSameServer()
    {
        var be = Backend(BalanceAlgorithm.Source, Consistent, S("a"), S("b"), S("c"));
        using var listener = Listen();
        using var client = await ConnectAsync((IPEndPoint)listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();
        var first = be.Picker.Pick(accepted.RemoteEndPoint as IPEndPoint, null);
        Assert.That(first, Is.Not.Null);
        for (int i = 0; i < 10; i++) Assert.That(be.Picker.Pick(accepted.RemoteEndPoint as IPEndPoint, null), Is.SameAs(first));
    }

    [Test]
    public void Source_FoldsAddressLikeHaproxy()
    {
        Assert.That(SourceBalancer.TryFold(IPAddress.Parse("10.1.2.3"), out uint v4), Is.True);
        Assert.That(v4, Is.EqualTo(0x0A010203u), "an IPv4 address is its own number");
        Assert.That(SourceBalancer.TryFold(IPAddress.Parse("2001:db8::1:0:0:1"), out uint v6), Is.True);
        Assert.That(v6, Is.EqualTo(0x20010db8u ^ 0x0u ^ 0x00010000u ^ 0x1u));
    }

    [Test]
    public void Random_TwoDraws_AvoidTheLoadedServer()
    {
        // Two equal servers, one busy: with two draws the busy one wins only when both draws hit it (1/4).
        var be = Backend(BalanceAlgorithm.Random, BalanceOptions.Default, S("busy"), S("idle"));
        for (int i = 0; i < 10; i++) be.Servers[0].Counters.OpenSession();
        int idle = 0;
        for (int i = 0; i < 4000; i++) if (be.Picker.Pick(NoClient, null)!.Name == "idle") idle++;
        TestContext.Out.WriteLine($"random(2), one server loaded: idle got {idle / 4000.0:P1} (ideal 75%)");
        Assert.That(idle, Is.InRange(2800, 3200));

        var one = Backend(BalanceAlgorithm.Random, BalanceOptions.Default with { RandomDraws = 1 }, S("busy"), S("idle"));
        for (int i = 0; i < 10; i++) one.Servers[0].Counters.OpenSession();
        idle = 0;
        for (int i = 0; i < 4000; i++) if (one.Picker.Pick(NoClient, null)!.Name == "idle") idle++;
        Assert.That(idle, Is.InRange(1800, 2200), "one draw ignores load");
    }

    [Test]
    public void Backup_AllBackups_BalancesOverEveryUsableBackupByWeight()
    {
        var be = new BackendRuntime(TcpTestKit.Backend([S("a"), S("b1", 1, backup: true), S("b2", 3, backup: true)]) with { AllBackups = true });
        Assert.That(Names(be, 4), Is.EqualTo("a a a a"));
        be.Servers[0].SetUp(false);
        var picks = Names(be, 400).Split(' ');
        Assert.That((picks.Count(n => n == "b1"), picks.Count(n => n == "b2")), Is.EqualTo((100, 300)));
        be.Servers[2].SetUp(false);
        Assert.That(Names(be, 2), Is.EqualTo("b1 b1"));
        be.Servers[0].SetUp(true);
        Assert.That(Names(be, 2), Is.EqualTo("a a"), "backups stop as soon as an active server is back");
    }

    [TestCase(BalanceAlgorithm.Uri, false)]
    [TestCase(BalanceAlgorithm.Uri, true)]
    [TestCase(BalanceAlgorithm.UrlParam, false)]
    [TestCase(BalanceAlgorithm.Header, true)]
    [TestCase(BalanceAlgorithm.Random, false)]
    public void Pick_AllocatesNothing(BalanceAlgorithm algorithm, bool consistent)
    {
        var options = (consistent ? Consistent : BalanceOptions.Default) with { UrlParam = "user", Header = "X-User", UseDomainOnly = true };
        var be = Backend(algorithm, options, S("a"), S("b", 2), S("c"));
        _head.Reset(HttpMessageKind.Request);
        HttpTestHelper.ParseRequest(_head, "GET /a/b/c?user=alice HTTP/1.1\r\nHost: h\r\nX-User: www.example.com\r\n\r\n");
        for (int i = 0; i < 100; i++) be.Picker.Pick(NoClient, _head, null);   // warm up (tiered JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) be.Picker.Pick(NoClient, _head, be.Servers[i % 3]);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static string Names(BackendRuntime be, int n) =>
        string.Join(" ", Enumerable.Range(0, n).Select(_ => be.Picker.Pick(NoClient, null)?.Name ?? "-"));
}
