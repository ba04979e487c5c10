using System.Net.Sockets;
using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// Every `balance` algorithm with real requests through one engine to several origins on 127.0.0.1, configured in
/// HAProxy syntax. Each origin answers "hello from NAME", so the body tells which server got the request.
/// </summary>
public class BalancingTrafficTests
{
    /// <summary>Origins named o1..oN, disposed with the fixture's test.</summary>
    private static HttpOrigin[] Origins(int n) => Enumerable.Range(1, n).Select(i => new HttpOrigin("o" + i)).ToArray();

    private static async Task DisposeAll(HttpOrigin[] origins)
    {
        foreach (var o in origins) await o.DisposeAsync();
    }

    private static string ServerLines(HttpOrigin[] origins, params string[] options) =>
        string.Join("\n", origins.Select((o, i) => Server(o.Name, o) + (i < options.Length ? " " + options[i] : "")));

    /// <summary>Sends one request on <paramref name="c"/> (keep-alive) and returns the name of the origin that answered.</summary>
    private static async Task<string> AskAsync(Socket c, string target, string headers = "Host: h\r\n")
    {
        await SendAsync(c, $"GET {target} HTTP/1.1\r\n{headers}\r\n");
        var response = await new HttpReader(c).ReadAsync(true);
        Assert.That(response, Is.Not.Null, target);
        Assert.That(response!.Status, Is.EqualTo(200), target);
        return response.BodyText["hello from ".Length..];
    }

    /// <summary>One request on a new connection.</summary>
    private static async Task<string> AskNewAsync(EngineHarness proxy, string target, string headers = "Host: h\r\n")
    {
        using var c = await proxy.ConnectAsync();
        return await AskAsync(c, target, headers);
    }

    private static Dictionary<string, int> Count(IEnumerable<string> names) => names.GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());

    [Test]
    public async Task RoundRobin_Weights31_400Requests_WithinThreePercent()
    {
        var o = Origins(2);
        try
        {
            await using var proxy = StartFromText(HttpConfig(ServerLines(o, "weight 3", "weight 1"), backendExtra: "    balance roundrobin"));
            var names = new List<string>();
            for (int i = 0; i < 400; i++) names.Add(await AskNewAsync(proxy, $"/r{i}"));
            var counts = Count(names);
            TestContext.Out.WriteLine($"roundrobin 3:1 over 400: o1 {counts["o1"]}, o2 {counts["o2"]}");
            Assert.That(counts["o1"], Is.InRange(300 - 12, 300 + 12));
            Assert.That(counts["o2"], Is.InRange(100 - 12, 100 + 12));
        }
        finally { await DisposeAll(o); }
    }

    [Test]
    public async Task RoundRobin_KeepAlive_EachRequestBalanced()
    {
        var o = Origins(2);
        try
        {
            await using var proxy = StartFromText(HttpConfig(ServerLines(o, "weight 3", "weight 1")));
            using var c = await proxy.ConnectAsync();
            var names = new List<string>();
            for (int i = 0; i < 40; i++) names.Add(await AskAsync(c, $"/k{i}"));
            Assert.That(Count(names)["o1"], Is.EqualTo(30));
        }
        finally { await DisposeAll(o); }
    }

    [TestCase("")]
    [TestCase("    hash-type consistent sdbm avalanche")]
    public async Task Uri_SameUriSameServer_DistinctUrisSpread(string hashType)
    {
        var o = Origins(3);
        try
        {
            await using var proxy = StartFromText(HttpConfig(ServerLines(o), backendExtra: "    balance uri\n" + hashType));
            var owner = new Dictionary<int, string>();
            for (int round = 0; round < 3; round++)
            {
                using var c = await proxy.ConnectAsync();   // a new connection per round: the pick is per request
                for (int i = 0; i < 40; i++)
                {
                    var name = await AskAsync(c, $"/static/item{i}.css?round={round}");
                    if (round == 0) owner[i] = name;
                    else Assert.That(name, Is.EqualTo(owner[i]), $"/static/item{i}.css");
                }
            }
            var counts = Count(owner.Values);
            TestContext.Out.WriteLine($"uri {hashType.Trim()}: 40 URIs -> " + string.Join(", ", counts.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}")));
            Assert.That(counts.Keys, Is.EquivalentTo(new[] { "o1", "o2", "o3" }), "distinct URIs reach every server");
        }
        finally { await DisposeAll(o); }
    }

    [Test]
    public async Task Uri_Consistent_AddingAServerMovesOnlyItsShare()
    {
        var o = Origins(4);
        try
        {
            const string Balance = "    balance uri\n    hash-type consistent djb2 avalanche";
            async Task<string[]> OwnersAsync(HttpOrigin[] servers)
            {
                await using var proxy = StartFromText(HttpConfig(ServerLines(servers), backendExtra: Balance));
                using var c = await proxy.ConnectAsync();
                var names = new string[200];
                for (int i = 0; i < names.Length; i++) names[i] = await AskAsync(c, $"/video/{i}.mp4");
                return names;
            }
            var before = await OwnersAsync(o[..3]);
            var after = await OwnersAsync(o);
            int moved = 0;
            for (int i = 0; i < before.Length; i++)
            {
                if (before[i] == after[i]) continue;
                moved++;
                Assert.That(after[i], Is.EqualTo("o4"), "a key moves only to the new server");
            }
            TestContext.Out.WriteLine($"consistent uri, 3 -> 4 servers: {moved} of 200 keys moved (ideal 50)");
            Assert.That(moved, Is.InRange(25, 75));
        }
        finally { await DisposeAll(o); }
    }

    [Test]
    public async Task UrlParam_SameValueSameServer_AbsentRoundRobin()
    {
        var o = Origins(3);
        try
        {
            await using var proxy = StartFromText(HttpConfig(ServerLines(o), backendExtra: "    balance url_param user"));
            var owner = new Dictionary<int, string>();
            for (int round = 0; round < 2; round++)
                for (int u = 0; u < 30; u++)
                {
                    var name = await AskNewAsync(proxy, $"/account?lang=en&user=u{u}&page={round}");
                    if (round == 0) owner[u] = name;
                    else Assert.That(name, Is.EqualTo(owner[u]), $"user u{u}");
                }
            Assert.That(owner.Values.Distinct().Count(), Is.EqualTo(3));
            var rr = new List<string>();
            for (int i = 0; i < 6; i++) rr.Add(await AskNewAsync(proxy, $"/account?lang=en&n={i}"));
            Assert.That(Count(rr).Values, Is.All.EqualTo(2), "no parameter: round robin over the three servers");
        }
        finally { await DisposeAll(o); }
    }

    [Test]
    public async Task HdrHost_UseDomainOnly_SameDomainSameServer_AbsentRoundRobin()
    {
        var o = Origins(3);
        try
        {
            await using var proxy = StartFromText(HttpConfig(ServerLines(o), backendExtra: "    balance hdr(host) use_domain_only"));
            var owner = new Dictionary<int, string>();
            for (int d = 0; d < 30; d++)
            {
                owner[d] = await AskNewAsync(proxy, "/", $"Host: www.site{d}.com\r\n");
                Assert.That(await AskNewAsync(proxy, "/x", $"Host: api.site{d}.com:8080\r\n"), Is.EqualTo(owner[d]), $"site{d}");
            }
            Assert.That(owner.Values.Distinct().Count(), Is.EqualTo(3));
        }
        finally { await DisposeAll(o); }
    }

    [Test]
    public async Task Hdr_Absent_RoundRobin()
    {
        var o = Origins(2);
        try
        {
            await using var proxy = StartFromText(HttpConfig(ServerLines(o), backendExtra: "    balance hdr(X-Tenant)"));
            var rr = new List<string>();
            for (int i = 0; i < 6; i++) rr.Add(await AskNewAsync(proxy, "/"));
            Assert.That(Count(rr).Values, Is.All.EqualTo(3));
            var t = await AskNewAsync(proxy, "/", "Host: h\r\nX-Tenant: acme\r\n");
            for (int i = 0; i < 5; i++) Assert.That(await AskNewAsync(proxy, "/", "Host: h\r\nX-Tenant: acme\r\n"), Is.EqualTo(t));
        }
        finally { await DisposeAll(o); }
    }

    [Test]
    public async Task Random_TwoDraws_IdleFarm_FollowsWeights()
    {
        var o = Origins(2);
        try
        {
            await using var proxy = StartFromText(HttpConfig(ServerLines(o, "weight 3", "weight 1"), backendExtra: "    balance random"));
            var servers = proxy.Engine.Backends[0].Servers;
            var names = new List<string>();
            for (int i = 0; i < 400; i++)
            {
                // Idle farm: the previous session has let its server go (else the two draws would favour the other one).
                await ProxyEngineTests.WaitUntilAsync(() => servers.All(s => s.CurrentSessions == 0));
                names.Add(await AskNewAsync(proxy, "/"));
            }
            int o1 = Count(names)["o1"];
            TestContext.Out.WriteLine($"random(2) 3:1 over 400: o1 {o1} ({o1 / 4.0:F1}%)");
            Assert.That(o1, Is.InRange(300 - 28, 300 + 28));   // 3.5 sigma of a binomial(400, 0.75)
        }
        finally { await DisposeAll(o); }
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task Backups_AllBackups_SpreadsOverEveryBackup(bool allBackups)
    {
        var o = Origins(3);
        try
        {
            // o1 is the active server, in maintenance from the start; o2 and o3 are backups.
            await using var proxy = StartFromText(HttpConfig(ServerLines(o, "disabled", "backup", "backup weight 2"),
                backendExtra: allBackups ? "    option allbackups" : ""));
            var names = new List<string>();
            for (int i = 0; i < 60; i++) names.Add(await AskNewAsync(proxy, "/"));
            var counts = Count(names);
            if (allBackups)
                Assert.That((counts.GetValueOrDefault("o2"), counts.GetValueOrDefault("o3")), Is.EqualTo((20, 40)));
            else
                Assert.That(counts.Keys, Is.EqualTo(new[] { "o2" }), "without allbackups only the first backup serves");
        }
        finally { await DisposeAll(o); }
    }
}
