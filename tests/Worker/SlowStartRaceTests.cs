using NUnit.Framework;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Worker;

/// <summary>
/// `slowstart`'s timer against a DOWN and a `set weight` on other threads: a ramp step computed before the change must
/// not be written after it (ServerRuntime publishes the effective weight with a version, by compare-and-swap).
/// </summary>
public class SlowStartRaceTests
{
    [Test]
    public void TimerStep_RacingDownAndSetWeight_NeverLeavesAStaleRampedWeight()
    {
        var be = new BackendRuntime(ParseValid(Lines(
            "defaults", "    mode tcp", "    timeout connect 5s", "backend app",
            "    server s1 127.0.0.1:80 weight 200 check slowstart 1h")).Backends[0]);
        var s = be.Servers[0];
        using var stop = new CancellationTokenSource();
        // The timer: always half way through the ramp, so every step it writes is a ramped weight (about half).
        var timer = new Thread(() =>
        {
            while (!stop.IsCancellationRequested) s.AdvanceSlowStart(Environment.TickCount64 + 1_800_000);
        });
        timer.Start();
        int stale = 0;
        try
        {
            long until = Environment.TickCount64 + 1500;
            for (int i = 0; Environment.TickCount64 < until; i++)
            {
                int weight = 100 + (i % 2) * 100;
                s.SetUp(true);                 // a ramp starts: the timer steps it
                Thread.SpinWait(50);
                s.SetWeight(weight);           // `set weight` during the ramp
                Thread.SpinWait(50);
                s.SetUp(false);                // DOWN ends the ramp: the effective weight is the user weight
                Thread.SpinWait(200);          // a stale step would land here
                if (s.Weight != s.UserWeight) stale++;
            }
        }
        finally
        {
            stop.Cancel();
            timer.Join();
        }
        Assert.That(stale, Is.Zero, "ramp steps computed before the DOWN were written after it");
        Assert.That(s.Weight, Is.EqualTo(s.UserWeight));
    }
}
