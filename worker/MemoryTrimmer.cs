namespace Proxy.Worker;

/// <summary>
/// Gives memory back to the system once a burst of traffic is over. The GC keeps the regions a burst used
/// committed and decommits its surplus only at later collections, and a worker that has gone quiet runs none:
/// measured with 5,000 idle keep-alive http sessions, the GC heap held 20 MB of live objects in 60-127 MB
/// committed for as long as the clients stayed idle (RSS per session 9-15 KB, depending only on when the last
/// collection had happened). So, checked once a second (<see cref="HousekeepingIntervals"/>) from the engine's timer:
/// when the worker had no traffic in the last second (no connection accepted, no request, no byte moved: the request path allocates nothing, so
/// allocations alone cannot tell) and allocated next to nothing, and at least <see cref="MinAllocatedSinceTrim"/>
/// since the last trim (so a quiet worker trims once, not every second), it runs one blocking, compacting,
/// aggressive collection, which also decommits what the heap no longer needs. The pause (a few milliseconds for
/// tens of MB) only ever falls on a worker with no traffic to delay.
/// </summary>
internal sealed class MemoryTrimmer
{
    /// <summary>How often the allocation rate is sampled: a worker quiet for one period is trimmed (production value).</summary>
    public const long DefaultCheckPeriodMs = HousekeepingIntervals.DefaultTrimCheckMs;
    /// <summary>Allocated bytes in one period under which the worker counts as quiet (the timer alone allocates a few KB).</summary>
    public const long QuietBytesPerPeriod = 256 * 1024;
    /// <summary>Bytes allocated since the last trim that make another one worth a full collection.</summary>
    public const long MinAllocatedSinceTrim = 2L * 1024 * 1024;

    private readonly Func<long> _allocatedBytes;
    private readonly Action _collect;
    private readonly long _checkPeriodMs;
    private long _lastCheckMs;
    private long _allocatedAtCheck;
    private long _allocatedAtTrim;
    private long _activityAtCheck;

    /// <summary>The engine's: the process's allocation counter and a real collection, sampled every
    /// <see cref="HousekeepingIntervals.TrimCheckMs"/> (PROXY_TRIM_CHECK_MS; 1 s unless a test shortens it).</summary>
    public MemoryTrimmer(long nowMs) : this(nowMs, static () => GC.GetTotalAllocatedBytes(precise: false),
        static () =>
        {
            Forwarding.ThreadArrayPool.TrimAll();   // the loop's spare buffers, kept since the last burst
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            HeapReport.AfterCollection();
        },
        HousekeepingIntervals.TrimCheckMs)
    {
    }

    /// <summary>With the allocation counter and the collection given (the tests drive the policy with their own).</summary>
    public MemoryTrimmer(long nowMs, Func<long> allocatedBytes, Action collect, long checkPeriodMs = DefaultCheckPeriodMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(checkPeriodMs);
        _allocatedBytes = allocatedBytes;
        _collect = collect;
        _checkPeriodMs = checkPeriodMs;
        _lastCheckMs = nowMs;
        _allocatedAtCheck = _allocatedAtTrim = allocatedBytes();
    }

    /// <summary>Collections run by this trimmer (for the tests).</summary>
    public int Trims { get; private set; }

    /// <summary>
    /// Called from the engine's timer thread; trims when the worker went quiet after allocating enough.
    /// <paramref name="activity"/>: any count that moves with traffic (connections, requests, bytes).
    /// </summary>
    public void OnTimer(long nowMs, long activity)
    {
        if (nowMs - _lastCheckMs < _checkPeriodMs) return;
        _lastCheckMs = nowMs;
        long allocated = _allocatedBytes();
        long lastPeriod = allocated - _allocatedAtCheck;
        _allocatedAtCheck = allocated;
        bool traffic = activity != _activityAtCheck;
        _activityAtCheck = activity;
        if (traffic || lastPeriod > QuietBytesPerPeriod || allocated - _allocatedAtTrim < MinAllocatedSinceTrim) return;
        _collect();
        _allocatedAtTrim = _allocatedBytes();
        Trims++;
    }
}
