namespace Proxy.Worker.Balancing;

/// <summary>
/// `balance leastconn`: the server with the fewest current sessions relative to its weight; ties go round robin
/// (the scan starts at a rotating position). O(servers) per pick, no lock: counts may be slightly stale.
/// </summary>
internal sealed class LeastConnBalancer : IBalancer
{
    private volatile ServerRuntime[] _servers = [];
    private int _rotor = -1;

    public void Rebuild(ServerRuntime[] usable) => _servers = usable;

    public ServerRuntime? Pick(in PickContext context, ServerRuntime? exclude)
    {
        var servers = _servers;
        int n = servers.Length;
        if (n == 0) return null;
        int start = (int)((uint)Interlocked.Increment(ref _rotor) % (uint)n);
        ServerRuntime? best = null;
        for (int k = 0; k < n; k++)
        {
            var s = servers[(start + k) % n];
            if (s == exclude && n > 1) continue;
            // s.load/s.weight < best.load/best.weight, cross-multiplied to stay in integers.
            if (best is null || s.CurrentSessions * best.Weight < best.CurrentSessions * s.Weight) best = s;
        }
        return best;
    }
}
