using System.Globalization;
using Proxy.Shared.Config;
using Proxy.Shared.Control;

namespace Proxy.Supervisor;

/// <summary>
/// The operator's run-time server settings (admin state, weight), by `backend/server` name. They outlive
/// workers: a respawned or reloaded worker gets them at start, and a reload keeps those whose server still
/// exists (HAProxy keeps them only with `load-server-state-from-file`; here it is the default).
/// </summary>
public sealed class ServerSettings
{
    private readonly Dictionary<string, ServerOverride> _byKey = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Validates a change against <paramref name="config"/> and records it; returns the merged setting, or an error.</summary>
    public (ServerOverride? Setting, string? Error) Set(ProxyConfig config, string target, string? state, int? weight,
        System.Net.IPEndPoint? address = null, int? checkPort = null, int? maxConn = null, AgentTarget? agent = null)
    {
        int slash = target.IndexOf('/');
        if (slash <= 0 || slash == target.Length - 1) return (null, "Require 'backend/server'.");
        string backend = target[..slash], server = target[(slash + 1)..];
        var be = config.FindBackend(backend);
        if (be is null) return (null, "No such backend.");
        ServerConfig? sc = null;
        foreach (var s in be.Servers) if (s.Name == server) sc = s;
        if (sc is null) return (null, "No such server.");
        if (state is not null and not ("ready" or "drain" or "maint")) return (null, "'set server <srv> state' expects 'ready', 'drain' and 'maint'.");
        if (weight is < 0 or > 256) return (null, "Invalid weight: it must be between 0 and 256.");
        // A server without `maxconn` in the config has no count in the shared counts file: a limit cannot start here.
        if (maxConn is > 0 && sc.MaxConn == 0)
            return (null, "This server has no maxconn in the configuration: its connections are not counted here, so none can be set at run time.");
        if (maxConn is < 0) return (null, "Value out of range.");
        lock (_gate)
        {
            _byKey.TryGetValue(target, out var old);
            var merged = new ServerOverride(backend, server, state ?? old?.State, weight ?? old?.Weight)
            {
                Address = address ?? old?.Address,
                CheckPort = checkPort ?? old?.CheckPort,
                MaxConn = maxConn ?? old?.MaxConn,
                AgentAddress = agent?.Address ?? old?.AgentAddress,
                AgentPort = agent?.Port ?? old?.AgentPort,
                AgentSend = agent?.Send ?? old?.AgentSend,
            };
            _byKey[target] = merged;
            return (merged, null);
        }
    }

    /// <summary>`set server ... agent-addr|agent-port|agent-send`: what changes of the agent check's target (null: unchanged).</summary>
    public sealed record AgentTarget(System.Net.IPAddress? Address, int? Port, string? Send);

    /// <summary>`set weight BE/SRV N` or `N%` (of the configured weight, as HAProxy's `set weight`).</summary>
    public static int? ParseWeight(string text, ProxyConfig config, string target)
    {
        if (text.EndsWith('%'))
        {
            if (!int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out int pct)) return null;
            int configured = Configured(config, target)?.Weight ?? 1;
            return Math.Clamp(configured * pct / 100, 0, 256);
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int w) ? w : null;
    }

    /// <summary>The `server` line behind <paramref name="target"/>, or null.</summary>
    public static ServerConfig? Configured(ProxyConfig config, string target)
    {
        int slash = target.IndexOf('/');
        if (slash <= 0) return null;
        var be = config.FindBackend(target[..slash]);
        if (be is null) return null;
        foreach (var s in be.Servers) if (s.Name == target[(slash + 1)..]) return s;
        return null;
    }

    public ServerOverride? Get(string target)
    {
        lock (_gate) return _byKey.GetValueOrDefault(target);
    }

    /// <summary>The settings of servers that exist in <paramref name="config"/>, for a new worker.</summary>
    public ServerOverride[] For(ProxyConfig config)
    {
        lock (_gate)
        {
            var list = new List<ServerOverride>();
            foreach (var o in _byKey.Values)
                if (Configured(config, o.Key) is not null) list.Add(o);
            return [.. list];
        }
    }

    /// <summary>After a reload: forgets settings of servers the new config no longer has.</summary>
    public void KeepOnly(ProxyConfig config)
    {
        lock (_gate)
        {
            foreach (var key in _byKey.Keys.ToList())
                if (Configured(config, key) is null) _byKey.Remove(key);
        }
    }
}
