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

        var totals = new StatsRow[layout.ObjectCount];
        var workerRows = new List<StatsRow>(counted.Count * layout.ObjectCount);
        for (int o = 0; o < layout.ObjectCount; o++)
        {
            var values = new long[layout.FieldCount];
            for (int f = 0; f < values.Length; f++)
                values[f] = Combine(StatFields.Kind((StatField)f), layout.ValueIndex(o, f), retired, newestFirst);
            totals[o] = new StatsRow(objects[o], o, 0, -1, values);
        }
        foreach (var (worker, slot) in counted)
        {
            for (int o = 0; o < layout.ObjectCount; o++)
            {
                int start = layout.ValueIndex(o, 0);
                workerRows.Add(new StatsRow(objects[o], o, worker.Pid, worker.Slot, slot[start..(start + layout.FieldCount)]));
            }
        }
        return new StatsSnapshot(DateTimeOffset.UtcNow,
            DateTimeOffset.FromUnixTimeMilliseconds(Volatile.Read(ref map.HeaderWord(BoardLayout.HCreatedMs))),
            Volatile.Read(ref map.HeaderWord(BoardLayout.HGeneration)),
            (int)Volatile.Read(ref map.HeaderWord(BoardLayout.HSupervisorPid)),
            objects, workers, totals, workerRows, info);
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
