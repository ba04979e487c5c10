using Proxy.Worker.Logging;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// What one forwarded transaction holds whatever its mode: a tcp session has one for the whole connection, an http
/// session one per request, rented from a pool (<see cref="HttpTransaction"/>, reset in one place). It uses its
/// session's way to a server (<see cref="Connector"/>: permit, connect, retries), and holds the server counted for it
/// and the termination state of its log line (doc/configuration.txt 8.5; an http session keeps its request's itself,
/// so that no other thread writes to a transaction that may be lent to another session by then: HttpTransaction).
/// </summary>
internal class ProxyTransaction(ServerConnector connector)
{
    private int _cause;   // termination state (8.5): cause | phase << 16, first wins; 0: normal end

    /// <summary>The session's connector (it stays with the session: its abort and timers must never reach another's).</summary>
    public ServerConnector Connector { get; private protected set; } = connector;
    /// <summary>The server this transaction is counted on (scur, which `leastconn` reads); null before a connection.</summary>
    public ServerRuntime? Server;

    /// <summary>Records why the transaction ends: the first cause only, what follows an abort is its consequence.</summary>
    public virtual void SetCause(char cause, char phase) => Interlocked.CompareExchange(ref _cause, cause | (phase << 16), 0);

    /// <summary>The cause recorded so far ('S', 'C', ...), 0 for none.</summary>
    public char Cause => (char)(CauseWord & 0xFFFF);

    /// <summary>The termination state recorded so far, cause | phase &lt;&lt; 16 (0: none).</summary>
    protected virtual int CauseWord => Volatile.Read(ref _cause);

    /// <summary>The log line's termination state, connection counts and retries, the same in tcplog and httplog.</summary>
    public void FillEndOfSession(TrafficLogRecord r, int activeConnections, FrontendRuntime fe, BackendRuntime? be)
    {
        int cause = CauseWord;
        r.Cause = cause == 0 ? '-' : (char)(cause & 0xFFFF);
        r.Phase = cause == 0 ? '-' : (char)(cause >> 16);
        r.ActConn = activeConnections;
        r.FeConn = (int)fe.Counters.CurrentSessions;
        r.BeConn = (int)(be?.Counters.CurrentSessions ?? 0);
        r.SrvConn = (int)(Server?.Counters.CurrentSessions ?? 0);
        r.Retries = Connector.Retries;
        r.Redispatched = Connector.Redispatched;
    }
}
