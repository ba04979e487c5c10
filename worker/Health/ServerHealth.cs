
namespace Proxy.Worker.Health;

/// <summary>Applies a health state decided by the checking worker (relayed by the supervisor) to this worker's servers.</summary>
internal static class ServerHealth
{
    /// <summary>Returns false when this worker has no such server. <paramref name="restored"/>: the state known when this worker started.</summary>
    public static bool Apply(ProxyEngine engine, string backend, string server, bool up, bool restored = false)
    {
        if (Find(engine, backend, server) is not { } s) return false;
        s.SetUp(up, restored);
        return true;
    }

    /// <summary>
    /// `error-limit` passive errors another worker saw (relayed by the supervisor to the checking worker): applies
    /// `on-error` through the server's checker. Returns false when this worker has no such server or checker.
    /// </summary>
    public static bool ApplyPassive(ProxyEngine engine, string backend, string server, string lastEvent)
    {
        if (Find(engine, backend, server) is not { Checker: { } checker } s || !Enum.TryParse<PassiveEvent>(lastEvent, out var last))
            return false;
        checker.OnPassiveErrors(last, s.Passive.ErrorLimit);
        return true;
    }

    private static ServerRuntime? Find(ProxyEngine engine, string backend, string server)
    {
        foreach (var be in engine.Backends)
        {
            if (be.Name != backend) continue;
            foreach (var s in be.Servers)
                if (s.Name == server) return s;
        }
        return null;
    }
}
