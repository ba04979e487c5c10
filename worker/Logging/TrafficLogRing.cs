namespace Proxy.Worker.Logging;

/// <summary>
/// A bounded lock-free queue of <see cref="TrafficLogRecord"/> entries: many sessions write, one logger thread reads
/// (Dmitry Vyukov's bounded MPMC queue, used here with a single consumer). A writer claims an entry with one CAS,
/// fills it in place and publishes it; when the ring is full the line is dropped and counted, so a slow log target
/// never blocks or slows a session. No lock, no allocation after construction.
/// </summary>
internal sealed class TrafficLogRing
{
    private readonly TrafficLogRecord[] _entries;
    private readonly long _mask;
    private long _tail;       // next position to claim (writers)
    private long _head;       // next position to read (the consumer only)
    private long _dropped;

    /// <param name="capacity">a power of two</param>
    public TrafficLogRing(int capacity)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two");
        _entries = new TrafficLogRecord[capacity];
        for (int i = 0; i < capacity; i++) _entries[i] = new TrafficLogRecord { Sequence = i };
        _mask = capacity - 1;
    }

    /// <summary>Lines dropped because the ring was full.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>A free entry to fill then <see cref="Publish"/>, or null when the ring is full (the line is dropped).</summary>
    public TrafficLogRecord? TryClaim()
    {
        while (true)
        {
            long pos = Volatile.Read(ref _tail);
            var entry = _entries[pos & _mask];
            long diff = Volatile.Read(ref entry.Sequence) - pos;
            if (diff == 0)
            {
                if (Interlocked.CompareExchange(ref _tail, pos + 1, pos) == pos)
                {
                    entry.Position = pos;
                    return entry;
                }
            }
            else if (diff < 0)
            {
                // The entry still holds a line from one lap ago: full.
                Interlocked.Increment(ref _dropped);
                return null;
            }
            // else another writer took this position: try the next one
        }
    }

    /// <summary>Makes a claimed entry visible to the reader.</summary>
    public static void Publish(TrafficLogRecord entry) => Volatile.Write(ref entry.Sequence, entry.Position + 1);

    /// <summary>The next published entry in order (consumer only), or null when there is none yet.</summary>
    public TrafficLogRecord? TryPeek()
    {
        var entry = _entries[_head & _mask];
        return Volatile.Read(ref entry.Sequence) == _head + 1 ? entry : null;
    }

    /// <summary>Hands the entry returned by <see cref="TryPeek"/> back to the writers (consumer only).</summary>
    public void Release(TrafficLogRecord entry)
    {
        entry.Sinks = [];
        entry.TagPid = null;
        Volatile.Write(ref entry.Sequence, _head + _entries.Length);
        _head++;
    }
}
