namespace Proxy.Worker.Forwarding;

// `show sess` (ProxySession.Show.cs): an http session is in the backend its current request chose. Read from the
// control thread: a transaction the session gave back meanwhile counts for nothing (StillHolds).
internal sealed partial class HttpSession
{
    internal override Runtime.BackendRuntime? CurrentBackend => TryReadHeld(static tx => tx.Backend, out var be) ? be : null;

    internal override Runtime.ServerRuntime? CurrentServer => TryReadHeld(static tx => tx.Server, out var srv) ? srv : null;

    /// <summary>
    /// Reads one field of the current transaction from another thread: false when the session holds none, or gave back
    /// the one read meanwhile (its lease moved), whose fields may be another session's request by now.
    /// </summary>
    private bool TryReadHeld<T>(Func<HttpTransaction, T> read, out T value)
    {
        value = default!;
        if (Transaction is not { } tx) return false;
        int lease = Volatile.Read(ref tx.Lease);
        value = read(tx);
        return StillHolds(tx, lease);
    }

    /// <summary>Whether the session holds a transaction now: between requests it has given it back (tests).</summary>
    internal bool HoldsTransaction => Transaction is not null;

    internal override void Kill(char cause)
    {
        // The cause goes to the session, never to a transaction read here that may serve another session's request
        // by now; an idle session's is forgotten when its next request begins (no request to log).
        char phase = TryReadHeld(static tx => tx.ExchangePhase, out char exchange) ? exchange : 'R';
        SetLogCause(cause, phase);
        Abort();
    }
}
