using Proxy.Shared.Control;
using Proxy.Worker.Balancing;
using Proxy.Worker.Forwarding;
using Proxy.Worker.Health;

namespace Proxy.Worker;

// What a server's state change does beyond balancing (doc/configuration.txt 5.2 "on-marked-down", "on-marked-up",
// "slowstart", "agent-check"), and the runtime API's `shutdown sessions server`.
public sealed partial class ProxyEngine
{
    /// <summary>
    /// In a worker: an agent's weight or administrative state, sent to the supervisor, which applies it in every worker
    /// (as `set server`); null: applied in this engine only.
    /// </summary>
    internal Action<ServerOverride>? ServerSettingChanged { get; set; }

    /// <summary>Hooks a server's state changes, and starts its agent check when this engine runs the checks.</summary>
    private void StartServerEvents(ServerRuntime server)
    {
        server.Marked = OnServerMarked;
        if (!RunsHealthChecks || !server.Config.CheckSettings.Agent.Enabled || server.Config.Disabled) return;
        var agent = new AgentChecker(server, Log, HealthChanged, ApplyServerSetting, _config.Global.SpreadChecks);
        server.Agent = agent;
        _tasks.Add(Task.Run(() => agent.RunAsync(_checksStop.Token)));
    }

    private void ApplyServerSetting(ServerOverride change)
    {
        if (ServerSettingChanged is { } send) send(change);
        else if (ServerOverrides.Apply(this, change) is { } problem) Log.Warn($"server setting not applied: {problem}");
    }

    /// <summary>Every worker applies `on-marked-down` / `on-marked-up` to its own sessions when it learns the change.</summary>
    private void OnServerMarked(ServerRuntime server, bool up)
    {
        var settings = server.Config.CheckSettings;
        if (!up && settings.ShutdownSessionsOnDown)
        {
            KillServerSessions(server, 'D');
        }
        else if (up && settings.ShutdownBackupSessionsOnUp && !server.Config.Backup && server.Weight > 0)
        {
            foreach (var other in server.Backend.Servers)
                if (other.Config.Backup) KillServerSessions(other, 'U');
        }
    }

    /// <summary>Closes this worker's sessions on <paramref name="server"/>, logged with termination code <paramref name="cause"/>; returns how many.</summary>
    internal int KillServerSessions(ServerRuntime server, char cause)
    {
        int killed = 0;
        var sessions = _sessions;
        using var reading = SessionReaders.Enter();
        for (int i = 0; i < sessions.Length; i++)
        {
            if (Volatile.Read(ref sessions[i]) is { } session && ReferenceEquals(session.CurrentServer, server) && !session.IsAborted)
            {
                session.Kill(cause);
                killed++;
            }
        }
        return killed;
    }

    /// <summary>The timer's step of every running `slowstart` ramp.</summary>
    private void AdvanceSlowStarts(long nowMs)
    {
        foreach (var be in _backends)
            foreach (var s in be.Servers)
                if (s.InSlowStart) s.AdvanceSlowStart(nowMs);
    }
}
