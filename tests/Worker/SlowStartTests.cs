using NUnit.Framework;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Worker;

/// <summary>`slowstart` (5.2): a server back UP ramps its effective weight from 1 to its weight; never at start.</summary>
public class SlowStartTests
{
    private static BackendRuntime Backend(string options) => new(ParseValid(Lines(
        "defaults", "    mode tcp", "    timeout connect 5s", "backend app",
        $"    server s1 127.0.0.1:80 weight 100 {options}", "    server s2 127.0.0.1:81 weight 100")).Backends[0]);

    [Test]
    public void BackUp_RampsLinearly_ThenFull()
    {
        var s = Backend("check slowstart 10s").Servers[0];
        Assert.That(s.Weight, Is.EqualTo(100), "no ramp at start");
        s.SetUp(false);
        long upAt = Environment.TickCount64;
        s.SetUp(true);
        Assert.That(s.InSlowStart, Is.True);
        Assert.That(s.Weight, Is.InRange(1, 5), "from 1 right after coming up");
        s.AdvanceSlowStart(upAt + 5_000);
        Assert.That(s.Weight, Is.InRange(49, 52), "about half way at half the time");
        s.AdvanceSlowStart(upAt + 10_001);
        Assert.That((s.Weight, s.InSlowStart), Is.EqualTo((100, false)));
    }

    [Test]
    public void RestoredState_AndNoSlowStart_DoNotRamp()
    {
        var s = Backend("check slowstart 10s").Servers[0];
        s.SetUp(false, restored: true);
        s.SetUp(true, restored: true);
        Assert.That((s.Weight, s.InSlowStart), Is.EqualTo((100, false)), "a state taken at a worker's start is not a recovery");
        var plain = Backend("check").Servers[0];
        plain.SetUp(false);
        plain.SetUp(true);
        Assert.That(plain.Weight, Is.EqualTo(100));
    }

    [Test]
    public void SetWeight_DuringRamp_RampsTheNewWeight()
    {
        var s = Backend("check slowstart 10s").Servers[0];
        s.SetUp(false);
        s.SetUp(true);
        s.SetWeight(50);
        Assert.That(s.UserWeight, Is.EqualTo(50));
        Assert.That(s.Weight, Is.InRange(1, 3));
    }
}
