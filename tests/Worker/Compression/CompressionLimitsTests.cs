using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Compression;

namespace Proxy.Tests.Worker.Compression;

/// <summary>`maxcomprate`, `maxzlibmem` and `maxcompcpuusage` as one worker applies its share of them.</summary>
[NonParallelizable]
public class CompressionLimitsTests
{
    [Test]
    public void NoLimit_AlwaysAcquires()
    {
        var limits = new CompressionLimits(GlobalSettings.Default, workers: 2);
        for (int i = 0; i < 1000; i++) Assert.That(limits.TryAcquire(1000), Is.True);
        Assert.That((limits.RateLimit, limits.Level), Is.EqualTo((0L, 1)));
    }

    [Test]
    public void MaxCompRate_EachWorkerTakesItsShare_AndRefusesAboveIt()
    {
        var limits = new CompressionLimits(GlobalSettings.Default with { MaxCompRate = 100 }, workers: 2);
        Assert.That(limits.RateLimit, Is.EqualTo(50 * 1024), "100 kB/s over 2 workers");
        Assert.That(limits.TryAcquire(5_000), Is.True);
        limits.In.Add(5_000, 50 * 1024 + 1);
        Assert.That(limits.TryAcquire(5_100), Is.False, "input rate above the share");
        limits.SetRateLimit(0);
        Assert.That(limits.TryAcquire(5_200), Is.True, "`set rate-limit http-compression global 0` lifts it");
    }

    [Test]
    public void MaxZlibMem_BoundsConcurrentCodecs_AndReleaseGivesBack()
    {
        // 1 MB for one worker: two codecs of 384 KB.
        var limits = new CompressionLimits(GlobalSettings.Default with { MaxZlibMem = 1 }, workers: 1);
        Assert.That(limits.TryAcquire(0), Is.True);
        Assert.That(limits.TryAcquire(0), Is.True);
        Assert.That(limits.TryAcquire(0), Is.False, "a third would pass maxzlibmem");
        limits.Release();
        Assert.That(limits.TryAcquire(0), Is.True);
    }

    [Test]
    public void MaxCompCpuUsage_BusyWorker_Refuses()
    {
        var limits = new CompressionLimits(GlobalSettings.Default with { MaxCompCpuUsage = 1 }, workers: 1);
        long start = Environment.TickCount64;
        limits.SampleCpu(start);
        // Burn CPU for ~200 ms: well above 1% of the interval.
        long spin = Environment.TickCount64;
        double x = 0;
        while (Environment.TickCount64 - spin < 200) x += Math.Sqrt(x + 1);
        limits.SampleCpu(Environment.TickCount64);
        Assert.That(x, Is.GreaterThan(0));
        Assert.That(limits.TryAcquire(Environment.TickCount64), Is.False, "busier than maxcompcpuusage");
    }

    [Test]
    public void CompMaxLevel_IsTheLevel()
    {
        Assert.That(new CompressionLimits(GlobalSettings.Default with { CompMaxLevel = 6 }, 1).Level, Is.EqualTo(6));
    }
}
