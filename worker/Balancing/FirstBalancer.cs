namespace Proxy.Worker.Balancing;

/// <summary>
/// `balance first`: the first server in declaration order with a free connection permit (`maxconn`, 0 meaning
/// unlimited) gets the connection. Without a queue, when every server is full the first one is returned.
/// </summary>
internal sealed class FirstBalancer : IBalancer
{
    private volatile ServerRuntime[] _servers = [];

    public void Rebuild(ServerRuntime[] usable) => _servers = usable;

    public ServerRuntime? Pick(in PickContext context, ServerRuntime? exclude)
    {
        var servers = _servers;
        ServerRuntime? fallback = null;
        foreach (var s in servers)
        {
            if (s == exclude && servers.Length > 1) continue;
            fallback ??= s;
            // The server's maxconn counted instance-wide (BackendQueue enforces it): every worker fills the same servers first.
            if (s.HasRoom) return s;
        }
        return fallback;
    }
}
