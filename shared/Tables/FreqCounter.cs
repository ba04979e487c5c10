namespace Proxy.Shared.Tables;

/// <summary>
/// HAProxy's frequency counter over a period (freq_ctr.h, update_freq_ctr_period / read_freq_ctr_period): events in
/// the current period plus the previous period's count weighted by the part of it still inside the sliding window
/// that ends now. Three i64 in an entry: [period start tick][current count][previous count]. Called with the entry's
/// bucket lock held (StickTableFile), so the three move together.
/// </summary>
public static unsafe class FreqCounter
{
    /// <summary>Adds <paramref name="n"/> events at <paramref name="now"/> (ms tick).</summary>
    public static void Add(long* ctr, long period, long now, long n)
    {
        Rotate(ctr, period, now);
        ctr[1] += n;
    }

    /// <summary>Events over the window of <paramref name="period"/> ms that ends at <paramref name="now"/>.</summary>
    public static long Read(long* ctr, long period, long now)
    {
        long start = ctr[0], curr = ctr[1], prev = ctr[2];
        long elapsed = now - start;
        if (elapsed >= 2 * period) return 0;
        if (elapsed >= period)
        {
            (prev, curr) = (curr, 0);
            elapsed -= period;
        }
        if (elapsed < 0) elapsed = 0;
        // As read_freq_ctr_period: curr + prev * remaining / period.
        return curr + (prev * (period - elapsed) + period - 1) / period;
    }

    /// <summary>Sets the counter to <paramref name="value"/> events in the current period (`set table ... data.X_rate V`).</summary>
    public static void Set(long* ctr, long period, long now, long value)
    {
        Rotate(ctr, period, now);
        ctr[1] = value;
        ctr[2] = 0;
    }

    private static void Rotate(long* ctr, long period, long now)
    {
        long elapsed = now - ctr[0];
        // A time a little before the period's start (another worker or thread read its clock just before the one that
        // started the period) counts in the current period rather than wiping both (review finding, sixteenth session).
        if (elapsed < period && elapsed > -period) return;
        if (elapsed >= 2 * period || elapsed < 0)
        {
            ctr[2] = 0;
            ctr[1] = 0;
            ctr[0] = now;
            return;
        }
        ctr[2] = ctr[1];
        ctr[1] = 0;
        ctr[0] += period;
    }
}
