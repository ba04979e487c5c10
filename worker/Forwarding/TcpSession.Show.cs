namespace Proxy.Worker.Forwarding;

// `show sess` (ProxySession.Show.cs): a tcp session is in its frontend's backend from the start.
internal sealed partial class TcpSession
{
    internal override Runtime.BackendRuntime? CurrentBackend => _tx.Server?.Backend ?? _fe.Backend;

    internal override Runtime.ServerRuntime? CurrentServer => _tx.Server;

    internal override void Kill(char cause)
    {
        _tx.SetCause(cause, 'D');
        Abort();
    }
}
