using NUnit.Framework;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Worker;

/// <summary>
/// `slowstart`'s timer against a DOWN and a `set weight` on other threads: a ramp step computed before the change must
/// not be written after it (ServerRuntime publishes the effective weight with a version, by compare-and-swap). The
/// step's two halves are driven apart here, so the interleaving that raced is played exactly, every time.
/// </summary>
public class SlowStartRaceTests
{
    private const long HalfWay = 1_800_000;   // half of `slowstart 1h`, in ms

    private static ServerRuntime RampingServer()
    {
        var s = new BackendRuntime(ParseValid(Lines(
            "defaults", "    mode tcp", "    timeout connect 5s", "backend app",
            "    server s1 127.0.0.1:80 weight 200 check slowstart 1h")).Backends[0]).Servers[0];
        s.SetUp(false);
        s.SetUp(true);                 // back UP: the ramp starts
        return s;
    }

    [Test]
    public void RampStep_ComputedBeforeADown_IsNotWrittenAfterIt()
    {
        var s = RampingServer();
        var step = s.ComputeStep(Environment.TickCount64 + HalfWay);   // the timer read the inputs: about 100
        Assert.That(step.Weight, Is.InRange(99, 101));
        s.SetUp(false);                                                   // DOWN meanwhile: the ramp ends
        Assert.That(s.TryPublishStep(step), Is.False, "the stale step loses its compare-and-swap");
        Assert.That(s.Weight, Is.EqualTo(200), "the user weight stays");
    }

    [Test]
    public void RampStep_ComputedBeforeASetWeight_IsNotWrittenAfterIt_AndTheNextStepUsesTheNewWeight()
    {
        var s = RampingServer();
        long at = Environment.TickCount64 + HalfWay;
        var step = s.ComputeStep(at);
        s.SetWeight(20);                                                  // `set weight` meanwhile
        Assert.That(s.TryPublishStep(step), Is.False);
        Assert.That(s.Weight, Is.LessThanOrEqualTo(20), "never the step's ~100, computed from the old weight");
        s.AdvanceSlowStart(at);
        Assert.That(s.Weight, Is.InRange(9, 11), "half of the new weight");
    }

    [Test]
    public void RampStep_WithNothingInBetween_IsWritten()
    {
        var s = RampingServer();
        var step = s.ComputeStep(Environment.TickCount64 + HalfWay);
        Assert.That(s.TryPublishStep(step), Is.True);
        Assert.That(s.Weight, Is.EqualTo(step.Weight));
    }
}
