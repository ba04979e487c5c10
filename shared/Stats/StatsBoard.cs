using Proxy.Shared.Config;

namespace Proxy.Shared.Stats;

/// <summary>
/// The stats board of one instance: a memory-mapped file with a table of named objects, the
/// retired totals of gone workers and a ring of worker slots (see BoardLayout for the bytes).
/// The supervisor creates it (<see cref="Create(string, IReadOnlyList{StatObjectDescriptor}, int, long)"/>),
/// claims and retires slots, and replaces it on reload (<see cref="Reconfigure"/>). A worker opens it
/// (<see cref="Open"/>) and writes only its own slot (<see cref="Slot"/>). Readers use <see cref="StatsBoardReader"/>.
/// </summary>
public sealed unsafe partial class StatsBoard : IDisposable
{
    private readonly BoardMapping _map;
    private readonly StatObjectDescriptor[] _objects;
    private readonly Dictionary<string, int> _indexByKey;
    private readonly StatsSlot?[] _slots;
    // Claim, retire and reconfigure come from the supervisor only; this lock orders them among its
    // own threads. Workers and readers never take it.
    private readonly Lock _supervisorLock = new();

    private StatsBoard(BoardMapping map, StatObjectDescriptor[] objects)
    {
        _map = map;
        _objects = objects;
        _indexByKey = new Dictionary<string, int>(objects.Length, StringComparer.Ordinal);
        for (int i = 0; i < objects.Length; i++)
        {
            if (!_indexByKey.TryAdd(objects[i].Key, i))
                throw new ArgumentException($"object '{objects[i].Key}' appears twice", nameof(objects));
        }
        _slots = new StatsSlot?[map.Layout.SlotCount];
        _mirrors = new Mirror?[map.Layout.SlotCount];
    }

    /// <summary>
    /// Creates the board file at <paramref name="path"/> (mode 0640, replacing any file there) for
    /// <paramref name="objects"/> and <paramref name="slotCount"/> worker slots, all free and zero.
    /// </summary>
    /// <param name="slotCount">Room for two generations at once (reload): see <see cref="DefaultSlotCount"/>.</param>
    public static StatsBoard Create(string path, IReadOnlyList<StatObjectDescriptor> objects, int slotCount, long generation = 1)
    {
        var layout = Validate(objects, slotCount);
        var map = BoardMapping.Create(path, layout);
        try
        {
            var board = Initialize(map, objects, generation);
            map.Publish();
            return board;
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>Creates the board for every frontend, listener, backend and server of <paramref name="config"/>.</summary>
    public static StatsBoard Create(string path, ProxyConfig config, int slotCount, long generation = 1) =>
        Create(path, StatObjects.FromConfig(config), slotCount, generation);

    /// <summary>Two slots per worker: a reload's new generation starts while the old one drains.</summary>
    public static int DefaultSlotCount(int workerCount) => Math.Max(2, workerCount * 2);

    /// <summary>Maps an existing board read-write: what a worker does before writing its slot.</summary>
    public static StatsBoard Open(string path)
    {
        var map = BoardMapping.Open(path, writable: true);
        try
        {
            var objects = new StatObjectDescriptor[map.Layout.ObjectCount];
            for (int i = 0; i < objects.Length; i++) objects[i] = map.ReadObject(i);
            return new StatsBoard(map, objects);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    public string Path => _map.Path;

    /// <summary>The objects in board order; an object's position is its index for <see cref="StatsSlot"/>.</summary>
    public IReadOnlyList<StatObjectDescriptor> Objects => _objects;

    public int SlotCount => _map.Layout.SlotCount;

    /// <summary>The configuration generation the supervisor runs now; readers show it.</summary>
    public long Generation
    {
        get => Volatile.Read(ref _map.HeaderWord(BoardLayout.HGeneration));
        set => Volatile.Write(ref _map.HeaderWord(BoardLayout.HGeneration), value);
    }

    /// <summary>The index of the object named "pxname/svname" (e.g. "app/web1", "www/FRONTEND"); throws if absent.</summary>
    public int IndexOf(string key) =>
        _indexByKey.TryGetValue(key, out int i) ? i : throw new KeyNotFoundException($"no object '{key}' on the stats board");

    public int IndexOf(StatObjectDescriptor obj) => IndexOf(obj.Key);

    public bool TryIndexOf(string key, out int index) => _indexByKey.TryGetValue(key, out index);

    /// <summary>The writer of slot <paramref name="slot"/>; cheap to call, cache it on the hot path.</summary>
    public StatsSlot Slot(int slot)
    {
        if ((uint)slot >= (uint)_slots.Length)
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"the board has {_slots.Length} slots");
        return _slots[slot] ??= new StatsSlot(this, _map, slot);
    }

    /// <summary>The state of a slot as readers see it.</summary>
    public WorkerSlotState StateOf(int slot) => Slot(slot).State;

    /// <summary>The slot's last heartbeat, Unix milliseconds: what the supervisor's worker watchdog reads.</summary>
    public long HeartbeatMsOf(int slot)
    {
        Slot(slot); // range check
        return Volatile.Read(ref _map.SlotWord(slot, BoardLayout.SHeartbeatMs));
    }

    /// <summary>The lowest free slot, or -1 when every slot is taken.</summary>
    public int FindFreeSlot()
    {
        for (int k = 0; k < _slots.Length; k++)
        {
            if (StateOf(k) == WorkerSlotState.Free && _mirrors[k] is null) return k;
        }
        return -1;
    }

    /// <summary>
    /// Supervisor: gives free slot <paramref name="slot"/> to a worker of <paramref name="generation"/>
    /// (state Starting, every value zero). <paramref name="pid"/> may be 0 and set later with
    /// <see cref="StatsSlot.SetPid"/>; <paramref name="cpu"/> is -1 when not pinned.
    /// </summary>
    public StatsSlot ClaimSlot(int slot, long generation, int pid = 0, int cpu = -1)
    {
        var writer = Slot(slot);
        lock (_supervisorLock)
        {
            if (writer.State != WorkerSlotState.Free || _mirrors[slot] is not null)
                throw new InvalidOperationException($"stats slot {slot} is in use ({writer.State})");
            BeginFold();
            try
            {
                // Zeroed while still Free, under the fold sequence: no reader counts it half-reset.
                long* v = _map.SlotValues(slot);
                for (int i = 0; i < _map.Layout.ValueCount; i++) Volatile.Write(ref v[i], 0);
                Volatile.Write(ref _map.SlotWord(slot, BoardLayout.SPid), pid);
                Volatile.Write(ref _map.SlotWord(slot, BoardLayout.SGeneration), generation);
                Volatile.Write(ref _map.SlotWord(slot, BoardLayout.SCpu), cpu);
                long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                Volatile.Write(ref _map.SlotWord(slot, BoardLayout.SStartedMs), now);
                Volatile.Write(ref _map.SlotWord(slot, BoardLayout.SHeartbeatMs), now);
                writer.SetState(WorkerSlotState.Starting);
            }
            finally
            {
                EndFold();
            }
        }
        return writer;
    }

    /// <summary>Claims <see cref="FindFreeSlot"/>; throws when the ring is full (size it with <see cref="DefaultSlotCount"/>).</summary>
    public StatsSlot ClaimFreeSlot(long generation, int pid = 0, int cpu = -1)
    {
        lock (_supervisorLock)
        {
            int k = FindFreeSlot();
            if (k < 0) throw new InvalidOperationException($"all {_slots.Length} stats slots are in use");
            return ClaimSlot(k, generation, pid, cpu);
        }
    }

    /// <summary>
    /// Supervisor, as soon as it reaps the worker: its gauges (scur, qcur, rates) stop counting at
    /// once; its counters still count until <see cref="RetireSlot"/> folds them.
    /// </summary>
    public void MarkExited(int slot)
    {
        lock (_supervisorLock)
        {
            if (StateOf(slot) != WorkerSlotState.Free) Slot(slot).SetState(WorkerSlotState.Exited);
        }
    }

    /// <summary>
    /// Supervisor, after the worker of <paramref name="slot"/> has exited (reload or crash, reaped with
    /// waitpid so it cannot write any more): folds its counters and maxima into the retired totals and
    /// frees the slot for reuse. Totals never go back and nothing is counted twice, even for a reader
    /// reading meanwhile. Retiring a free slot does nothing.
    /// </summary>
    public void RetireSlot(int slot)
    {
        var writer = Slot(slot);
        lock (_supervisorLock)
        {
            if (_mirrors[slot] is not null) ReleaseMirror(slot);
            if (writer.State == WorkerSlotState.Free) return;
            // :: Ordering. A total is retired + the sum over counted (non-Free) slots. Moving a slot's
            // values into retired and marking it Free are two steps; a reader between them would count
            // the slot twice, or (other order) not at all, and see the total jump then dip. So both steps
            // happen inside one odd window of the fold sequence; a reader copies retired and the slots,
            // then rechecks the sequence, and retries if it was odd or moved (a seqlock: readers retry,
            // writers never wait). Workers' hot-path writes do not touch the sequence at all.
            BeginFold();
            try
            {
                FoldInto(_map.RetiredValues, _map.SlotValues(slot), Volatile.Read(ref _map.SlotWord(slot, BoardLayout.SGeneration)));
                writer.SetState(WorkerSlotState.Free);
            }
            finally
            {
                EndFold();
            }
        }
    }

    // Adds one slot's values into a retired array, each by its kind (see StatKind).
    private void FoldInto(long* retired, long* values, long slotGeneration)
    {
        var layout = _map.Layout;
        ref long valueGen = ref _map.HeaderWord(BoardLayout.HRetiredValueGeneration);
        // Values and averages of a newer generation replace those of an older one, never the reverse.
        bool newer = slotGeneration >= Volatile.Read(ref valueGen);
        for (int i = 0; i < layout.InfoCount; i++)
            Fold(StatFields.Kind((InfoField)i), ref retired[i], Volatile.Read(ref values[i]), newer);
        for (int o = 0; o < layout.ObjectCount; o++)
        {
            for (int f = 0; f < layout.FieldCount; f++)
            {
                int i = layout.ValueIndex(o, f);
                Fold(StatFields.Kind((StatField)f), ref retired[i], Volatile.Read(ref values[i]), newer);
            }
        }
        if (newer) Volatile.Write(ref valueGen, slotGeneration);
    }

    private static void Fold(StatKind kind, ref long retired, long value, bool newer)
    {
        switch (kind)
        {
            case StatKind.Counter: Volatile.Write(ref retired, retired + value); break;
            case StatKind.Max: if (value > retired) Volatile.Write(ref retired, value); break;
            case StatKind.Value: if (newer) Volatile.Write(ref retired, value); break;
            case StatKind.Checked: if (newer && value != 0) Volatile.Write(ref retired, value); break;
            case StatKind.Gauge: break; // a gone worker holds no connection
        }
    }

    // Interlocked increments are full fences: the odd value is visible before any change inside
    // the window, and every change before the even value.
    private void BeginFold() => Interlocked.Increment(ref _map.HeaderWord(BoardLayout.HFoldSeq));

    private void EndFold() => Interlocked.Increment(ref _map.HeaderWord(BoardLayout.HFoldSeq));

    /// <summary>
    /// A consistent snapshot of this board (same as <see cref="StatsBoardReader.ReadSnapshot()"/>). During a reload the
    /// old generation's slots are mirrored first, so the supervisor's `show stat` has every count made so far, not
    /// the last <see cref="SyncMirrors"/> tick's.
    /// </summary>
    public StatsSnapshot Snapshot()
    {
        if (Array.Exists(_mirrors, m => m is not null)) SyncMirrors();
        return BoardSnapshotReader.Read(_map, _objects);
    }

    private static BoardLayout Validate(IReadOnlyList<StatObjectDescriptor> objects, int slotCount)
    {
        ArgumentNullException.ThrowIfNull(objects);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slotCount, 4096);
        foreach (var o in objects)
        {
            if (System.Text.Encoding.UTF8.GetByteCount(o.ProxyName) + System.Text.Encoding.UTF8.GetByteCount(o.ServiceName) > BoardLayout.ObjectNameBytes)
                throw new ArgumentException($"object name '{o.Key}' is longer than {BoardLayout.ObjectNameBytes} bytes", nameof(objects));
        }
        return new BoardLayout(objects.Count, slotCount, StatFields.Count, StatFields.InfoCount);
    }

    private static StatsBoard Initialize(BoardMapping map, IReadOnlyList<StatObjectDescriptor> objects, long generation)
    {
        var array = objects.ToArray();
        var board = new StatsBoard(map, array); // checks duplicates before anything is written
        for (int i = 0; i < array.Length; i++) map.WriteObject(i, array[i]);
        map.WriteHeader(generation, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Environment.ProcessId);
        return board;
    }

    /// <summary>
    /// Worker: the mapping stays until the process exits, whatever disposes this board. A worker counts in place
    /// through pointers into its slot (<see cref="StatsSlot.Row"/>) from any thread; unmapping while a late
    /// completion still counts would crash the worker on its way out, and the kernel unmaps at exit anyway.
    /// </summary>
    public void KeepMappedUntilExit() => _keptMapped = true;

    private bool _keptMapped;

    public void Dispose()
    {
        // A board handed over by Reconfigure stays mapped until its last mirrored slot retires.
        if (_transferred || _keptMapped) return;
        DisposeCore();
    }

    private void DisposeCore()
    {
        foreach (var m in _mirrors)
            m?.Source.ReleaseSource();
        _map.Dispose();
    }
}
