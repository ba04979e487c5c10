using NUnit.Framework;
using Proxy.Worker;

namespace Proxy.Tests.Worker;

/// <summary>The trim policy: one collection once the worker goes quiet after allocating enough, never while busy.</summary>
public class MemoryTrimmerTests
{
    private const long MB = 1024 * 1024;

    private sealed class Fake
    {
        public long Allocated;
        public int Collections;
        public MemoryTrimmer Trimmer(long now) => new(now, () => Allocated, () => Collections++);
    }

    [Test]
    public void QuietAfterABurst_TrimsOnce()
    {
        var f = new Fake();
        var t = f.Trimmer(0);
        f.Allocated += 40 * MB;          // the burst
        t.OnTimer(1000, 0);                 // busy period: no trim
        Assert.That(f.Collections, Is.EqualTo(0));
        f.Allocated += 10 * 1024;        // the timer's own crumbs
        t.OnTimer(2000, 0);                 // quiet: trim
        Assert.That(f.Collections, Is.EqualTo(1));
        f.Allocated += 10 * 1024;
        t.OnTimer(3000, 0);                 // still quiet, nothing new worth a collection
        t.OnTimer(4000, 0);
        Assert.That(f.Collections, Is.EqualTo(1));
        Assert.That(t.Trims, Is.EqualTo(1));
    }

    [Test]
    public void SteadyTraffic_NeverTrims()
    {
        var f = new Fake();
        var t = f.Trimmer(0);
        for (long now = 1000; now <= 30_000; now += 1000)
        {
            f.Allocated += 5 * MB;       // allocating every second: the GC runs on its own
            t.OnTimer(now, 0);
        }
        Assert.That(f.Collections, Is.EqualTo(0));
    }

    [Test]
    public void TrafficThatAllocatesNothing_StillCountsAsBusy()
    {
        var f = new Fake();
        var t = f.Trimmer(0);
        f.Allocated += 40 * MB;          // a burst of connections
        t.OnTimer(1000, 100);
        long requests = 100;
        for (long now = 2000; now <= 10_000; now += 1000)
        {
            requests += 5000;            // keep-alive requests: no allocation, but traffic
            t.OnTimer(now, requests);
        }
        Assert.That(f.Collections, Is.EqualTo(0));
        t.OnTimer(11_000, requests);     // the traffic stops
        Assert.That(f.Collections, Is.EqualTo(1));
    }

    [Test]
    public void QuietWithoutMuchAllocated_DoesNotCollect()
    {
        var f = new Fake();
        var t = f.Trimmer(0);
        f.Allocated += MemoryTrimmer.MinAllocatedSinceTrim - 1;
        t.OnTimer(1000, 0);
        t.OnTimer(2000, 0);
        t.OnTimer(3000, 0);
        Assert.That(f.Collections, Is.EqualTo(0));
    }

    [Test]
    public void ChecksAtMostOncePerPeriod()
    {
        var f = new Fake();
        var t = f.Trimmer(0);
        f.Allocated += 40 * MB;
        t.OnTimer(1000, 0);                 // sees the burst
        t.OnTimer(1100, 0);                 // too soon: not a new period, so not "quiet"
        t.OnTimer(1900, 0);
        Assert.That(f.Collections, Is.EqualTo(0));
        t.OnTimer(2000, 0);
        Assert.That(f.Collections, Is.EqualTo(1));
    }

    [Test]
    public void ShorterCheckPeriod_IsTheQuietTimeBeforeATrim()
    {
        var f = new Fake();
        var t = new MemoryTrimmer(0, () => f.Allocated, () => f.Collections++, checkPeriodMs: 50);
        f.Allocated += 40 * MB;
        t.OnTimer(50, 0);                   // sees the burst
        t.OnTimer(99, 0);                   // not a whole period yet
        Assert.That(f.Collections, Is.EqualTo(0));
        t.OnTimer(100, 0);                  // one quiet period of 50 ms
        Assert.That(f.Collections, Is.EqualTo(1));
    }

    [TestCase(null, 1000L)]
    [TestCase("", 1000L)]
    [TestCase("200", 200L)]
    public void IntervalFromTheEnvironment_UnsetMeansTheProductionValue(string? text, long expected)
    {
        Assert.That(HousekeepingIntervals.Parse(HousekeepingIntervals.TrimCheckVariable, text, 1000), Is.EqualTo(expected));
    }

    [TestCase("0")]
    [TestCase("-5")]
    [TestCase("1s")]
    [TestCase(" 200")]
    public void IntervalFromTheEnvironment_NotAPositiveNumberOfMilliseconds_IsRefused(string text)
    {
        var e = Assert.Throws<InvalidOperationException>(() => HousekeepingIntervals.Parse("PROXY_TRIM_CHECK_MS", text, 1000));
        Assert.That(e!.Message, Does.StartWith($"PROXY_TRIM_CHECK_MS={text}:"));
    }
}
