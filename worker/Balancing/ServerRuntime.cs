using System.Net;
using Proxy.Shared.Config;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Balancing;

/// <summary>Run-time state of one `server` line: its counters and its health as seen by the checks.</summary>
internal sealed class ServerRuntime
{
    private volatile bool _up = true;   // HAProxy starts servers UP (unless `init-state` says otherwise)

    public ServerRuntime(BackendRuntime backend, ServerConfig config, int index)
    {
        Backend = backend;
        Config = config;
        Index = index;
        Counters = new ProxyCounters(CounterKind.Server, backend.Config.Name, config.Name);
    }

    public BackendRuntime Backend { get; }
    public ServerConfig Config { get; }
    /// <summary>Position in the backend's declaration order (HAProxy's server id order, used by `balance first`).</summary>
    public int Index { get; }
    public ProxyCounters Counters { get; }
    public IPEndPoint EndPoint => Config.EndPoint;
    public string Name => Config.Name;
    public int Weight => Config.Weight;
    /// <summary>Idle keep-alive connections of `mode http` sessions.</summary>
    public Forwarding.ServerConnectionPool Pool { get; } = new();

    /// <summary>False once the health check saw `fall` consecutive failures; true again after `rise` successes.</summary>
    public bool IsUp => _up;

    /// <summary>May receive traffic: not `disabled`, weight above zero, and up.</summary>
    public bool IsUsable => !Config.Disabled && Config.Weight > 0 && _up;

    /// <summary>Changes the health state; returns true when it actually changed. Called by the health checker only.</summary>
    internal bool SetUp(bool up)
    {
        if (_up == up) return false;
        _up = up;
        Backend.Rebuild();
        return true;
    }

    /// <summary>Current sessions, used by `leastconn` and `first`.</summary>
    public long CurrentSessions => Counters.CurrentSessions;
}
