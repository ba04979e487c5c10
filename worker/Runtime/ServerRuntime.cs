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

    /// <summary>
    /// <paramref name="counts"/>: the instance's counts file (null: this process only), <paramref name="row"/> this
    /// worker's row in it, <paramref name="countIndex"/> the server's count (Proxy.Shared.Limits.SharedCountIndex).
    /// </summary>
    public ServerRuntime(BackendRuntime backend, ServerConfig config, int index,
        Proxy.Shared.Limits.SharedCounts? counts = null, int row = 0, int countIndex = 0)
    {
        Backend = backend;
        Config = config;
        Index = index;
        _maxConn = config.MaxConn;
        _minConn = config.MinConn is > 0 and var min && min < config.MaxConn ? min : config.MaxConn;
        Permits = new SharedCount(counts, row, countIndex, config.MaxConn);
        Counters = new ProxyCounters(CounterKind.Server, backend.Config.Name, config.Name);
        _admin = config.Disabled ? ServerAdminState.Maint : ServerAdminState.Ready;
        _weight = config.Weight;
        _weightState = (uint)config.Weight;
        _endPoint = config.EndPoint;
        _unixEndPoint = config.UnixPath is { } path ? UnixAddress.EndPoint(path) : null;
        _hasAddress = !config.Unresolved;
        Passive = new Health.PassiveHealth(this, config.CheckSettings);
    }

    public BackendRuntime Backend { get; }
    public ServerConfig Config { get; }
    /// <summary>Position in the backend's declaration order (HAProxy's server id order, used by `balance first`).</summary>
    public int Index { get; }
    public ProxyCounters Counters { get; }
    /// <summary>Where connections go: the configured address until `set server ... addr` changes it.</summary>
    public IPEndPoint EndPoint => _endPoint;
    private volatile IPEndPoint _endPoint;

    /// <summary>`unix@`/`abns@` servers: the socket every connection goes to; null for an IP server.</summary>
    private readonly System.Net.Sockets.UnixDomainSocketEndPoint? _unixEndPoint;
    private volatile IPEndPoint? _mappedEndPoint;   // a port-mapped server's last target, reused while the port is the same
    private volatile SerializedTarget? _serialized;  // the last target connected to, as a sockaddr

    /// <summary>
    /// <paramref name="target"/> (from <see cref="ConnectTarget"/>) as the sockaddr connect() takes, serialized once per
    /// target rather than per connect (issue 15): a new address (`set server addr`, a DNS answer, another mapped port)
    /// is a new EndPoint object, which misses the cache and replaces it. Read-only once made: shared by every connect.
    /// </summary>
    public SocketAddress SocketAddressOf(EndPoint target)
    {
        if (_serialized is { } last && ReferenceEquals(last.Target, target)) return last.Address;
        var made = new SerializedTarget(target, target.Serialize());
        _serialized = made;
        return made.Address;
    }

    private sealed record SerializedTarget(EndPoint Target, SocketAddress Address);

    /// <summary>
    /// Where a connection for a client that reached <paramref name="frontend"/> goes: the UNIX socket, the server's
    /// address, or for a server without a port that address with the client's destination port (plus its offset,
    /// 5.2). Null when that port is unknown (a UNIX listener) or out of range: the connect fails. The mapped end
    /// point is kept while the port stays the same, so a frontend with one port allocates it once.
    /// </summary>
    public EndPoint? ConnectTarget(IPEndPoint? frontend)
    {
        if (_unixEndPoint is { } unix) return unix;
        var fixedTarget = _endPoint;
        if (!Config.ClientPort) return fixedTarget;
        if (frontend is null) return null;
        int port = frontend.Port + Config.PortOffset;
        if (port is < 1 or > 65535) return null;
        if (_mappedEndPoint is { } last && last.Port == port && last.Address.Equals(fixedTarget.Address)) return last;
        var mapped = new IPEndPoint(fixedTarget.Address, port);
        _mappedEndPoint = mapped;
        return mapped;
    }

    /// <summary>`set server ... agent-addr|agent-port|agent-send`: the agent check's target and string, each replacing the
    /// configured one (null: as configured); the agent check reads them at each check.</summary>
    internal AgentTargetOverride AgentTarget => _agentTarget;
    private volatile AgentTargetOverride _agentTarget = new(null, null, null);

    /// <summary>Replaces what is given, keeps the rest; one reference swap, so a check reads all three of one change.</summary>
    internal void SetAgentTarget(IPAddress? address, int? port, string? send)
    {
        var old = _agentTarget;
        _agentTarget = new AgentTargetOverride(address ?? old.Address, port ?? old.Port, send ?? old.Send);
    }

    /// <summary>The agent check's run-time address, port and string (null: as configured).</summary>
    internal sealed record AgentTargetOverride(IPAddress? Address, int? Port, string? Send);

    /// <summary>`set server ... check-port`: the health check's port, replacing the configured one; null: as configured.</summary>
    public int? CheckPort { get; private set; }

    /// <summary>
    /// `set server BE/SRV addr A [port P]`: new connections go to the new address; idle pooled connections to the
    /// old one are closed (HAProxy: srv_update_addr() then purging the idle connections), and the checker follows.
    /// </summary>
    internal void SetAddress(IPEndPoint endPoint)
    {
        if (endPoint.Equals(_endPoint)) return;
        _endPoint = endPoint;
        Pool.Clear();
        Checker?.Retarget();
        bool has = !endPoint.Address.Equals(IPAddress.Any);
        if (has == _hasAddress) return;
        _hasAddress = has;
        Backend.Picker.Rebuild();
    }

    /// <summary>
    /// False while the server has no address (0.0.0.0: `init-addr none`, or DNS gave it none): it takes no traffic
    /// and is not checked, as HAProxy's resolution maintenance (SRV_ADMF_RMAINT); shown as MAINT.
    /// </summary>
    public bool HasAddress => _hasAddress;
    private volatile bool _hasAddress;

    internal void SetCheckPort(int port)
    {
        CheckPort = port;
        Checker?.Retarget();
    }
    public string Name => Config.Name;
    /// <summary>
    /// The effective weight the balancers use: the user weight (configured, `set weight`, an agent's percentage),
    /// ramped by `slowstart` after the server came back UP.
    /// </summary>
    public int Weight => (int)(uint)Volatile.Read(ref _weightState);

    // The effective weight (low 32 bits) and a version (high 32 bits) bumped by every change of its inputs (user
    // weight, ramp start): a ramp step computed from older inputs fails its compare-and-swap instead of overwriting
    // what a `set weight` or a DOWN just published (see PublishWeight).
    private long _weightState;

    /// <summary>The user weight (HAProxy's uweight): the configured one until `set weight` or an agent changes it.</summary>
    public int UserWeight => _weight;

    // `slowstart`: when the ramp began (Environment.TickCount64); 0 when no ramp runs.
    private long _slowStartSinceMs;

    public ServerAdminState AdminState => _admin;
    /// <summary>`observe` / `error-limit`: real traffic reports connect results and responses here.</summary>
    public Health.PassiveHealth Passive { get; }
    /// <summary>chkfail, chkdown, lastchg, downtime and the last check's result (published by the checking worker).</summary>
    public Health.CheckStats CheckStats { get; } = new();
    /// <summary>The agent check of this server (`agent-check`), in the worker that runs the checks; null elsewhere.</summary>
    internal Health.AgentChecker? Agent { get; set; }
    /// <summary>The active checker of this server, in the worker that runs the checks; null elsewhere.</summary>
    internal Health.HealthChecker? Checker { get; set; }
    /// <summary>Idle keep-alive connections of `mode http` sessions.</summary>
    public Forwarding.ServerConnectionPool Pool { get; } = new();

    /// <summary>False once the health check saw `fall` consecutive failures; true again after `rise` successes.</summary>
    public bool IsUp => _up;

    /// <summary>May receive new traffic: ready (not in drain or maintenance), weight above zero, up and not stopping.</summary>
    public bool IsUsable => _admin == ServerAdminState.Ready && _weight > 0 && _up && !_stopping && _hasAddress;

    /// <summary>
    /// HAProxy's SRV_ST_STOPPING (NOLB): `http-check disable-on-404` saw a 404 while the server was UP. It takes no new
    /// load-balanced traffic; persistent traffic still reaches it (BackendPersistence.IsRunning looks at IsUp only).
    /// </summary>
    public bool IsStopping => _stopping;

    /// <summary>The servers whose `track` names this one (linked once by the engine; config validation rules out loops).</summary>
    internal List<ServerRuntime> Trackers { get; } = [];
    private volatile bool _stopping;

    /// <summary>Enters or leaves NOLB; returns true when it changed. Going DOWN leaves it (HAProxy: STOPPED).</summary>
    internal bool SetStopping(bool stopping)
    {
        if (_stopping == stopping) return false;
        _stopping = stopping;
        Backend.Picker.Rebuild();
        foreach (var t in Trackers) t.SetStopping(stopping);
        return true;
    }

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
        PublishWeight(Environment.TickCount64);
        Backend.Picker.Rebuild();
    }

    /// <summary>Whether a `slowstart` ramp is running (the engine's timer then calls <see cref="AdvanceSlowStart"/>).</summary>
    internal bool InSlowStart => Volatile.Read(ref _slowStartSinceMs) != 0;

    /// <summary>Steps the `slowstart` ramp; rebuilds the balancing when the effective weight moved.</summary>
    internal void AdvanceSlowStart(long nowMs)
    {
        while (true)
        {
            var step = ComputeStep(nowMs);
            if (step.Weight == (int)(uint)step.Seen) return;
            if (TryPublishStep(step))
            {
                Backend.Picker.Rebuild();
                return;
            }
            // Lost to a `set weight`, UP or DOWN published meanwhile: computed again from the new inputs.
        }
    }

    /// <summary>A ramp step: the published state it was computed against, and the effective weight it computed.</summary>
    internal readonly record struct WeightStep(long Seen, int Weight);

    /// <summary>The timer's read half: the ramped weight now, with the state it replaces.</summary>
    internal WeightStep ComputeStep(long nowMs)
    {
        long seen = Volatile.Read(ref _weightState);
        return new WeightStep(seen, RampedWeight(nowMs));
    }

    /// <summary>The timer's write half: publishes <paramref name="step"/> unless any change was published since it was computed.</summary>
    internal bool TryPublishStep(WeightStep step)
    {
        long next = (step.Seen & ~0xFFFFFFFFL) | (uint)step.Weight;   // same version: a step changes no input
        return Interlocked.CompareExchange(ref _weightState, next, step.Seen) == step.Seen;
    }

    /// <summary>
    /// After a writer changed the inputs (`set weight`, UP, DOWN): computes the effective weight and publishes it with
    /// the version bumped, so a ramp step computed before (<see cref="TryPublishStep"/>) loses its compare-and-swap and
    /// is computed again from the new inputs. Whoever publishes last has read the inputs after every write published
    /// before it: no stale weight stays. Two writers racing each other retry the same way.
    /// </summary>
    private void PublishWeight(long nowMs)
    {
        while (true)
        {
            long seen = Volatile.Read(ref _weightState);
            int next = RampedWeight(nowMs);
            long version = (seen >> 32) + 1;
            if (Interlocked.CompareExchange(ref _weightState, (version << 32) | (uint)next, seen) == seen) return;
        }
    }

    // HAProxy's server_recalc_eweight(): during `slowstart` the weight grows linearly from 1 to the user weight.
    private int RampedWeight(long nowMs)
    {
        long since = Volatile.Read(ref _slowStartSinceMs);
        long rampMs = (long)Config.CheckSettings.SlowStart.TotalMilliseconds;
        if (since == 0 || rampMs <= 0) return _weight;
        long elapsed = nowMs - since;
        if (elapsed >= rampMs)
        {
            // Only the ramp that was read ends: a new one started meanwhile (UP again) stays.
            Interlocked.CompareExchange(ref _slowStartSinceMs, 0, since);
            return _weight;
        }
        if (_weight == 0) return 0;
        return (int)Math.Max(1, (_weight * elapsed + rampMs - 1) / rampMs);
    }

    // The checking worker's two verdicts (HAProxy: a server is running when its check and its agent both allow it).
    private readonly Lock _verdictGate = new();
    private bool _checkDown, _agentDown;

    /// <summary>The health check's verdict; returns true when the server's state changed.</summary>
    internal bool SetCheckVerdict(bool up)
    {
        lock (_verdictGate)
        {
            _checkDown = !up;
            return SetUp(!_checkDown && !_agentDown);
        }
    }

    /// <summary>The agent's `up` or `down|fail|stopped`; returns true when the server's state changed.</summary>
    internal bool SetAgentVerdict(bool up)
    {
        lock (_verdictGate)
        {
            _agentDown = !up;
            return SetUp(!_checkDown && !_agentDown);
        }
    }

    /// <summary>Called on every state change but a restored one (this worker's engine: `on-marked-down`, `on-marked-up`).</summary>
    internal Action<ServerRuntime, bool>? Marked { get; set; }

    /// <summary>
    /// Changes the health state; returns true when it actually changed. Called by the health checker, or with the
    /// checker's relayed verdict; <paramref name="restored"/> when a new worker takes the state known before it (not
    /// a transition: chkdown does not count it).
    /// </summary>
    internal bool SetUp(bool up, bool restored = false)
    {
        if (_up == up) return false;
        _up = up;
        if (!up) _stopping = false;
        if (restored) CheckStats.Restored(up);
        else CheckStats.Changed(up);
        // `slowstart` (5.2): "only applies when a server has been previously seen as failed", never at start.
        if (up && !restored && Config.CheckSettings.SlowStart > TimeSpan.Zero)
        {
            long now = Environment.TickCount64;
            Volatile.Write(ref _slowStartSinceMs, now == 0 ? 1 : now);
            PublishWeight(now);
        }
        else if (!up)
        {
            Volatile.Write(ref _slowStartSinceMs, 0);
            PublishWeight(Environment.TickCount64);
        }
        Backend.Picker.Rebuild(restored);
        if (!restored) Marked?.Invoke(this, up);
        // `track`: the servers tracking this one take its state (HAProxy's srv_propagate_status), in every worker.
        foreach (var t in Trackers) t.SetUp(up, restored);
        return true;
    }

    /// <summary>
    /// The server's `maxconn` (0: unlimited), for the whole instance: every worker reserves in <see cref="Permits"/>,
    /// so the server never works on more than this many requests (mode http) or connections (mode tcp) at once,
    /// as with HAProxy's threads sharing srv->served. <see cref="DynamicMaxConn"/> may allow fewer. `set maxconn
    /// server` and an agent's `maxconn:N` change it (<see cref="SetMaxConn"/>).
    /// </summary>
    public int MaxConn => _maxConn;
    private volatile int _maxConn;

    /// <summary>`minconn` (5.2) as the config leaves it: equal to <see cref="MaxConn"/> unless the limit is dynamic.</summary>
    public int MinConn => _minConn;
    private volatile int _minConn;

    /// <summary>Whether <see cref="Permits"/> are counted: the server had a `maxconn` in the config (the counts file has its count).</summary>
    internal bool CountsPermits => Config.MaxConn > 0;

    /// <summary>
    /// `set maxconn server BE/SRV N` / an agent's `maxconn:N`, as HAProxy's server_parse_maxconn_change_request(): a
    /// static limit (minconn = maxconn) moves both, a dynamic one only maxconn; 0 lifts the limit. Requests above a
    /// lowered limit go on (as HAProxy's); a raised one lets queued requests in at once. Null, or why not applied.
    /// </summary>
    internal string? SetMaxConn(int value)
    {
        if (value < 0) return $"maxconn {value} is negative";
        if (value > 0 && !CountsPermits) return "the server has no maxconn in the config: its connections are not counted";
        if (_minConn == _maxConn) _minConn = value;
        _maxConn = value;
        Backend.Queue.Dispatch(this);
        return null;
    }

    /// <summary>
    /// HAProxy 2.6's srv_dynamic_maxconn(): the limit in force now. With `minconn` below `maxconn`, it grows with the
    /// backend's load across workers (beconn) as max(minconn, beconn * maxconn / fullconn), reaching maxconn at
    /// `fullconn`; during a `slowstart` ramp it is scaled by the ramp's progress, never below 1. No allocation, no lock.
    /// </summary>
    internal long DynamicMaxConn(long nowMs)
    {
        long max = MaxConn;
        if (MinConn != max && Backend.Load is { } load)
        {
            long beconn = load.InUse;
            if (beconn < Backend.Config.FullConn) max = Math.Max(MinConn, beconn * max / Backend.Config.FullConn);
        }
        long since = Volatile.Read(ref _slowStartSinceMs);
        long rampMs = (long)Config.CheckSettings.SlowStart.TotalMilliseconds;
        if (since != 0 && nowMs >= since && nowMs - since < rampMs)
            max = Math.Max(1, max * (100 * (nowMs - since) / rampMs) / 100);
        return max;
    }

    /// <summary>Takes one of the server's permits if the instance holds fewer than <see cref="DynamicMaxConn"/> (always, without `maxconn`).</summary>
    internal bool TryTakePermit() => !CountsPermits || Permits.TryReserve(LimitNow());

    /// <summary>Whether a permit would be free now (no permit taken: `balance first` looks before it picks).</summary>
    internal bool HasRoom => !CountsPermits || Permits.InUse < LimitNow();

    // A counted server whose limit was lifted at run time (`set maxconn server ... 0`) keeps counting, without limit.
    private long LimitNow() => MaxConn == 0 ? long.MaxValue : DynamicMaxConn(Environment.TickCount64);

    /// <summary>`maxconn` permits held by requests (mode http) or connections (mode tcp), counted instance-wide;
    /// idle pooled server connections hold none (HAProxy's `served`). Only BackendQueue reserves and releases.</summary>
    internal SharedCount Permits { get; }

    /// <summary>Permits this worker holds (tests check that none leaks).</summary>
    internal long Served => Permits.Own;

    /// <summary>Current sessions, used by `leastconn`, `first` and `random` (the least loaded of its draws).</summary>
    public long CurrentSessions => Counters.CurrentSessions;
}
