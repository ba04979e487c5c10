using System.Net.Sockets;
using System.Numerics;
using Proxy.Shared.Config;
using Proxy.Shared.Limits;
using Proxy.Shared.Threading;
using Proxy.Worker.Forwarding;
using Proxy.Worker.Health;
using Proxy.Worker.Logging;
using Proxy.Worker.Stats;

namespace Proxy.Worker;

/// <summary>
/// The worker's forwarding engine (`mode tcp` sessions and `mode http` ones): accept loops on the listeners handed over by the supervisor,
/// server selection, connect/retry, bidirectional forwarding, timeouts, health checks and counters.
/// The engine never owns a listening socket alone: stopping disposes only its own Socket objects.
/// </summary>
public sealed partial class ProxyEngine : IAsyncDisposable
{
    private const long MaxTimerPeriodMs = 100;
    private const int MaxAcceptPerTurn = 64;   // HAProxy 1.8's tune.maxaccept default; 2.6's 4 measured no better (perf/README.md, seventeenth session)

    private readonly ProxyConfig _config;
    private readonly IReadOnlyList<BoundListener> _listeners;
    private readonly FrontendRuntime[] _frontends;
    private readonly BackendRuntime[] _backends;
    private readonly FrontendRuntime[] _listenerFrontends;   // parallel to _listeners
    private readonly ProxySession?[] _sessions;                 // sized by global maxconn: a free place always exists
    // One bit per place of _sessions, set while a session holds it: the timer visits the set bits instead of every
    // place (global maxconn of them, 20,000 in the bench: about 40 µs a tick, ten a second, with nobody connected).
    private readonly ulong[] _occupied;
    /// <summary>Who reads <see cref="_sessions"/> besides the sessions themselves: every such reader enters it first (HttpSessionPool).</summary>
    internal SessionTableReaders SessionReaders { get; } = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _checksStop = new();
    private readonly List<Task> _tasks = [];
    private readonly int _globalMaxConn;
    private readonly long _timerPeriodMs;
    private TickThread? _timer;
    private readonly SharedCount _globalConnections;   // global `maxconn`, instance-wide (HAProxy's actconn)
    private TaskCompletionSource? _permitWaiter;   // set while an accept loop waits for a free connection permit
    private int _active;
    private long _total;
    private int _indexHint;
    private long _lastPurgeMs;
    private readonly MemoryTrimmer _trimmer = new(Environment.TickCount64);
    /// <summary>Idle server connections older are closed (HAProxy's `pool-purge-delay`, 5 s); tests shorten it
    /// (PROXY_POOL_PURGE_DELAY_MS for a whole worker, or this property for one engine).</summary>
    internal long PoolPurgeDelayMs { get; set; } = HousekeepingIntervals.PoolPurgeDelayMs;
    private int _started;
    private int _stopped;
    private int _disposed;

    /// <summary>
    /// Builds the run-time state for <paramref name="config"/>. Throws NotSupportedException for a frontend whose
    /// default backend has another mode, and ArgumentException for a frontend whose backends do not exist.
    /// <paramref name="counts"/>: the counts file every worker of this generation shares, where global, frontend and
    /// server `maxconn` are counted instance-wide (row <paramref name="row"/> is this worker's, its worker slot); null
    /// for an engine alone (tests), whose limits then hold for this process.
    /// </summary>
    public ProxyEngine(ProxyConfig config, IReadOnlyList<BoundListener> listeners, NLog.ILogger log, SharedCounts? counts = null, int row = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(listeners);
        ArgumentNullException.ThrowIfNull(log);
        _config = config;
        _listeners = listeners;
        Log = log;
        _globalMaxConn = config.Global.MaxConn > 0 ? config.Global.MaxConn : GlobalSettings.Default.MaxConn;
        BufferSize = config.Global.BufSize > 0 ? config.Global.BufSize : GlobalSettings.Default.BufSize;
        // Compression limits are split evenly between the workers (a row of the counts file each); alone, one share.
        Compression = new Compression.CompressionLimits(config.Global, counts?.RowCount ?? 1);

        _backends = new BackendRuntime[config.Backends.Count];
        _globalConnections = new SharedCount(counts, row, SharedCountIndex.Global, _globalMaxConn);
        for (int i = 0; i < _backends.Length; i++)
            _backends[i] = new BackendRuntime(config.Backends[i], counts, row, SharedCountIndex.FirstServer(config, i), SharedCountIndex.Backend(config, i));
        LinkTrackers();

        _frontends = new FrontendRuntime[config.Frontends.Count];
        for (int i = 0; i < _frontends.Length; i++)
        {
            var fe = config.Frontends[i];
            BackendRuntime? be = null;
            if (fe.DefaultBackend is not null)
            {
                be = FindBackend(fe.DefaultBackend)
                    ?? throw new ArgumentException($"frontend '{fe.Name}' uses unknown backend '{fe.DefaultBackend}'", nameof(config));
            }
            // A frontend without `maxconn` has no count of its own: the global one bounds it (HAProxy's default).
            long feLimit = fe.MaxConn > 0 && fe.MaxConn < _globalMaxConn ? fe.MaxConn : 0;
            _frontends[i] = new FrontendRuntime(fe, be, new SharedCount(counts, row, SharedCountIndex.Frontend(i), feLimit));
            var rules = fe.Http.UseBackends;
            var compiled = new (Http.CompiledCondition, BackendRuntime?, DynamicBackendName?)[rules.Count];
            for (int r = 0; r < rules.Count; r++)
            {
                compiled[r] = rules[r].NameFormat is { } nameFormat
                    ? (new Http.CompiledCondition(rules[r].Condition), null, new DynamicBackendName(nameFormat, _backends, fe.Mode))
                    : (new Http.CompiledCondition(rules[r].Condition), FindBackend(rules[r].Backend)
                        ?? throw new ArgumentException($"frontend '{fe.Name}' uses unknown backend '{rules[r].Backend}'", nameof(config)), null);
            }
            _frontends[i].UseBackends = compiled;
        }

        _listenerFrontends = new FrontendRuntime[listeners.Count];
        for (int i = 0; i < listeners.Count; i++)
        {
            var l = listeners[i];
            var fe = FindFrontend(l.Frontend.Name)
                ?? throw new ArgumentException($"listener {l.Bind.Key} belongs to unknown frontend '{l.Frontend.Name}'", nameof(listeners));
            if (fe.Backend is { } be && be.Config.Mode != fe.Config.Mode)
                throw new NotSupportedException($"frontend '{fe.Config.Name}' and backend '{be.Name}' have different modes");
            _listenerFrontends[i] = fe;
        }

        _sessions = new ProxySession?[_globalMaxConn];
        _occupied = new ulong[(_globalMaxConn + 63) / 64];
        long minTimeout = MaxTimerPeriodMs * 4;
        foreach (var be in _backends)
        {
            foreach (long t in (ReadOnlySpan<long>)[be.ConnectTimeoutMs, be.ServerTimeoutMs, be.TunnelTimeoutMs, be.Queue.TimeoutMs])
                if (t > 0 && t < minTimeout) minTimeout = t;
        }
        foreach (var fe in _frontends)
        {
            foreach (long t in (ReadOnlySpan<long>)[fe.ClientTimeoutMs, fe.ServerTimeoutMs, fe.ConnectTimeoutMs, fe.HttpRequestTimeoutMs, fe.HttpKeepAliveTimeoutMs])
                if (t > 0 && t < minTimeout) minTimeout = t;
        }
        // `timeout tarpit` (HttpSession.TarpitAsync) ends on this tick too.
        foreach (var fe in _frontends)
            if (Milliseconds.From(fe.Config.Timeouts.Tarpit) is > 0 and var tarpit && tarpit < minTimeout) minTimeout = tarpit;
        foreach (var be in _backends)
            if (Milliseconds.From(be.Config.Timeouts.Tarpit) is > 0 and var tarpit && tarpit < minTimeout) minTimeout = tarpit;
        // A quarter of the shortest timeout: expiry is late by at most 25%, and never scanned more than every 10 ms.
        _timerPeriodMs = Math.Clamp(minTimeout / 4, 10, MaxTimerPeriodMs);

        var counters = new List<ProxyCounters>();
        foreach (var fe in _frontends) counters.Add(fe.Counters);
        foreach (var be in _backends)
        {
            counters.Add(be.Counters);
            foreach (var s in be.Servers) counters.Add(s.Counters);
        }
        Counters = counters;
        TrafficLog = CreateTrafficLogger(log);
    }

    /// <summary>
    /// One traffic logger for the frontends that log (`option httplog` / `option tcplog` with `log` targets taking
    /// info messages); frontends writing to the same target share its socket. Null when none logs.
    /// </summary>
    private TrafficLogger? CreateTrafficLogger(NLog.ILogger log)
    {
        var sinks = new Dictionary<string, TrafficLogSink>(StringComparer.Ordinal);
        foreach (var fe in _frontends)
        {
            if (fe.Config.LogFormat == TrafficLogFormat.None) continue;
            var mine = new List<TrafficLogSink>();
            foreach (var target in fe.Config.Logs)
            {
                var sink = new TrafficLogSink(target);
                if (sinks.TryGetValue(sink.Key, out var shared)) sink = shared;
                else sinks.Add(sink.Key, sink);
                if (!mine.Contains(sink)) mine.Add(sink);
            }
            fe.LogSinks = [.. mine];
        }
        if (sinks.Count == 0) return null;
        var logger = new TrafficLogger([.. sinks.Values], log, _config.Global.LogTag, _config.Global.LogHostname);
        foreach (var fe in _frontends)
            if (fe.LogSinks.Length > 0) fe.TrafficLog = logger;
        return logger;
    }

    /// <summary>The per-request / per-connection traffic logger, null when no frontend logs traffic.</summary>
    internal TrafficLogger? TrafficLog { get; }

    /// <summary>The configuration this engine runs (one generation: a reload starts a new engine in a new worker).</summary>
    public ProxyConfig Config => _config;

    internal NLog.ILogger Log { get; }
    internal int BufferSize { get; }
    /// <summary>This worker's share of the global compression limits and its compression rates (worker/Compression).</summary>
    internal Compression.CompressionLimits Compression { get; }
    internal IReadOnlyList<BackendRuntime> Backends => _backends;

    // `track [BE/]SRV` (5.2): each tracked server tells its trackers of every state change (ServerRuntime.SetUp).
    private void LinkTrackers()
    {
        foreach (var be in _backends)
            foreach (var s in be.Servers)
            {
                if (s.Config.CheckSettings.Track is not { } track) continue;
                int slash = track.IndexOf('/');
                var owner = slash < 0 ? be : FindBackend(track[..slash]);
                string name = track[(slash + 1)..];
                if (owner is null) continue;
                foreach (var target in owner.Servers)
                    if (target.Name == name) target.Trackers.Add(s);
            }
    }
    /// <summary>Set once accepting stops (drain): HTTP sessions then close after the response in progress.</summary>
    internal bool IsStopping => Volatile.Read(ref _stopped) != 0;

    /// <summary>
    /// While draining, an idle keep-alive connection is left open this long, so a client that sends its next
    /// request meanwhile gets an answer with `Connection: close` instead of a connection closed under it (the
    /// race that costs HAProxy's reloads their keep-alive resets); only connections idle past it are closed.
    /// </summary>
    internal const long DrainIdleGraceMs = 1000;

    /// <summary>When accepting stopped (Environment.TickCount64), 0 while serving.</summary>
    internal long StoppingSinceMs => Volatile.Read(ref _stoppingSinceMs);
    private long _stoppingSinceMs;

    /// <summary>Every frontend, then each backend followed by its servers, in configuration order.</summary>
    public IReadOnlyList<ProxyCounters> Counters { get; }

    /// <summary>Client connections in progress (connecting or forwarding).</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>The global `maxconn` in force: the configured one until `set maxconn global` lowers it.</summary>
    public long MaxConn => _globalConnections.Limit;

    /// <summary>`disable|enable frontend NAME` (runtime API): stop or resume accepting on its listeners.</summary>
    internal string? SetFrontendPaused(string frontend, bool paused)
    {
        var fe = FindFrontend(frontend);
        if (fe is null) return $"no frontend {frontend}";
        fe.Paused = paused;
        if (!paused) WakePermitWaiter();
        return null;
    }

    /// <summary>
    /// The runtime API's `set maxconn global N` (at most the configured `maxconn`, HAProxy's range) and `set maxconn
    /// frontend NAME N` (a frontend whose `maxconn` is counted, i.e. set in the config). Returns null, or why not.
    /// </summary>
    internal string? SetMaxConn(string? frontend, long value)
    {
        if (value < 1 || value > _globalMaxConn) return $"maxconn {value} is outside 1-{_globalMaxConn}";
        if (frontend is null)
        {
            _globalConnections.Limit = value;
            WakePermitWaiter();   // a raised limit lets parked accept loops look again
            return null;
        }
        var fe = FindFrontend(frontend);
        if (fe is null) return $"no frontend {frontend}";
        if (fe.Connections.Limit == 0) return $"frontend {frontend} has no maxconn of its own to change";
        fe.Connections.Limit = value;
        WakePermitWaiter();
        return null;
    }

    /// <summary>Client connections accepted since the engine started.</summary>
    public long TotalConnections => Volatile.Read(ref _total);

    /// <summary>
    /// Whether this engine runs the active health checks (set before <see cref="Start"/>). In a worker, only one
    /// process checks and the supervisor hands its results to the others, so every worker sees the same health.
    /// </summary>
    public bool RunsHealthChecks { get; set; } = true;

    /// <summary>Called when a health check of this engine changes a server's state: (backend, server, up).</summary>
    public Action<string, string, bool>? HealthChanged { get; set; }

    /// <summary>Called when `http-check disable-on-404` moves an UP server into or out of NOLB: (backend, server, stopping).</summary>
    public Action<string, string, bool>? StoppingChanged { get; set; }

    /// <summary>
    /// In a worker that does not run the checks: `error-limit` consecutive passive errors of a server were seen here
    /// (backend, server, last event); the worker forwards them to the checking worker, which applies `on-error`.
    /// </summary>
    internal Action<string, string, PassiveEvent>? PassiveErrorLimit { get; set; }

    /// <summary>The board and the supervisor link behind the `stats` page and the Prometheus exporter (set before Start); null: they answer 503.</summary>
    internal Stats.StatsPageSource? StatsSource { get; set; }

    /// <summary>Starts one accept loop per listener, the timeout timer and the health checks. Call once.</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("engine already started");
        _timer = new TickThread("engine-timer", TimeSpan.FromMilliseconds(_timerPeriodMs), OnTimer);
        foreach (var be in _backends)
        {
            foreach (var s in be.Servers)
            {
                StartServerEvents(s);
                // Passive errors reach the one state machine of the server: its checker here, or, in a worker
                // that does not check, the checking worker through the supervisor (PassiveErrorLimit).
                if (s.Passive.Enabled)
                {
                    s.Passive.LimitReached = RunsHealthChecks
                        ? static (srv, last) => srv.Checker?.OnPassiveErrors(last, srv.Passive.ErrorLimit)
                        : (srv, last) => PassiveErrorLimit?.Invoke(srv.Backend.Name, srv.Name, last);
                }
                if (!RunsHealthChecks || !s.Config.Check || s.Config.Disabled) continue;
                var checker = new HealthChecker(s, Log, HealthChanged, _config.Global.Pp2NeverSendLocal, _config.Global.SpreadChecks)
                {
                    StoppingChanged = StoppingChanged,
                };
                s.Checker = checker;
                _tasks.Add(Task.Run(() => checker.RunAsync(_checksStop.Token)));
            }
        }
        for (int i = 0; i < _listeners.Count; i++)
        {
            var listener = _listeners[i];
            var fe = _listenerFrontends[i];
            _tasks.Add(Task.Run(() => AcceptLoopAsync(listener, fe)));
        }
    }

    /// <summary>
    /// Stops every accept loop; each loop then disposes its own Socket object (the worker's descriptor only: the
    /// supervisor's copy keeps listening and queued connections stay in the shared accept queue). Idempotent.
    /// </summary>
    public void StopAccepting()
    {
        Interlocked.CompareExchange(ref _stoppingSinceMs, Environment.TickCount64, 0);
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        _stop.Cancel();
        // A draining generation's checks are no longer authoritative (the supervisor relays the new checker's), and
        // would count chkfail/chkdown a second time on the board beside the new generation's checker.
        _checksStop.Cancel();
        if (Volatile.Read(ref _started) == 0)
        {
            foreach (var l in _listeners) SharedListener.ReleaseWorkerCopy(l.Socket, Log);
        }
    }

    /// <summary>Stops accepting, then waits until no connection is left; returns false if some remain at <paramref name="timeout"/>.</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout)
    {
        StopAccepting();
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Volatile.Read(ref _active) > 0)
        {
            long left = deadline - Environment.TickCount64;
            if (left <= 0) return false;
            await Task.Delay((int)Math.Min(left, 20)).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>Stops accepting and checking, aborts every connection left, and waits for the loops to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        StopAccepting();
        _checksStop.Cancel();
        AbortAll();
        try
        {
            await Task.WhenAll(_tasks).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.Warn("engine disposal: some loops did not end within 5 s");
        }
        // Sessions being aborted finish on their own; give them a moment so counters settle.
        long deadline = Environment.TickCount64 + 1000;
        while (Volatile.Read(ref _active) > 0 && Environment.TickCount64 < deadline)
        {
            AbortAll();
            await Task.Delay(10).ConfigureAwait(false);
        }
        if (_timer is { } timer) await timer.DisposeAsync().ConfigureAwait(false);
        foreach (var be in _backends)
            foreach (var s in be.Servers) s.Pool.Clear();
        _stop.Dispose();
        _checksStop.Dispose();
        TrafficLog?.Dispose();   // after every session: what they logged is sent first
    }

    /// <summary>Puts <paramref name="session"/> in a free place of the table the timer scans (lock-free, O(1) expected).</summary>
    internal void RegisterSession(ProxySession session)
    {
        var sessions = _sessions;
        int start = (int)((uint)Interlocked.Increment(ref _indexHint) % (uint)sessions.Length);
        for (int i = 0; ; i++)
        {
            int index = (start + i) % sessions.Length;
            if (Interlocked.CompareExchange(ref sessions[index], session, null) is null)
            {
                session.SessionIndex = index;
                // After the place is taken: until the bit is set the timer may miss this session, for one tick at
                // most (UnregisterSession clears in the other order).
                Interlocked.Or(ref _occupied[index >> 6], 1UL << index);
                return;
            }
        }
    }

    /// <summary>Frees the session's place in the table and its connection permits, waking an accept loop parked at maxconn.</summary>
    internal void UnregisterSession(ProxySession session)
    {
        if (session.SessionIndex is int index and >= 0)
        {
            // The bit first, then the place: a session registered at this place afterwards (its CAS can only follow
            // the null) sets its bit after this clears it, so no live session is left without its bit.
            Interlocked.And(ref _occupied[index >> 6], ~(1UL << index));
            Volatile.Write(ref _sessions[index], null);
        }
        session.Samples.Tracker?.EndSession();   // stick counters: conn_cur goes back down
        Interlocked.Decrement(ref _active);
        ReleaseConnectionPermit(session.Frontend);
    }

    private void AbortAll()
    {
        using var reading = SessionReaders.Enter();
        for (int i = 0; i < _sessions.Length; i++) Volatile.Read(ref _sessions[i])?.Abort();
    }

    /// <summary>The engine's one coarse timer, on its own thread (TickThread): checks every session's connect and inactivity deadlines.</summary>
    private void OnTimer()
    {
        long now = Environment.TickCount64;
        var sessions = _sessions;
        var occupied = _occupied;
        using (SessionReaders.Enter())
        {
            for (int w = 0; w < occupied.Length; w++)
            {
                for (ulong bits = Volatile.Read(ref occupied[w]); bits != 0; bits &= bits - 1)
                    Volatile.Read(ref sessions[(w << 6) | BitOperations.TrailingZeroCount(bits)])?.CheckTimeouts(now);
            }
        }
        // Limits are instance-wide: another worker's release is not signalled here, so parked accept loops look
        // again and queued requests are re-dispatched on every tick (the counts file is polled, not watched).
        WakePermitWaiter();
        foreach (var be in _backends) be.Queue.RetryWaiting();
        AdvanceSlowStarts(now);
        if (now - _lastPurgeMs >= PoolPurgeDelayMs / 5)
        {
            _lastPurgeMs = now;
            foreach (var be in _backends)
                foreach (var s in be.Servers)
                    if (s.Pool.IdleCount > 0) s.Pool.Purge(now, PoolPurgeDelayMs);
        }
        _trimmer.OnTimer(now, TrafficCount());
    }

    /// <summary>A number that moves whenever there is traffic: sessions accepted, requests and bytes of every frontend.</summary>
    private long TrafficCount()
    {
        long n = Interlocked.Read(ref _total);
        foreach (var fe in _frontends) n += fe.Counters.TrafficCount;
        return n;
    }

    /// <summary>The position of <paramref name="bind"/> among its frontend's (HAProxy's listener id is that position, from 1).</summary>
    private static int IndexOfBind(IReadOnlyList<BindAddress> binds, BindAddress bind)
    {
        for (int i = 0; i < binds.Count; i++) if (binds[i].Key == bind.Key) return i;
        return -1;
    }

    private BackendRuntime? FindBackend(string name)
    {
        foreach (var b in _backends) if (b.Name == name) return b;
        return null;
    }

    private FrontendRuntime? FindFrontend(string name)
    {
        foreach (var f in _frontends) if (f.Config.Name == name) return f;
        return null;
    }
}
