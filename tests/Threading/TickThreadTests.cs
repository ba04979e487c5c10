using NUnit.Framework;
using Proxy.Shared.Threading;

namespace Proxy.Tests.Threading;

/// <summary>TickThread: ticks come, never overlap, and disposal waits for the tick in progress (or not, from inside one).</summary>
public class TickThreadTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Test]
    public async Task TicksComeOneAtATime()
    {
        int running = 0, overlaps = 0, ticks = 0;
        using var fiveTicks = new SemaphoreSlim(0);
        var thread = new TickThread("test-tick", TimeSpan.FromMilliseconds(5), () =>
        {
            if (Interlocked.Increment(ref running) > 1) Interlocked.Increment(ref overlaps);
            Thread.Sleep(10);   // longer than the period: a timer would start the next tick meanwhile
            Interlocked.Decrement(ref running);
            if (Interlocked.Increment(ref ticks) == 5) fiveTicks.Release();
        });
        try
        {
            Assert.That(await fiveTicks.WaitAsync(Deadline), Is.True, "five ticks within the deadline");
        }
        finally
        {
            await thread.DisposeAsync();
        }
        Assert.That(overlaps, Is.Zero);
    }

    [Test]
    public async Task DisposeWaitsForTheTickInProgress()
    {
        using var inTick = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        int finished = 0;
        var thread = new TickThread("test-tick", TimeSpan.FromMilliseconds(1), () =>
        {
            inTick.Release();
            release.Wait(Deadline);
            Volatile.Write(ref finished, 1);
        });
        Assert.That(await inTick.WaitAsync(Deadline), Is.True, "a tick started");
        var disposing = thread.DisposeAsync().AsTask();
        await Task.Delay(50);
        Assert.That(disposing.IsCompleted, Is.False, "disposal returned while a tick ran");
        release.Set();
        Assert.That(await Task.WhenAny(disposing, Task.Delay(Deadline)), Is.SameAs(disposing), "disposal completes once the tick ends");
        Assert.That(Volatile.Read(ref finished), Is.EqualTo(1));
    }

    [Test]
    public async Task DisposeFromInsideATickReturnsAndStopsTheTicks()
    {
        TickThread? thread = null;
        int ticks = 0;
        using var disposed = new SemaphoreSlim(0);
        using var ready = new ManualResetEventSlim();
        thread = new TickThread("test-tick", TimeSpan.FromMilliseconds(1), () =>
        {
            ready.Wait(Deadline);
            Interlocked.Increment(ref ticks);
            var dispose = thread!.DisposeAsync();
            if (dispose.IsCompleted) disposed.Release();
        });
        ready.Set();
        Assert.That(await disposed.WaitAsync(Deadline), Is.True, "disposal from a tick completed at once");
        await Task.Delay(50);
        Assert.That(Volatile.Read(ref ticks), Is.EqualTo(1), "no tick after disposal");
    }

    [Test]
    public async Task DisposedBeforeTheFirstTickNeverTicks()
    {
        int ticks = 0;
        var thread = new TickThread("test-tick", TimeSpan.FromMilliseconds(200), () => Interlocked.Increment(ref ticks));
        var disposing = thread.DisposeAsync().AsTask();
        Assert.That(await Task.WhenAny(disposing, Task.Delay(Deadline)), Is.SameAs(disposing), "disposal completes");
        await Task.Delay(300);
        Assert.That(Volatile.Read(ref ticks), Is.Zero);
    }
}
