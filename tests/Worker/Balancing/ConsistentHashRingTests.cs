using System.Net;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Balancing;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker.Balancing;

/// <summary>
/// `hash-type consistent` against `map-based` over 10,000 keys: how evenly keys spread, and how many move when the
/// server set changes. Keys are hashed as `hash-type consistent sdbm avalanche` would.
/// </summary>
public sealed class ConsistentHashRingTests
{
    private const int Keys = 10_000;

    // Tolerance on a moved or owned fraction around its ideal value, in absolute terms: 100 points per unit of weight
    // leave each server's share within about 10% of its weight (1 sigma); 0.05 on a share of 0.2 is 25%.
    private const double Tolerance = 0.05;

    private static readonly uint[] Hashes = Enumerable.Range(0, Keys)
        .Select(i => HashFunctions.Compute(HashFunction.Sdbm, true, Encoding.ASCII.GetBytes($"/objects/{i}.jpg"))).ToArray();

    private static ServerRuntime[] Servers(params int[] weights)
    {
        var configs = weights.Select((w, i) => Server("s" + (i + 1), new IPEndPoint(IPAddress.Loopback, 1), w)).ToArray();
        return new BackendRuntime(Backend(configs)).Servers;
    }

    private static ServerRuntime?[] Owners(Func<uint, ServerRuntime?> lookup) => Hashes.Select(lookup).ToArray();

    private static double Moved(ServerRuntime?[] before, ServerRuntime?[] after)
        => before.Zip(after).Count(p => p.First != p.Second) / (double)Keys;

    [TestCase(2)]
    [TestCase(4)]
    [TestCase(9)]
    public void AddServer_MovesAboutOneInNPlusOne_AllToTheNewServer(int n)
    {
        var all = Servers(Enumerable.Repeat(1, n + 1).ToArray());
        var before = Owners(h => ConsistentHashRing.Build(all[..n]).At(h, null));
        var ring = ConsistentHashRing.Build(all);
        var after = Owners(h => ring.At(h, null));
        double moved = Moved(before, after);
        TestContext.Out.WriteLine($"consistent, {n} -> {n + 1} servers: {moved:P1} of keys moved (ideal {1.0 / (n + 1):P1})");
        Assert.That(moved, Is.InRange(1.0 / (n + 1) - Tolerance, 1.0 / (n + 1) + Tolerance));
        for (int i = 0; i < Keys; i++)
            if (before[i] != after[i]) Assert.That(after[i], Is.SameAs(all[n]), "a key only ever moves to the new server");
    }

    [Test]
    public void RemoveServer_MovesOnlyThatServersKeys()
    {
        var all = Servers(1, 1, 1, 1, 1);
        var before = Owners(h => ConsistentHashRing.Build(all).At(h, null));
        var ring = ConsistentHashRing.Build([all[0], all[1], all[3], all[4]]);   // s3 removed (down, drained, weight 0)
        var after = Owners(h => ring.At(h, null));
        int moved = 0;
        for (int i = 0; i < Keys; i++)
        {
            if (before[i] == all[2]) { Assert.That(after[i], Is.Not.SameAs(all[2])); moved++; }
            else Assert.That(after[i], Is.SameAs(before[i]), "keys of the other servers stay");
        }
        TestContext.Out.WriteLine($"consistent, 5 -> 4 servers: {moved / (double)Keys:P1} of keys moved (s3's share)");
    }

    [Test]
    public void MapBased_AddServer_MovesMostKeys()
    {
        // Documented contrast: hash mod total weight reshuffles nearly everything when the total changes
        // (a key stays only where both moduli land on the same server).
        var all = Servers(1, 1, 1, 1, 1);
        var four = WeightedSchedule.Build(all[..4]);
        var five = WeightedSchedule.Build(all);
        double moved = Moved(Owners(h => four.At(h, null)), Owners(h => five.At(h, null)));
        TestContext.Out.WriteLine($"map-based, 4 -> 5 servers: {moved:P1} of keys moved");
        Assert.That(moved, Is.GreaterThan(0.6));
    }

    [Test]
    public void Weights_SharesFollowWeights()
    {
        var servers = Servers(1, 2, 3, 4);
        var ring = ConsistentHashRing.Build(servers);
        Assert.That(ring.PointCount, Is.EqualTo(10 * ConsistentHashRing.PointsPerWeight));
        var owners = Owners(h => ring.At(h, null));
        for (int i = 0; i < servers.Length; i++)
        {
            double share = owners.Count(o => o == servers[i]) / (double)Keys;
            TestContext.Out.WriteLine($"{servers[i].Name} weight {servers[i].Weight}: {share:P1} (ideal {servers[i].Weight / 10.0:P0})");
            Assert.That(share, Is.InRange(servers[i].Weight / 10.0 - Tolerance, servers[i].Weight / 10.0 + Tolerance), servers[i].Name);
        }
    }

    [Test]
    public void Build_SameServersAnyOrder_SameRing()
    {
        var s = Servers(1, 2, 1);
        var a = ConsistentHashRing.Build(s);
        var b = ConsistentHashRing.Build([s[2], s[0], s[1]]);
        Assert.That(Owners(h => a.At(h, null)), Is.EqualTo(Owners(h => b.At(h, null))));
    }

    [Test]
    public void At_Exclude_GivesAnotherServer_UnlessOnlyOne()
    {
        var s = Servers(1, 1, 1);
        var ring = ConsistentHashRing.Build(s);
        foreach (uint h in Hashes.Take(200))
        {
            var owner = ring.At(h, null);
            var other = ring.At(h, owner);
            Assert.That(other, Is.Not.Null.And.Not.SameAs(owner));
        }
        var single = ConsistentHashRing.Build([s[0]]);
        Assert.That(single.At(12345, s[0]), Is.SameAs(s[0]));
        Assert.That(ConsistentHashRing.Empty.At(1, null), Is.Null);
    }

    [Test]
    public void At_HashAboveLastPoint_WrapsToFirst()
    {
        var ring = ConsistentHashRing.Build(Servers(1, 1));
        Assert.That(ring.At(uint.MaxValue, null), Is.Not.Null);
        Assert.That(ring.At(uint.MaxValue, null), Is.SameAs(ring.At(0, null)));
    }

    [Test]
    public void HashBalanceFactor_SkipsAServerOverItsBound_AndSpreadsAHotKey()
    {
        var servers = Servers(1, 1, 1);
        var ring = ConsistentHashRing.Build(servers, balanceFactor: 150);
        var plain = ConsistentHashRing.Build(servers);
        uint hot = Hashes[0];
        var owner = plain.At(hot, null)!;
        Assert.That(ring.At(hot, null), Is.SameAs(owner), "under its bound the key stays on its server");
        // One hot key: each pick opens a session on whichever server it gets. 150% of the average caps the owner at
        // ceil((served + 1) * 1.5 / 3) (HAProxy's chash_server_is_eligible), so the load spreads over the ring.
        var counts = new Dictionary<ServerRuntime, int>();
        for (int i = 0; i < 30; i++)
        {
            var s = ring.At(hot, null)!;
            s.Counters.OpenSession();
            counts[s] = counts.GetValueOrDefault(s) + 1;
        }
        Assert.That(counts.Values.Max(), Is.LessThanOrEqualTo(15), "no server above 150% of the average (10)");
        Assert.That(counts[owner], Is.EqualTo(counts.Values.Max()), "the key's own server takes the most");
        Assert.That(plain.At(hot, null), Is.SameAs(owner), "without a factor the load is ignored");
    }
}
