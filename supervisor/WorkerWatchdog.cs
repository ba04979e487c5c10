using NLog;

namespace Proxy.Supervisor;

/// <summary>
/// Spots a worker that stopped beating (`worker-watchdog`): stuck in a loop, stopped by SIGSTOP, paged out. Each
/// worker stamps its stats board slot every 500 ms; a running or draining worker whose stamp is older than the
/// limit is marked <see cref="WorkerProcess.Stalled"/> (shown by `status` and `show proc`), and at twice the limit
/// it is killed with SIGKILL, so the usual respawn gives its slot, and the accept queue it no longer serves, a live
/// worker. HAProxy's own watchdog likewise warns first and kills the process at the second expiry.
/// </summary>
public static class WorkerWatchdog
{
    private static readonly Logger Log = LogManager.GetLogger("supervisor");

    /// <summary>How often the supervisor looks: a small fraction of the shortest limit allowed (1 s).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Looks at each worker's heartbeat word (<paramref name="heartbeatOf"/>: board slot to the worker's last stamp) at
    /// <paramref name="nowTick"/> (<see cref="Environment.TickCount64"/>); marks or clears <see cref="WorkerProcess.Stalled"/>;
    /// returns those to kill, or null. Staleness is measured on the supervisor's monotonic clock from the moment the stamp
    /// last changed, never by comparing wall-clock times, so a clock step (NTP, `date -s`) neither kills nor blinds it.
    /// <paramref name="previousTick"/> is when the supervisor last checked: when its own timer ran late (the supervisor
    /// itself was stopped or starved) the round only takes fresh stamps, since the gap says nothing about the workers.
    /// </summary>
    public static List<WorkerProcess>? Check(IEnumerable<WorkerProcess> workers, Func<int, long> heartbeatOf, TimeSpan limit,
        long nowTick, long previousTick)
    {
        if (limit <= TimeSpan.Zero) return null;
        long limitMs = (long)limit.TotalMilliseconds;
        bool late = nowTick - previousTick > 2 * (long)Interval.TotalMilliseconds;
        List<WorkerProcess>? kill = null;
        foreach (var w in workers)
        {
            // Starting workers have not beaten yet (the ready timeout covers them); exited ones are being reaped.
            if (w.State is not (WorkerState.Running or WorkerState.Draining)) continue;
            long stamp = heartbeatOf(w.BoardSlot);
            if (late || w.HeartbeatChangedAt == 0 || stamp != w.LastHeartbeat)
            {
                w.LastHeartbeat = stamp;
                w.HeartbeatChangedAt = nowTick;
            }
            long age = nowTick - w.HeartbeatChangedAt;
            if (age < limitMs)
            {
                if (w.Stalled) Log.Warn($"worker slot {w.Slot + 1} pid {w.Pid} beats again");
                w.Stalled = false;
                continue;
            }
            if (!w.Stalled)
            {
                // Killed only on a later check: one pass never both notices and kills.
                w.Stalled = true;
                Log.Error($"worker slot {w.Slot + 1} pid {w.Pid} stalled: no heartbeat for {age} ms (worker-watchdog {limitMs} ms); killed at {2 * limitMs} ms");
                continue;
            }
            if (age >= 2 * limitMs) (kill ??= []).Add(w);
        }
        return kill;
    }
}
