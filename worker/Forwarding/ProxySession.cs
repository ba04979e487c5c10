namespace Proxy.Worker.Forwarding;

/// <summary>
/// What the engine needs from a client connection, whatever its mode: a place in the session table the
/// coarse timer scans (<see cref="CheckTimeouts"/>), its frontend (for maxconn slots) and a way to abort it.
/// </summary>
internal abstract class ProxySession : IThreadPoolWorkItem
{
    internal int Slot = -1;           // index in the engine's session table
    private Balancing.QueueTicket? _queued;   // set while waiting in a backend queue for a server slot

    internal abstract FrontendRuntime Frontend { get; }

    /// <summary>Closes everything now; pending operations complete with errors. Idempotent.</summary>
    internal abstract void Abort();

    /// <summary>True once <see cref="Abort"/> (or an I/O failure) has started closing the session.</summary>
    internal abstract bool IsAborted { get; }

    /// <summary>True when the last wait in a backend queue ended by `timeout queue` (HAProxy's termination state sQ).</summary>
    internal bool QueueTimedOut { get; private set; }

    /// <summary>Publishes the ticket to the timer and to <see cref="CancelQueued"/>; cancels it at once if the session is already aborting.</summary>
    internal void EnterQueue(Balancing.QueueTicket ticket)
    {
        Volatile.Write(ref _queued, ticket);
        if (IsAborted) ticket.Cancel();   // an abort that ran before the ticket was visible
    }

    internal void LeaveQueue(Balancing.QueueTicket ticket)
    {
        QueueTimedOut = ticket.TimedOut;
        Volatile.Write(ref _queued, null);
    }

    /// <summary>For the timer: expires a queued request whose `timeout queue` has passed.</summary>
    protected void CheckQueue(long now) => Volatile.Read(ref _queued)?.ExpireIfDue(now);

    /// <summary>For Abort: a queued request stops waiting (no server).</summary>
    protected void CancelQueued() => Volatile.Read(ref _queued)?.Cancel();

    // :: Traffic log state both modes record (`option tcplog` / `option httplog`, doc/configuration.txt 8.2, 8.5).
    protected int _logCause;                   // termination state (8.5): cause | phase << 16, first wins; 0: normal end
    protected int _logRetries;
    protected bool _logRedispatched;

    /// <summary>Records why the session (or request) ends: the first cause only, what follows an abort is its consequence.</summary>
    protected void SetLogCause(char cause, char phase) => Interlocked.CompareExchange(ref _logCause, cause | (phase << 16), 0);

    /// <summary>The log line's termination state, connection counts and retries, the same in tcplog and httplog.</summary>
    protected void FillEndOfSession(Logging.TrafficLogRecord r, int activeConnections, Balancing.BackendRuntime? be, Balancing.ServerRuntime? srv)
    {
        int cause = Volatile.Read(ref _logCause);
        r.Cause = cause == 0 ? '-' : (char)(cause & 0xFFFF);
        r.Phase = cause == 0 ? '-' : (char)(cause >> 16);
        r.ActConn = activeConnections;
        r.FeConn = (int)Frontend.Counters.CurrentSessions;
        r.BeConn = (int)(be?.Counters.CurrentSessions ?? 0);
        r.SrvConn = (int)(srv?.Counters.CurrentSessions ?? 0);
        r.Retries = _logRetries;
        r.Redispatched = _logRedispatched;
    }

    /// <summary>Called by the engine's timer with Environment.TickCount64; never blocks, never does I/O but closing.</summary>
    internal abstract void CheckTimeouts(long now);

    public abstract void Execute();
}
