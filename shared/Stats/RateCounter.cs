namespace Proxy.Shared.Stats;

/// <summary>
/// Events per second over the last second, the way HAProxy's freq_ctr measures `rate`, `req_rate`
/// and ConnRate: the count of the current second plus the previous second's count weighted by the
/// part of it still inside the sliding one-second window. The worker keeps one per object it rates
/// and publishes it to the board on its timer, e.g.
/// <c>slot.Set(i, StatField.Rate, r.Read(now)); slot.RaiseMax(i, StatField.RateMax, r.Read(now));</c>.
/// </summary>
/// <remarks>
/// <see cref="Add"/> is lock-free; the once-a-second rotation takes a lock. An event racing with the
/// rotation may land in the neighbouring second: a rate estimate tolerates that, a counter would not
/// (counters go to the board with <see cref="StatsSlot.Add"/>).
/// </remarks>
public sealed class RateCounter
{
    private readonly Lock _rotate = new();
    private long _second;  // the current second (Unix ms / 1000)
    private long _current; // events in _second
    private long _previous; // events in _second - 1

    /// <summary>Counts <paramref name="count"/> events at <paramref name="nowMs"/> (Unix milliseconds, or any monotonic ms clock).</summary>
    public void Add(long nowMs, long count = 1)
    {
        long second = nowMs / 1000;
        if (second != Volatile.Read(ref _second)) Rotate(second);
        Interlocked.Add(ref _current, count);
    }

    /// <summary>Events per second over the second that ends at <paramref name="nowMs"/>.</summary>
    public long Read(long nowMs)
    {
        long second = nowMs / 1000;
        long at = Volatile.Read(ref _second);
        long current = Volatile.Read(ref _current), previous = Volatile.Read(ref _previous);
        if (second == at + 1) (previous, current) = (current, 0);
        else if (second != at) (previous, current) = (0, 0);
        long remainingMs = 1000 - nowMs % 1000;
        return current + (previous * remainingMs + 999) / 1000;
    }

    private void Rotate(long second)
    {
        lock (_rotate)
        {
            long at = _second;
            if (second <= at) return; // another thread rotated already (or the clock stepped back)
            long current = Interlocked.Exchange(ref _current, 0);
            Volatile.Write(ref _previous, second == at + 1 ? current : 0);
            Volatile.Write(ref _second, second);
        }
    }
}
