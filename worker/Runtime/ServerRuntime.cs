using System.Net;
using Proxy.Shared.Config;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Runtime;

/// <summary>Run-time state of one `server` line: its counters, its health as seen by the checks, and what the
/// operator set at run time (admin state and weight, HAProxy's `set server` / `set weight`).</summary>
internal sealed class ServerRuntime
{
    private volatile bool _up = true;   // HAProxy starts servers UP (unless `init-state` says otherwise)
    private volatile ServerAdminState _admin;
    private volatile int _weight;

    public ServerRuntime(BackendRuntime backend, ServerConfig config, int index, int workerCount = 1)
    {
        Backend = backend;
        Config = config;
        Index = index;
        MaxConn = PerWorkerMaxConn(config.MaxConn, workerCount);
        Counters = new ProxyCounters(CounterKind.Server, backend.Config.Name, config.Name);
        _admin = config.Disabled ? ServerAdminState.Maint : ServerAdminState.Ready;
        _weight = config.Weight;
        Passive = new Health.PassiveHealth(this, config.CheckSettings);
    }

    public BackendRuntime Backend { get; }
    public ServerConfig Config { get; }
    /// <summary>Position in the backend's declaration order (HAProxy's server id order, used by `balance first`).</summary>
    public int Index { get; }
    public ProxyCounters Counters { get; }
    public IPEndPoint EndPoint => Config.EndPoint;
    public string Name => Config.Name;
    /// <summary>The current weight: the configured one until `set weight` changes it.</summary>
    public int Weight => _weight;

    public ServerAdminState AdminState => _admin;
    /// <summary>`observe` / `error-limit`: real traffic reports connect results and responses here.</summary>
    public Health.PassiveHealth Passive { get; }
    /// <summary>chkfail, chkdown, lastchg, downtime and the last check's result (published by the checking worker).</summary>
    public Health.CheckStats CheckStats { get; } = new();
    /// <summary>The active checker of this server, in the worker that runs the checks; null elsewhere.</summary>
    internal Health.HealthChecker? Checker { get; set; }
    /// <summary>Idle keep-alive connections of `mode http` sessions.</summary>
    public Forwarding.ServerConnectionPool Pool { get; } = new();

    /// <summary>False once the health check saw `fall` consecutive failures; true again after `rise` successes.</summary>
    public bool IsUp => _up;

    /// <summary>May receive new traffic: ready (not in drain or maintenance), weight above zero, and up.</summary>
    public bool IsUsable => _admin == ServerAdminState.Ready && _weight > 0 && _up;

    /// <summary>`set server ... state`: drain and maint take no new traffic; connections in progress go on.</summary>
    internal void SetAdminState(ServerAdminState state)
    {
        if (_admin == state) return;
        _admin = state;
        Backend.Picker.Rebuild();
    }

    /// <summary>`set weight` (0-256, HAProxy's range); 0 takes no new traffic.</summary>
    internal void SetWeight(int weight)
    {
        if (_weight == weight) return;
        _weight = weight;
        Backend.Picker.Rebuild();
    }

    /// <summary>
    /// Changes the health state; returns true when it actually changed. Called by the health checker, or with the
    /// checker's relayed verdict; <paramref name="restored"/> when a new worker takes the state known before it (not
    /// a transition: chkdown does not count it).
    /// </summary>
    internal bool SetUp(bool up, bool restored = false)
    {
        if (_up == up) return false;
        _up = up;
        if (restored) CheckStats.Restored(up);
        else CheckStats.Changed(up);
        Backend.Picker.Rebuild(restored);
        return true;
    }

    /// <summary>
    /// This worker's share of the server's `maxconn` (0: unlimited). Workers are separate processes with their own
    /// balancing state, so the configured limit is split between them: ceil(maxconn / workers) each. The server
    /// then never sees more than maxconn rounded up to a multiple of the worker count (exactly maxconn when the
    /// count divides it), and a worker never queues while its own share has a free permit. HAProxy's threads share
    /// one counter; splitting is the honest equivalent without shared memory on the request path.
    /// </summary>
    public int MaxConn { get; }

    /// <summary>Requests (mode http) or connections (mode tcp) holding one of this worker's `maxconn` permits; idle
    /// pooled server connections hold none (HAProxy's `served`). Only BackendQueue changes it.</summary>
    internal int Served;

    /// <summary>ceil(<paramref name="configured"/> / <paramref name="workers"/>); 0 stays 0 (no limit).</summary>
    public static int PerWorkerMaxConn(int configured, int workers)
        => configured <= 0 ? 0 : (int)(((long)configured + Math.Max(1, workers) - 1) / Math.Max(1, workers));

        /// <summary>Current sessions, used by `leastconn`, `first` and `random` (the least loaded of its draws).</summary>
    public long CurrentSessions => Counters.CurrentSessions;
}
