using System.Runtime.CompilerServices;

namespace Proxy.Shared.Stats;

/// <summary>The life of a worker slot, stored in its identity; readers count gauges only for live ones.</summary>
public enum WorkerSlotState
{
    /// <summary>Unused; readers skip it. Only the supervisor leaves this state (ClaimSlot) and enters it (RetireSlot).</summary>
    Free = 0,
    Starting = 1,
    Running = 2,
    Draining = 3,
    /// <summary>The process is gone but its counters are not folded yet: they still count, its gauges no longer do.</summary>
    Exited = 4,
}

/// <summary>
/// The writer of one worker slot: the hot path of the stats board. One process owns a slot; inside
/// it, any thread may write (Interlocked), no lock is taken and nothing allocates. Object indexes come
/// from <see cref="StatsBoard.IndexOf(string)"/> once, at configuration time.
/// </summary>
public sealed unsafe class StatsSlot
{
    private readonly StatsBoard _board; // keeps the mapping alive as long as a slot writer is used
    private readonly long* _values;
    private readonly int _fieldCount;
    private readonly int _infoCount;
    private readonly int _objectCount;

    internal StatsSlot(StatsBoard board, BoardMapping map, int index)
    {
        _board = board;
        Index = index;
        _values = map.SlotValues(index);
        _fieldCount = map.Layout.FieldCount;
        _infoCount = map.Layout.InfoCount;
        _objectCount = map.Layout.ObjectCount;
        Identity = new SlotIdentityWriter(map, index);
    }

    /// <summary>The slot's index in the ring.</summary>
    public int Index { get; }

    internal SlotIdentityWriter Identity { get; }

    /// <summary>Adds <paramref name="delta"/> to a counter or gauge (gauges may take negative deltas).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int objectIndex, StatField field, long delta = 1) => Interlocked.Add(ref At(objectIndex, field), delta);

    /// <summary>Adds one to a counter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Increment(int objectIndex, StatField field) => Interlocked.Increment(ref At(objectIndex, field));

    /// <summary>Subtracts one from a gauge (scur, qcur).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Decrement(int objectIndex, StatField field) => Interlocked.Decrement(ref At(objectIndex, field));

    /// <summary>Stores a value (status, weight, averages, rates); a single aligned store, never torn.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Set(int objectIndex, StatField field, long value) => Volatile.Write(ref At(objectIndex, field), value);

    /// <summary>Raises a maximum (smax, qmax, rate_max) to <paramref name="value"/> if it is higher.</summary>
    public void RaiseMax(int objectIndex, StatField field, long value) => RaiseMax(ref At(objectIndex, field), value);

    /// <summary>Adds one to a gauge and raises its maximum: scur/smax and qcur/qmax move together.</summary>
    public void IncrementWithMax(int objectIndex, StatField gauge, StatField max)
    {
        long now = Interlocked.Increment(ref At(objectIndex, gauge));
        RaiseMax(ref At(objectIndex, max), now);
    }

    /// <summary>
    /// The <see cref="StatFields.Count"/> values of object <paramref name="objectIndex"/> in this slot, indexed by
    /// <see cref="StatField"/>: for a worker that counts in place, with no copy of its own (ProxyCounters). Valid while
    /// the board is mapped: call <see cref="StatsBoard.KeepMappedUntilExit"/> before handing it to other threads.
    /// Readers copy each value with one aligned 64-bit load, so a value is never torn: write with one aligned
    /// store, or Interlocked where more threads count.
    /// </summary>
    public long* Row(int objectIndex) => (long*)Unsafe.AsPointer(ref At(objectIndex, 0));

    /// <summary>The value this slot holds (not the total over workers).</summary>
    public long Get(int objectIndex, StatField field) => Volatile.Read(ref At(objectIndex, field));

    public void AddInfo(InfoField field, long delta = 1) => Interlocked.Add(ref InfoAt(field), delta);

    public void SetInfo(InfoField field, long value) => Volatile.Write(ref InfoAt(field), value);

    public void RaiseInfoMax(InfoField field, long value) => RaiseMax(ref InfoAt(field), value);

    public long GetInfo(InfoField field) => Volatile.Read(ref InfoAt(field));

    /// <summary>Publishes the worker's state (Running once ready, Draining on reload); one aligned store.</summary>
    public void SetState(WorkerSlotState state) => Identity.SetState(state);

    public WorkerSlotState State => Identity.State;

    /// <summary>Records the owner's pid when the supervisor could not (it claims the slot before spawning).</summary>
    public void SetPid(int pid) => Identity.SetPid(pid);

    /// <summary>Stamps "alive now"; the supervisor and readers use it to spot a stuck worker.</summary>
    public void Heartbeat() => Identity.Heartbeat(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref long At(int objectIndex, StatField field)
    {
        // The check is one compare on a hot path; an out-of-range index would corrupt another slot.
        if ((uint)objectIndex >= (uint)_objectCount) ThrowObjectIndex(objectIndex);
        return ref _values[_infoCount + objectIndex * _fieldCount + (int)field];
    }

    private ref long InfoAt(InfoField field) => ref _values[(int)field];

    private static void RaiseMax(ref long location, long value)
    {
        long seen = Volatile.Read(ref location);
        while (value > seen)
        {
            long was = Interlocked.CompareExchange(ref location, value, seen);
            if (was == seen) return;
            seen = was;
        }
    }

    private static void ThrowObjectIndex(int index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, "no such object on the stats board");

    internal StatsBoard Board => _board;
}

/// <summary>Single-word writes to a slot's identity: each is one aligned 64-bit store, so no seqlock is needed.</summary>
internal readonly struct SlotIdentityWriter(BoardMapping map, int slot)
{
    public WorkerSlotState State => (WorkerSlotState)Volatile.Read(ref map.SlotWord(slot, BoardLayout.SState));

    public void SetState(WorkerSlotState state) => Volatile.Write(ref map.SlotWord(slot, BoardLayout.SState), (long)state);

    public void SetPid(int pid) => Volatile.Write(ref map.SlotWord(slot, BoardLayout.SPid), pid);

    public void Heartbeat(long unixMs) => Volatile.Write(ref map.SlotWord(slot, BoardLayout.SHeartbeatMs), unixMs);
}
