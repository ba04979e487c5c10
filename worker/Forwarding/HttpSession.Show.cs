namespace Proxy.Worker.Forwarding;

// `show sess` (ProxySession.Show.cs): an http session is in the backend its current request chose. Read from the
// control thread: a transaction the session gave back meanwhile counts for nothing (StillHolds).
internal sealed partial class HttpSession
{
    internal override Runtime.BackendRuntime? CurrentBackend
    {
        get
        {
            if (Transaction is not { } tx) return null;
            int lease = Volatile.Read(ref tx.Lease);
            var be = tx.Backend;
            return StillHolds(tx, lease) ? be : null;
        }
    }

    internal override Runtime.ServerRuntime? CurrentServer
    {
        get
        {
            if (Transaction is not { } tx) return null;
            int lease = Volatile.Read(ref tx.Lease);
            var srv = tx.Server;
            return StillHolds(tx, lease) ? srv : null;
        }
    }

    /// <summary>Whether the session holds a transaction now: between requests it has given it back (tests).</summary>
    internal bool HoldsTransaction => Transaction is not null;

    internal override void Kill(char cause)
    {
        // The cause goes to the session, never to a transaction read here that may serve another session's request
        // by now; an idle session's is forgotten when its next request begins (no request to log).
        char phase = 'R';
        if (Transaction is { } tx)
        {
            int lease = Volatile.Read(ref tx.Lease);
            char exchange = tx.ExchangePhase;
            if (StillHolds(tx, lease)) phase = exchange;
        }
        SetLogCause(cause, phase);
        Abort();
    }
}
