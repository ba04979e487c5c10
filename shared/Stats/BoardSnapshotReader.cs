using System.Diagnostics;

namespace Proxy.Shared.Stats;

/// <summary>
/// Copies a board consistently and aggregates it. The copy is the read side of the fold seqlock
/// (see StatsBoard.RetireSlot): read the sequence, copy, read it again, retry if it was odd or
/// moved. Workers' writes never touch the sequence, so a busy worker never makes a reader retry;
/// only a claim or retire in between does, and those take microseconds.
/// </summary>
internal static unsafe class BoardSnapshotReader
{
    // A supervisor killed inside a fold leaves the sequence odd for ever: give up rather than spin.
    private static readonly TimeSpan s_giveUpAfter = TimeSpan.FromSeconds(2);

    public static StatsSnapshot Read(BoardMapping map, IReadOnlyList<StatObjectDescriptor> objects)
    {
        var layout = map.Layout;
        int n = layout.ValueCount;
        var retired = new long[n];
        var slotValues = new long[layout.SlotCount][];
        var identities = new long[layout.SlotCount][];
        ref long seq = ref map.HeaderWord(BoardLayout.HFoldSeq);
        var started = Stopwatch.StartNew();
        var spin = new SpinWait();
        while (true)
        {
            long before = Volatile.Read(ref seq);
            if ((before & 1) == 0)
            {
                for (int k = 0; k < layout.SlotCount; k++)
                {
                    var state = (WorkerSlotState)Volatile.Read(ref map.SlotWord(k, BoardLayout.SState));
                    if (state == WorkerSlotState.Free)
                    {
                        identities[k] = null!;
                        continue;
                    }
                    var id = identities[k] ??= new long[BoardLayout.SlotIdentitySize / 8];
                    for (int w = 0; w < id.Length; w++) id[w] = Volatile.Read(ref map.SlotWord(k, w * 8));
                    id[BoardLayout.SState / 8] = (long)state;
                    CopyOut(map.SlotValues(k), slotValues[k] ??= new long[n]);
                }
                CopyOut(map.RetiredValues, retired);
                // The copies above must complete before the sequence is read again (seqlock read fence).
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref seq) == before) break;
            }
            if (started.Elapsed > s_giveUpAfter)
                throw new TimeoutException($"{map.Path}: the stats board stayed mid-fold for {s_giveUpAfter.TotalSeconds} s");
            spin.SpinOnce();
        }
        return Aggregate(map, objects, retired, slotValues, identities);
    }

    private static void CopyOut(long* from, long[] to)
    {
        for (int i = 0; i < to.Length; i++) to[i] = Volatile.Read(ref from[i]);
    }

    private static StatsSnapshot Aggregate(BoardMapping map, IReadOnlyList<StatObjectDescriptor> objects,
        long[] retired, long[][] slotValues, long[][] identities)
    {
        var layout = map.Layout;
        var workers = new List<StatsWorker>();
        var counted = new List<(StatsWorker Worker, long[] Values)>();
        for (int k = 0; k < identities.Length; k++)
        {
            var id = identities[k];
            if (id is null) continue;
            var values = slotValues[k];
            var worker = new StatsWorker(k, (int)id[BoardLayout.SPid / 8], id[BoardLayout.SGeneration / 8],
                (int)id[BoardLayout.SCpu / 8], (WorkerSlotState)id[BoardLayout.SState / 8],
                DateTimeOffset.FromUnixTimeMilliseconds(id[BoardLayout.SStartedMs / 8]),
                DateTimeOffset.FromUnixTimeMilliseconds(id[BoardLayout.SHeartbeatMs / 8]),
                values[..layout.InfoCount]);
            workers.Add(worker);
            counted.Add((worker, values));
        }
        // The newest worker first: Value fields come from it (the current config's weight, status...).
        var newestFirst = counted.OrderByDescending(c => c.Worker.IsLive)
            .ThenByDescending(c => c.Worker.Generation).ThenByDescending(c => c.Worker.StartedAt).ToArray();

        var info = new long[layout.InfoCount];
        for (int i = 0; i < info.Length; i++)
            info[i] = Combine(StatFields.Kind((InfoField)i), i, retired, newestFirst);

        int[] backendOf = BackendOfServers(objects);
        var totals = new StatsRow[layout.ObjectCount];
        var totalValues = new long[layout.ObjectCount][];
        for (int o = 0; o < layout.ObjectCount; o++)
        {
            var values = totalValues[o] = new long[layout.FieldCount];
            for (int f = 0; f < values.Length; f++)
                values[f] = Combine(StatFields.Kind((StatField)f), layout.ValueIndex(o, f), retired, newestFirst);
        }
        AddServerTimesToBackends(totalValues, backendOf);
        for (int o = 0; o < layout.ObjectCount; o++) totals[o] = new StatsRow(objects[o], o, 0, -1, totalValues[o]);

        var workerRows = new List<StatsRow>(counted.Count * layout.ObjectCount);
        foreach (var (worker, slot) in counted)
        {
            var rows = new long[layout.ObjectCount][];
            for (int o = 0; o < layout.ObjectCount; o++)
            {
                int start = layout.ValueIndex(o, 0);
                rows[o] = slot[start..(start + layout.FieldCount)];
            }
            AddServerTimesToBackends(rows, backendOf);
            for (int o = 0; o < layout.ObjectCount; o++) workerRows.Add(new StatsRow(objects[o], o, worker.Pid, worker.Slot, rows[o]));
        }
        return new StatsSnapshot(DateTimeOffset.UtcNow,
            DateTimeOffset.FromUnixTimeMilliseconds(Volatile.Read(ref map.HeaderWord(BoardLayout.HCreatedMs))),
            Volatile.Read(ref map.HeaderWord(BoardLayout.HGeneration)),
            (int)Volatile.Read(ref map.HeaderWord(BoardLayout.HSupervisorPid)),
            objects, workers, totals, workerRows, info);
    }

    private static readonly StatField[] s_serverTimes = [StatField.CtimeSum, StatField.RtimeSum, StatField.TtimeSum, StatField.Timed];

    // For each object, the index of the backend of a server (same pxname), else -1.
    private static int[] BackendOfServers(IReadOnlyList<StatObjectDescriptor> objects)
    {
        var backends = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int o = 0; o < objects.Count; o++)
            if (objects[o].Kind == StatObjectKind.Backend) backends[objects[o].ProxyName] = o;
        var backendOf = new int[objects.Count];
        for (int o = 0; o < objects.Count; o++)
            backendOf[o] = objects[o].Kind == StatObjectKind.Server && backends.TryGetValue(objects[o].ProxyName, out int b) ? b : -1;
        return backendOf;
    }

    // ctime, rtime, ttime and their count are timed on the server only (ProxyCounters.CountTimes: one set of updates
    // per request, not two). A backend's are its servers' summed: every timed request had a server, so this is what
    // HAProxy's backend averages cover. qtime's sum is counted on both (the queue is the backend's).
    private static void AddServerTimesToBackends(long[][] rows, int[] backendOf)
    {
        for (int o = 0; o < rows.Length; o++)
        {
            if (backendOf[o] < 0) continue;
            foreach (var f in s_serverTimes) rows[backendOf[o]][(int)f] += rows[o][(int)f];
        }
    }

    // One total from the retired value and the counted slots' values, by kind (see StatKind).
    private static long Combine(StatKind kind, int i, long[] retired, (StatsWorker Worker, long[] Values)[] newestFirst)
    {
        switch (kind)
        {
            case StatKind.Counter:
            {
                long sum = retired[i];
                foreach (var c in newestFirst) sum += c.Values[i];
                return sum;
            }
            case StatKind.Gauge:
            {
                long sum = 0;
                foreach (var c in newestFirst) if (c.Worker.IsLive) sum += c.Values[i];
                return sum;
            }
            case StatKind.Max:
            {
                long max = retired[i];
                foreach (var c in newestFirst) max = Math.Max(max, c.Values[i]);
                return max;
            }
            case StatKind.Value:
                return newestFirst.Length > 0 ? newestFirst[0].Values[i] : retired[i];
            default: // Checked
            {
                // Only the checking worker writes these; the others hold 0 (see StatKind.Checked).
                foreach (var c in newestFirst) if (c.Values[i] != 0) return c.Values[i];
                return retired[i];
            }
        }
    }
}
