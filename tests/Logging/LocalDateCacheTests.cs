using System.Globalization;
using System.Text;
using NUnit.Framework;
using Proxy.Worker.Logging;

namespace Proxy.Tests.Logging;

/// <summary>The log date worked out once per second (issue 18) prints what converting each time printed.</summary>
public class LocalDateCacheTests
{
    private static string LogDate(LocalDateCache cache, long utcTicks)
    {
        var buffer = new byte[64];
        var w = new LogLineWriter(buffer);
        cache.AppendLogDate(ref w, utcTicks);
        return Encoding.ASCII.GetString(buffer, 0, w.Length);
    }

    [Test]
    public void AppendLogDate_AcrossSeconds_MatchesTheLocalTimeOfEachInstant()
    {
        var cache = new LocalDateCache();
        long start = new DateTime(2026, 3, 29, 0, 59, 58, 990, DateTimeKind.Utc).Ticks;   // around a DST change in Europe
        for (long t = start; t < start + 4 * TimeSpan.TicksPerSecond; t += 37 * TimeSpan.TicksPerMillisecond)
        {
            var local = new DateTime(t, DateTimeKind.Utc).ToLocalTime();
            Assert.That(LogDate(cache, t), Is.EqualTo(local.ToString("dd/MMM/yyyy:HH:mm:ss.fff", CultureInfo.InvariantCulture)));
            Assert.That(cache.ToLocal(t), Is.EqualTo(new DateTimeOffset(local)));
            Assert.That(cache.ToLocal(t).Offset, Is.EqualTo(TimeZoneInfo.Local.GetUtcOffset(local)));
        }
    }

    [Test]
    public void AppendLogDate_TimeGoingBack_IsNotStuckOnTheCachedSecond()
    {
        var cache = new LocalDateCache();
        long later = new DateTime(2026, 11, 30, 12, 0, 5, DateTimeKind.Utc).Ticks, earlier = later - 3 * TimeSpan.TicksPerSecond;
        Assert.That(LogDate(cache, later), Does.EndWith(":05.000"));
        Assert.That(LogDate(cache, earlier), Does.EndWith(":02.000"));
    }
}
