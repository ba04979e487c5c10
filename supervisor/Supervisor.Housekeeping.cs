namespace Proxy.Supervisor;

// The supervisor's periodic work: the watchdog and the board's mirrors.
public sealed partial class Supervisor
{
    /// <summary>
    /// The supervisor's periodic work, on one thread of its own (TickThread: one wake-up a tick; with .NET timers its
    /// threads ran about 120 times a second, on CPUs the supervisor shares with its workers): the watchdog, and the board's mirrors, through which the new board shows an old generation that
    /// drains after a reload. Both are quick: a tick that ran long would make the watchdog's next round late (one that
    /// only takes fresh stamps), so the stick tables' purge, which may wait on a worker's bucket lock, has its own
    /// thread (StickTableStore).
    /// </summary>
    private void Housekeep()
    {
        WatchHeartbeats();
        lock (_gate) _board.SyncMirrors();
    }

    /// <summary>`worker-watchdog`: kills a worker whose heartbeat is long overdue; its exit respawns the slot.</summary>
    private void WatchHeartbeats()
    {
        List<WorkerProcess>? kill;
        lock (_gate)
        {
            if (_stopping) return;
            var board = _board;
            long now = Environment.TickCount64;
            kill = WorkerWatchdog.Check(_workers, board.HeartbeatMsOf, Config.Global.WorkerWatchdog, now, _watchdogCheckedAt);
            _watchdogCheckedAt = now;
        }
        if (kill is null) return;
        foreach (var w in kill)
        {
            Log.Error($"worker slot {w.Slot + 1} pid {w.Pid} killed by the watchdog (SIGKILL); its slot is respawned");
            w.Kill();
        }
    }
}
