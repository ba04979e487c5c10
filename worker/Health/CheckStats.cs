using Proxy.Shared.Stats;

namespace Proxy.Worker.Health;

/// <summary>
/// The health figures of one server or backend for `show stat`: chkfail, chkdown, hanafail, lastchg, downtime and
/// the last check's status, code, duration and health. Every worker keeps the transition figures (each applies the
/// same up/down changes), but only the checking worker publishes them, so counters are not multiplied by the number
/// of workers (BoardPublisher, StatKind.Checked).
/// </summary>
internal sealed class CheckStats
{
    private long _chkfail, _chkdown, _hanafail;
    private long _lastChangeUnixSec = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private long _downSinceMs;                     // Environment.TickCount64 when it went down; 0 while up
    private long _downTotalMs;
    private int _status;                           // CheckStatusCode of the last check
    private int _code, _durationMs, _health = -1;

    public long FailedChecks => Volatile.Read(ref _chkfail);
    public long Downs => Volatile.Read(ref _chkdown);
    public long PassiveActions => Volatile.Read(ref _hanafail);
    public long LastChangeUnixSeconds => Volatile.Read(ref _lastChangeUnixSec);
    public CheckStatusCode LastStatus => (CheckStatusCode)Volatile.Read(ref _status);
    public int LastCode => Volatile.Read(ref _code);
    public int LastDurationMs => Volatile.Read(ref _durationMs);
    /// <summary>HAProxy's check health, 0 to rise+fall-1; -1 before the first check.</summary>
    public int Health => Volatile.Read(ref _health);

    /// <summary>downtime: seconds spent down in total, the current outage included.</summary>
    public long DowntimeSeconds
    {
        get
        {
            long total = Volatile.Read(ref _downTotalMs), since = Volatile.Read(ref _downSinceMs);
            if (since != 0) total += Environment.TickCount64 - since;
            return total / 1000;
        }
    }

    public void CountFailedCheck() => Interlocked.Increment(ref _chkfail);

    public void CountPassiveAction() => Interlocked.Increment(ref _hanafail);

    /// <summary>Records an UP&lt;-&gt;DOWN change (one writer at a time: the caller's state change).</summary>
    public void Changed(bool up)
    {
        Volatile.Write(ref _lastChangeUnixSec, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        long now = Environment.TickCount64;
        if (up)
        {
            long since = Interlocked.Exchange(ref _downSinceMs, 0);
            if (since != 0) Interlocked.Add(ref _downTotalMs, now - since);
        }
        else
        {
            Interlocked.Increment(ref _chkdown);
            Interlocked.CompareExchange(ref _downSinceMs, Math.Max(1, now), 0);
        }
    }

    /// <summary>A state taken over from before this process (respawn, reload): downtime runs from now, nothing is counted.</summary>
    public void Restored(bool up)
    {
        if (up) Volatile.Write(ref _downSinceMs, 0);
        else Interlocked.CompareExchange(ref _downSinceMs, Math.Max(1, Environment.TickCount64), 0);
    }

    /// <summary>The result of the check that just ran (checking worker only).</summary>
    public void Checked(CheckStatusCode status, int code, long durationMs, int health)
    {
        Volatile.Write(ref _status, (int)status);
        Volatile.Write(ref _code, code);
        Volatile.Write(ref _durationMs, (int)Math.Min(int.MaxValue, durationMs));
        Volatile.Write(ref _health, health);
    }

    /// <summary>The health alone (a passive action moved it without a check).</summary>
    public void SetHealth(int health) => Volatile.Write(ref _health, health);
}
