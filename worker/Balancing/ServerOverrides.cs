using Proxy.Shared.Control;

namespace Proxy.Worker.Balancing;

/// <summary>Applies the operator's run-time server settings (<see cref="ServerOverride"/>) to this worker's backends.</summary>
internal static class ServerOverrides
{
    /// <summary>Returns null when applied, else why not (unknown server, bad state or weight).</summary>
    public static string? Apply(ProxyEngine engine, ServerOverride change)
    {
        ServerRuntime? server = null;
        foreach (var be in engine.Backends)
        {
            if (be.Name != change.Backend) continue;
            foreach (var s in be.Servers)
                if (s.Name == change.Server) server = s;
        }
        if (server is null) return $"no server {change.Key}";
        if (change.Weight is { } weight)
        {
            if (weight is < 0 or > 256) return $"weight {weight} is outside 0-256";
            server.SetWeight(weight);
        }
        if (change.CheckPort is { } checkPort)
        {
            if (checkPort is < 1 or > 65535) return $"check port {checkPort} is outside 1-65535";
            server.SetCheckPort(checkPort);
        }
        if (change.Address is { } address) server.SetAddress(address);
        if (change.AgentAddress is not null || change.AgentPort is not null || change.AgentSend is not null)
            server.SetAgentTarget(change.AgentAddress, change.AgentPort, change.AgentSend);
        if (change.MaxConn is { } maxConn && maxConn != server.MaxConn && server.SetMaxConn(maxConn) is { } refused)
            return $"maxconn not applied: {refused}";
        if (change.State is { } state)
        {
            switch (state)
            {
                case "ready": server.SetAdminState(ServerAdminState.Ready); break;
                case "drain": server.SetAdminState(ServerAdminState.Drain); break;
                case "maint": server.SetAdminState(ServerAdminState.Maint); break;
                default: return $"unknown state '{state}'";
            }
        }
        return null;
    }
}
