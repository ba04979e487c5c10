using System.Runtime.ExceptionServices;
using NUnit.Framework;
using Proxy.Worker.Io;

namespace Proxy.Tests.Worker;

/// <summary>
/// The worker's millisecond clock (worker/Io/LoopClock.cs): on the loop thread the time of its last wake, anywhere else
/// Environment.TickCount64 itself. Each case runs on a thread of its own, so a tick never leaks into another test.
/// </summary>
public class LoopClockTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Test]
    public void OffTheLoop_ItIsTheClockItself()
    {
        long observed = RunOnOwnThread(() =>
        {
            long start = LoopClock.Milliseconds;
            // Generous: the thread may be preempted between the two reads on a busy CI box.
            Assert.That(Math.Abs(start - Environment.TickCount64), Is.LessThanOrEqualTo(1000), "the clock itself");
            // It moves with time: wait (with a deadline) until it has moved at least 50 ms.
            var deadline = Environment.TickCount64 + (long)Limit.TotalMilliseconds;
            while (LoopClock.Milliseconds - start < 50 && Environment.TickCount64 < deadline) Thread.Sleep(5);
            return LoopClock.Milliseconds - start;
        });
        Assert.That(observed, Is.GreaterThanOrEqualTo(50), "a thread that never ticked reads a moving clock");
    }

    [Test]
    public void OnALoopThread_ItHoldsTheLastWake_UntilTheNext()
    {
        var (held, ticked, real) = RunOnOwnThread(() =>
        {
            LoopClock.Tick();
            long wake = LoopClock.Milliseconds;
            var deadline = Environment.TickCount64 + (long)Limit.TotalMilliseconds;
            while (Environment.TickCount64 - wake < 50 && Environment.TickCount64 < deadline) Thread.Sleep(5);
            long held = LoopClock.Milliseconds - wake;   // no wake since: still the wake's time
            LoopClock.Tick();
            return (held, LoopClock.Milliseconds - wake, Environment.TickCount64 - wake);
        });
        Assert.That(held, Is.Zero, "between two wakes the loop reads the first wake's time");
        Assert.That(ticked, Is.GreaterThanOrEqualTo(50).And.LessThanOrEqualTo(real), "the next wake reads the clock again");
    }

    private static T RunOnOwnThread<T>(Func<T> body)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { result = body(); }
            catch (Exception e) { failure = e; }
        }) { IsBackground = true };
        thread.Start();
        Assert.That(thread.Join(Limit), Is.True, "the test thread ended in time");
        if (failure is not null) ExceptionDispatchInfo.Capture(failure).Throw();   // with the thread's stack trace
        return result;
    }
}
