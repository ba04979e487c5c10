namespace Proxy.Shared.Stats;

// Reload: a new object list needs a new layout (each slot holds one array per object), so the
// supervisor writes a new file and renames it over the old one. Totals are carried by object name
// ("pxname/svname"): a server kept across the reload keeps its totals, a removed one drops them.
//
// The old generation keeps writing into the old file until it exits, so each of its slots becomes
// a *mirror* in the new board: same slot index, same identity, values copied from the old slot by
// name. The supervisor refreshes mirrors (SyncMirrors, on its 200 ms housekeeping tick) and once more when it
// retires the slot, so the final values fold in exactly once. Copies only ever raise counters, so
// a reader of the new file never sees a total go back; it may lag the old file by one sync interval.

public sealed unsafe partial class StatsBoard
{
    private readonly Mirror?[] _mirrors;
    private int _sourceRefs;    // mirrors in newer boards that still read this board's slots
    private bool _transferred;  // handed over by Reconfigure: disposed when _sourceRefs drops to 0

    // Slot SourceSlot of Source is shown as one of our slots; ObjectMap[sourceIndex] = our index or -1.
    private sealed record Mirror(StatsBoard Source, int SourceSlot, int[] ObjectMap);

    /// <summary>
    /// Supervisor, on reload: creates the board for <paramref name="objects"/> at the same path
    /// (atomic rename), carries retired totals over by name and mirrors every slot still in use.
    /// The returned board replaces this one: keep using only it; this instance stays mapped for the
    /// mirrors and is released when the last of them retires (disposing it is a no-op).
    /// </summary>
    /// <param name="slotCount">Null keeps the current count; a smaller one must leave every used slot inside.</param>
    /// <param name="generation">The new configuration generation; null keeps the current one.</param>
    public StatsBoard Reconfigure(IReadOnlyList<StatObjectDescriptor> objects, int? slotCount = null, long? generation = null)
    {
        lock (_supervisorLock)
        {
            if (_transferred) throw new InvalidOperationException("this board was already replaced by Reconfigure");
            int slots = slotCount ?? SlotCount;
            for (int k = slots; k < SlotCount; k++)
            {
                if (StateOf(k) != WorkerSlotState.Free || _mirrors[k] is not null)
                    throw new InvalidOperationException($"stats slot {k} is in use and would not fit in {slots} slots");
            }
            var layout = Validate(objects, slots);
            var map = BoardMapping.Create(Path, layout);
            StatsBoard next;
            try
            {
                next = Initialize(map, objects, generation ?? Generation);
                // The instance's uptime spans reloads, like its totals.
                Volatile.Write(ref next._map.HeaderWord(BoardLayout.HCreatedMs), Volatile.Read(ref _map.HeaderWord(BoardLayout.HCreatedMs)));
                var objectMap = new int[_objects.Length];
                for (int i = 0; i < _objects.Length; i++)
                    objectMap[i] = next.TryIndexOf(_objects[i].Key, out int j) ? j : -1;

                // Retired totals: read under our own fold sequence so no fold is half copied (only
                // this lock's holder folds, so a plain copy is already consistent).
                CopyValues(_map.RetiredValues, next._map.RetiredValues, objectMap, next._map.Layout);
                Volatile.Write(ref next._map.HeaderWord(BoardLayout.HRetiredValueGeneration),
                    Volatile.Read(ref _map.HeaderWord(BoardLayout.HRetiredValueGeneration)));

                for (int k = 0; k < SlotCount; k++)
                {
                    var mine = _mirrors[k];
                    if (mine is null && StateOf(k) == WorkerSlotState.Free) continue;
                    // A slot that is itself a mirror keeps reading the original board, with the maps composed.
                    var mirror = mine is null
                        ? new Mirror(this, k, objectMap)
                        : new Mirror(mine.Source, mine.SourceSlot, Array.ConvertAll(mine.ObjectMap, i => i < 0 ? -1 : objectMap[i]));
                    mirror.Source._sourceRefs++;
                    next._mirrors[k] = mirror;
                    next.CopyIdentity(k);
                    next.SyncMirror(k);
                }
                map.Publish();
            }
            catch
            {
                map.Dispose();
                throw;
            }

            for (int k = 0; k < _mirrors.Length; k++)
            {
                _mirrors[k]?.Source.ReleaseSource();
                _mirrors[k] = null;
            }
            _transferred = true;
            if (_sourceRefs == 0) _map.Dispose();
            return next;
        }
    }

    /// <summary>
    /// Supervisor, at start: carries the totals of a board left at <paramref name="path"/> by a previous
    /// run (its workers are gone, so every slot still in use is retired first) into a board for
    /// <paramref name="objects"/>; creates a fresh one when there is no board there or it is unreadable.
    /// </summary>
    public static StatsBoard OpenOrCreate(string path, IReadOnlyList<StatObjectDescriptor> objects, int slotCount, long generation = 1)
    {
        StatsBoard previous;
        try
        {
            previous = Open(path);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or IOException)
        {
            return Create(path, objects, slotCount, generation);
        }
        try
        {
            for (int k = 0; k < previous.SlotCount; k++) previous.RetireSlot(k);
            var next = previous.Reconfigure(objects, slotCount, generation);
            // A new supervisor process: its totals carry over, its Uptime starts now (Reconfigure keeps the
            // creation time, as a reload must: the process is the same).
            Volatile.Write(ref next._map.HeaderWord(BoardLayout.HCreatedMs), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            return next;
        }
        finally
        {
            previous.Dispose();
        }
    }

    /// <summary>Supervisor: refreshes every mirrored slot from the old board its worker still writes.</summary>
    public void SyncMirrors()
    {
        lock (_supervisorLock)
        {
            for (int k = 0; k < _mirrors.Length; k++)
            {
                if (_mirrors[k] is not null) SyncMirror(k);
            }
        }
    }

    /// <summary>Whether slot <paramref name="slot"/> shows a worker of an older board (one that has not been retired yet).</summary>
    public bool IsMirror(int slot) => _mirrors[slot] is not null;

    private void CopyIdentity(int k)
    {
        var m = _mirrors[k]!;
        var src = m.Source._map;
        foreach (int w in (ReadOnlySpan<int>)[BoardLayout.SPid, BoardLayout.SGeneration, BoardLayout.SCpu, BoardLayout.SStartedMs])
            Volatile.Write(ref _map.SlotWord(k, w), Volatile.Read(ref src.SlotWord(m.SourceSlot, w)));
    }

    // Copies the old worker's state, heartbeat and values; every field is written by one store, and
    // counters only grow in the source, so each copy raises them or leaves them.
    private void SyncMirror(int k)
    {
        var m = _mirrors[k]!;
        var src = m.Source._map;
        CopyValues(src.SlotValues(m.SourceSlot), _map.SlotValues(k), m.ObjectMap, _map.Layout);
        Volatile.Write(ref _map.SlotWord(k, BoardLayout.SHeartbeatMs), Volatile.Read(ref src.SlotWord(m.SourceSlot, BoardLayout.SHeartbeatMs)));
        var state = (WorkerSlotState)Volatile.Read(ref src.SlotWord(m.SourceSlot, BoardLayout.SState));
        // Our own MarkExited wins over the old file, where nobody marks the dead worker.
        if (StateOf(k) != WorkerSlotState.Exited)
            Slot(k).SetState(state == WorkerSlotState.Free ? WorkerSlotState.Exited : state);
    }

    // Copies a value array (slot or retired) into one of another object list, object by object through
    // the map. Both layouts have the same info and field counts (the header check pins them), so a
    // value's index differs only by its object's.
    private static void CopyValues(long* from, long* to, int[] objectMap, BoardLayout layout)
    {
        for (int i = 0; i < layout.InfoCount; i++) Volatile.Write(ref to[i], Volatile.Read(ref from[i]));
        for (int o = 0; o < objectMap.Length; o++)
        {
            int d = objectMap[o];
            if (d < 0) continue;
            for (int f = 0; f < layout.FieldCount; f++)
                Volatile.Write(ref to[layout.ValueIndex(d, f)], Volatile.Read(ref from[layout.ValueIndex(o, f)]));
        }
    }

    private void ReleaseMirror(int k)
    {
        SyncMirror(k);
        var m = _mirrors[k]!;
        _mirrors[k] = null;
        m.Source.ReleaseSource();
    }

    private void ReleaseSource()
    {
        if (--_sourceRefs == 0 && _transferred) _map.Dispose();
    }
}
