namespace Proxy.Worker.Logging;

/// <summary>
/// A bounded lock-free queue of <see cref="TrafficLogRecord"/> slots: many sessions write, one logger thread reads
/// (Dmitry Vyukov's bounded MPMC queue, used here with a single consumer). A writer claims a slot with one CAS,
/// fills it in place and publishes it; when the ring is full the line is dropped and counted, so a slow log target
/// never blocks or slows a session. No lock, no allocation after construction.
/// </summary>
internal sealed class TrafficLogRing
{
    private readonly TrafficLogRecord[] _slots;
    private readonly long _mask;
    private long _tail;       // next position to claim (writers)
    private long _head;       // next position to read (the consumer only)
    private long _dropped;

    /// <param name="capacity">a power of two</param>
    public TrafficLogRing(int capacity)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two");
        _slots = new TrafficLogRecord[capacity];
        for (int i = 0; i < capacity; i++) _slots[i] = new TrafficLogRecord { Sequence = i };
        _mask = capacity - 1;
    }

    /// <summary>Lines dropped because the ring was full.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>A free slot to fill then <see cref="Publish"/>, or null when the ring is full (the line is dropped).</summary>
    public TrafficLogRecord? TryClaim()
    {
        while (true)
        {
            long pos = Volatile.Read(ref _tail);
            var slot = _slots[pos & _mask];
            long diff = Volatile.Read(ref slot.Sequence) - pos;
            if (diff == 0)
            {
                if (Interlocked.CompareExchange(ref _tail, pos + 1, pos) == pos)
                {
                    slot.Position = pos;
                    return slot;
                }
            }
            else if (diff < 0)
            {
                // The slot still holds a line from one lap ago: full.
                Interlocked.Increment(ref _dropped);
                return null;
            }
            // else another writer took this position: try the next one
        }
    }

    /// <summary>Makes a claimed slot visible to the reader.</summary>
    public static void Publish(TrafficLogRecord slot) => Volatile.Write(ref slot.Sequence, slot.Position + 1);

    /// <summary>The next published slot in order (consumer only), or null when there is none yet.</summary>
    public TrafficLogRecord? TryPeek()
    {
        var slot = _slots[_head & _mask];
        return Volatile.Read(ref slot.Sequence) == _head + 1 ? slot : null;
    }

    /// <summary>Hands the slot returned by <see cref="TryPeek"/> back to the writers (consumer only).</summary>
    public void Release(TrafficLogRecord slot)
    {
        slot.Sinks = [];
        Volatile.Write(ref slot.Sequence, _head + _slots.Length);
        _head++;
    }
}
