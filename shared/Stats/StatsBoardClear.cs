namespace Proxy.Shared.Stats;

public sealed unsafe partial class StatsBoard
{
    /// <summary>
    /// The runtime API's `clear counters [all]` (doc/management.txt 9.3): without <paramref name="all"/>, the maxima
    /// (<see cref="StatKind.Max"/>: qmax, smax, rate maxima...) go back to zero; with it, the counters too, in every
    /// slot and in the retired totals ("the same effect as restarting"). Gauges (scur, qcur), configured values and
    /// the checker's fields (status, weight, check_health...) are states, not counters: they stay, so no worker
    /// reads a cleared field as a server gone down. Workers keep adding to the cleared fields in place.
    /// </summary>
    public void ClearCounters(bool all)
    {
        lock (_supervisorLock)
        {
            var layout = _map.Layout;
            // Inside a fold window: a reader retries instead of mixing cleared and uncleared halves.
            BeginFold();
            try
            {
                Clear(_map.RetiredValues, layout, all);
                for (int s = 0; s < layout.SlotCount; s++)
                    if (Slot(s).State != WorkerSlotState.Free) Clear(_map.SlotValues(s), layout, all);
            }
            finally
            {
                EndFold();
            }
        }
    }

    private static void Clear(long* values, BoardLayout layout, bool all)
    {
        for (int i = 0; i < layout.InfoCount; i++)
            if (Clears(StatFields.Kind((InfoField)i), all)) Volatile.Write(ref values[i], 0);
        for (int o = 0; o < layout.ObjectCount; o++)
        {
            for (int f = 0; f < layout.FieldCount; f++)
                if (Clears(StatFields.Kind((StatField)f), all)) Volatile.Write(ref values[layout.ValueIndex(o, f)], 0);
        }
    }

    private static bool Clears(StatKind kind, bool all) => kind == StatKind.Max || (all && kind == StatKind.Counter);
}
