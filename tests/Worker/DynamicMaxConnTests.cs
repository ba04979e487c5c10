using System.Net;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// A server's dynamic `maxconn` (HAProxy 2.6's srv_dynamic_maxconn()): `minconn` below `maxconn` scales with the
/// backend's load up to `fullconn`; a `slowstart` ramp scales it too.
/// </summary>
public class DynamicMaxConnTests
{
    private static BackendRuntime Backend(int minConn, int maxConn, int fullConn, TimeSpan slowStart = default)
    {
        var server = Server("s", new IPEndPoint(IPAddress.Loopback, 1), maxConn: maxConn) with
        {
            MinConn = minConn,
            CheckSettings = ServerCheckSettings.Default with { SlowStart = slowStart },
        };
        return new BackendRuntime(TcpTestKit.Backend([server]) with { FullConn = fullConn });
    }

    [TestCase(0, 1)]   // max(minconn 1, 0 * 4 / 8)
    [TestCase(3, 1)]   // 3 * 4 / 8 = 1
    [TestCase(4, 2)]
    [TestCase(6, 3)]
    [TestCase(7, 3)]
    [TestCase(8, 4)]   // at fullconn: maxconn
    [TestCase(20, 4)]  // above it: still maxconn
    public void MinConnBelowMaxConn_GrowsWithTheBackendLoad(int load, int expected)
    {
        var be = Backend(minConn: 1, maxConn: 4, fullConn: 8);
        for (int i = 0; i < load; i++) be.Enter();
        Assert.That(be.Servers[0].DynamicMaxConn(Environment.TickCount64), Is.EqualTo(expected));
        for (int i = 0; i < load; i++) be.Leave();
        Assert.That(be.Load!.InUse, Is.Zero, "every enter is taken back");
    }

    [Test]
    public void StaticLimit_KeepsNoLoadCount_AndIsMaxConn()
    {
        var be = Backend(minConn: 4, maxConn: 4, fullConn: 8);
        Assert.That(be.Load, Is.Null, "no server reads beconn: it is not counted");
        Assert.That(be.Servers[0].DynamicMaxConn(Environment.TickCount64), Is.EqualTo(4));
    }

    [Test]
    public void Permits_FollowTheDynamicLimit()
    {
        var be = Backend(minConn: 1, maxConn: 4, fullConn: 8);
        var s = be.Servers[0];
        for (int i = 0; i < 4; i++) be.Enter();          // load 4: limit 2
        Assert.That(s.TryTakePermit() && s.TryTakePermit(), Is.True);
        Assert.That(s.TryTakePermit(), Is.False, "a third permit is over the dynamic limit of 2");
        Assert.That(s.HasRoom, Is.False);
        for (int i = 0; i < 4; i++) be.Enter();          // load 8 = fullconn: limit 4
        Assert.That(s.HasRoom && s.TryTakePermit(), Is.True);
        s.Permits.Release(); s.Permits.Release(); s.Permits.Release();
        Assert.That(s.Served, Is.Zero);
    }

    [Test]
    public void SlowStart_ScalesTheLimitByTheRampsProgress_NeverBelowOne()
    {
        var be = Backend(minConn: 10, maxConn: 10, fullConn: 1, slowStart: TimeSpan.FromSeconds(10));
        var s = be.Servers[0];
        s.SetUp(false);
        s.SetUp(true);                                    // back UP: the ramp starts now
        long start = Environment.TickCount64;
        Assert.That(s.DynamicMaxConn(start), Is.EqualTo(1), "at the start of the ramp: 1, not 0");
        Assert.That(s.DynamicMaxConn(start + 5_000), Is.InRange(4, 5), "halfway: half of maxconn");
        Assert.That(s.DynamicMaxConn(start + 10_000), Is.EqualTo(10), "after the ramp: maxconn");
    }
}
