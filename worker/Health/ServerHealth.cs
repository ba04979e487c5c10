using Proxy.Worker.Balancing;

namespace Proxy.Worker.Health;

/// <summary>Applies a health state decided by the checking worker (relayed by the supervisor) to this worker's servers.</summary>
internal static class ServerHealth
{
    /// <summary>Returns false when this worker has no such server.</summary>
    public static bool Apply(ProxyEngine engine, string backend, string server, bool up)
    {
        foreach (var be in engine.Backends)
        {
            if (be.Name != backend) continue;
            foreach (var s in be.Servers)
            {
                if (s.Name != server) continue;
                s.SetUp(up);
                return true;
            }
        }
        return false;
    }
}
