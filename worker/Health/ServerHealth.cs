
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

    /// <summary>A relayed `health` message's state: `up`, `down`, or `nolb` (UP, stopping: `http-check disable-on-404`).</summary>
    public static bool Apply(ProxyEngine engine, string backend, string server, string state)
    {
        if (Find(engine, backend, server) is not { } s) return false;
        // Stopping first when entering NOLB: between the two picker rebuilds the server must never look fully usable.
        if (state == "nolb")
        {
            s.SetStopping(true);
            s.SetUp(true);
        }
        else
        {
            s.SetUp(state != "down");
            s.SetStopping(false);
        }
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

    /// <summary>
    /// The runtime API's check controls (relayed by the supervisor to the checking worker): `disable-health`,
    /// `enable-health`, `disable-agent`, `enable-agent`, `agent-up`, `agent-down`. Returns false when this worker has
    /// no such server or no such check.
    /// </summary>
    public static bool Control(ProxyEngine engine, string backend, string server, string action)
    {
        if (Find(engine, backend, server) is not { } s) return false;
        switch (action)
        {
            case "disable-health" or "enable-health" when s.Checker is { } checker:
                checker.SetPaused(action == "disable-health");
                return true;
            case "disable-agent" or "enable-agent" when s.Agent is { } agent:
                agent.Paused = action == "disable-agent";
                return true;
            case "agent-up" or "agent-down" when s.Agent is { } agent:
                agent.Force(action == "agent-up");
                return true;
        }
        return false;
    }

    /// <summary>`shutdown sessions server BE/SRV`: this worker's sessions on the server end, logged 'K' (killed by the admin).</summary>
    public static bool ShutdownSessions(ProxyEngine engine, string backend, string server)
    {
        if (Find(engine, backend, server) is not { } s) return false;
        engine.KillServerSessions(s, 'K');
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
