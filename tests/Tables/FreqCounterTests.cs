using NUnit.Framework;
using Proxy.Shared.Tables;

namespace Proxy.Tests.Tables;

/// <summary>
/// The stick tables' frequency counter (shared/Tables/FreqCounter.cs) when the times it is given are not in order:
/// workers and threads read their own clocks, so one may count an event a few milliseconds before the period another
/// one started. Such an event belongs to the current period; only a time a whole period or more before it resets.
/// </summary>
public class FreqCounterTests
{
    private const long Period = 1000;

    [Test]
    public void ATimeALittleBeforeThePeriodStart_CountsInTheCurrentPeriod()
    {
        var ctr = new long[3];
        Count(ctr, now: 10_000, n: 5);          // starts the period at 10,000
        Count(ctr, now: 11_000, n: 3);          // the next period: 5 become the previous count
        Count(ctr, now: 10_997, n: 2);          // a writer whose clock read 3 ms earlier
        Assert.That(ctr[0], Is.EqualTo(11_000), "the period stays");
        Assert.That(ctr[1], Is.EqualTo(5), "3 + 2 in the current period");
        Assert.That(ctr[2], Is.EqualTo(5), "the previous period's count is kept");
        Assert.That(Read(ctr, now: 11_000), Is.EqualTo(10), "5 now plus the whole previous 5");
    }

    [Test]
    public void ATimeAPeriodOrMoreBeforeThePeriodStart_Resets()
    {
        var ctr = new long[3];
        Count(ctr, now: 10_000, n: 5);
        Count(ctr, now: 8_999, n: 1);           // a clock that went back by more than a period: start over
        Assert.That(ctr[0], Is.EqualTo(8_999));
        Assert.That(ctr[1], Is.EqualTo(1));
        Assert.That(ctr[2], Is.Zero);
    }

    private static unsafe void Count(long[] ctr, long now, long n)
    {
        fixed (long* p = ctr) FreqCounter.Add(p, Period, now, n);
    }

    private static unsafe long Read(long[] ctr, long now)
    {
        fixed (long* p = ctr) return FreqCounter.Read(p, Period, now);
    }
}
