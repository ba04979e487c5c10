namespace Proxy.Worker.Forwarding;

// `show sess` (ProxySession.Show.cs): an http session is in the backend its current request chose.
internal sealed partial class HttpSession
{
    internal override Runtime.BackendRuntime? CurrentBackend => _tx.Backend;

    internal override Runtime.ServerRuntime? CurrentServer => _tx.Server;

    internal override void Kill(char cause)
    {
        _tx.SetCause(cause, _tx.ExchangePhase);
        Abort();
    }
}
