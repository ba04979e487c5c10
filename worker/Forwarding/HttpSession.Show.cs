namespace Proxy.Worker.Forwarding;

// `show sess` (ProxySession.Show.cs): an http session is in the backend its current request chose.
internal sealed partial class HttpSession
{
    internal override Runtime.BackendRuntime? CurrentBackend => Transaction?.Backend;

    internal override Runtime.ServerRuntime? CurrentServer => Transaction?.Server;

    /// <summary>Whether the session holds a transaction now: between requests it has given it back (tests).</summary>
    internal bool HoldsTransaction => Transaction is not null;

    internal override void Kill(char cause)
    {
        if (Transaction is { } tx) tx.SetCause(cause, tx.ExchangePhase);   // idle: no request to log
        Abort();
    }
}
