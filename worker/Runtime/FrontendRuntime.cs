using Proxy.Shared.Config;
using Proxy.Worker.Balancing;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Runtime;

/// <summary>
/// Run-time state of one `frontend`: counters, connection limit, its default backend, and the timeouts a tcp
/// session uses, resolved once (milliseconds, 0 meaning none).
/// </summary>
internal sealed class FrontendRuntime
{
    /// <summary><paramref name="connections"/>: the frontend's instance-wide `maxconn` count (ProxyEngine makes it).</summary>
    public FrontendRuntime(FrontendConfig config, BackendRuntime? backend, SharedCount connections)
    {
        Config = config;
        NameBytes = System.Text.Encoding.UTF8.GetBytes(config.Name);
        CustomLogFormat = config.CustomLogFormat is { } lf ? new Logging.CompiledLogFormat(lf) : null;
        UniqueIdFormat = config.UniqueIdFormat is { } uf ? new Logging.CompiledLogFormat(uf) : null;
        StructuredDataFormat = config.StructuredDataFormat is { } sd ? new Logging.CompiledLogFormat(sd) : null;
        UniqueIdHeader = config.UniqueIdHeader is { } uh ? System.Text.Encoding.ASCII.GetBytes(uh) : null;
        LogTagPid = config.LogTag is { } tag ? System.Text.Encoding.UTF8.GetBytes($"{tag}[{Environment.ProcessId}]") : null;
        Backend = backend;
        Counters = new ProxyCounters(CounterKind.Frontend, config.Name);
        Connections = connections;
        var be = backend?.Config.Timeouts ?? Timeouts.None;
        (ClientTimeoutMs, ServerTimeoutMs) = TcpTimeoutsFor(backend);
        ConnectTimeoutMs = Milliseconds.From(be.Connect);
        TcpContent = config.TcpContentRules.Count > 0 ? new TcpContentRuntime(config) : null;
        // `mode http`: the request head must arrive within `timeout http-request` (else `timeout client`); an idle
        // keep-alive connection waits `timeout http-keep-alive` (else http-request) for the next one (4.2).
        HttpRequestTimeoutMs = Milliseconds.From(config.Timeouts.HttpRequest ?? config.Timeouts.Client);
        HttpKeepAliveTimeoutMs = Milliseconds.From(config.Timeouts.HttpKeepAlive ?? config.Timeouts.HttpRequest ?? config.Timeouts.Client);
        HttpClientTimeoutMs = Milliseconds.From(config.Timeouts.Client);
        Http = new Http.HttpProxyRuntime(config.Http, config.Name);
        StatsPage = config.StatsPage is { } stats ? new Http.StatsPageRuntime(stats) : null;
        var connection = config.TcpConnectionRules.Where(r => !r.Session).ToArray();
        _connectionRules = new (bool, Http.CompiledCondition?, Tables.CompiledTrack?)[connection.Length];
        _silentDropRules = new bool[connection.Length];
        _connectionActions = new Http.CompiledRequestAction?[connection.Length];
        for (int i = 0; i < _connectionRules.Length; i++)
        {
            var rule = connection[i];
            _connectionRules[i] = (rule.Reject, rule.Condition is null ? null : new Http.CompiledCondition(rule.Condition),
                rule.Track is null ? null : new Tables.CompiledTrack(rule.Track));
            _silentDropRules[i] = rule.SilentDrop;
            if (rule.Action is { } action) _connectionActions[i] = new Http.CompiledRequestAction(action);
        }
        _sessionTracks = config.TcpConnectionRules.Where(r => r.Session)
            .Select(r => (r.Condition is null ? null : new Http.CompiledCondition(r.Condition), new Tables.CompiledTrack(r.Track!))).ToArray();
        _expectProxyConditions = new Http.CompiledCondition[config.ExpectProxyConditions.Count];
        for (int i = 0; i < _expectProxyConditions.Length; i++)
            _expectProxyConditions[i] = new Http.CompiledCondition(config.ExpectProxyConditions[i]);
    }

    /// <summary>
    /// A tcp session's client and server timeouts with <paramref name="backend"/> (the default one, or the one
    /// `use_backend` chose): `timeout tunnel` replaces both once the session is established.
    /// </summary>
    public (long Client, long Server) TcpTimeoutsFor(BackendRuntime? backend)
    {
        var be = backend?.Config.Timeouts ?? Timeouts.None;
        var tunnel = be.Tunnel ?? Config.Timeouts.Tunnel;
        return (Milliseconds.From(tunnel ?? Config.Timeouts.Client), Milliseconds.From(tunnel ?? be.Server));
    }

    /// <summary>`tcp-request content` rules and `tcp-request inspect-delay`; null: none.</summary>
    public TcpContentRuntime? TcpContent { get; }

    private readonly Http.CompiledCondition[] _expectProxyConditions;
    private readonly (bool Reject, Http.CompiledCondition? Condition, Tables.CompiledTrack? Track)[] _connectionRules;

    /// <summary>
    /// `tcp-request connection accept|reject` (4.2): true when the first rule whose condition holds is a reject
    /// (the connection is closed at once, before any byte is read; nothing is logged, as in HAProxy).
    /// </summary>
    public bool RejectsConnection(Proxy.Worker.Samples.SampleContext ctx) => RejectsConnection(ctx, out _);

    /// <summary>As <see cref="RejectsConnection(Proxy.Worker.Samples.SampleContext)"/>; <paramref name="silentDrop"/>: the rule was `silent-drop`.</summary>
    public bool RejectsConnection(Proxy.Worker.Samples.SampleContext ctx, out bool silentDrop)
    {
        silentDrop = false;
        for (int i = 0; i < _connectionRules.Length; i++)
        {
            var (reject, condition, track) = _connectionRules[i];
            if (condition is not null && !condition.Evaluate(ctx)) continue;
            // `track-scN` (4.2 "tcp-request connection track-sc0"): tracks for the connection's life, and the rules go on.
            if (track is not null) { track.Run(ctx, forRequest: false); continue; }
            // `set-dst|set-dst-port` (4.2): the destination rewritten, and the rules go on.
            if (_connectionActions[i] is { } action) { action.ExecuteVariable(ctx); continue; }
            silentDrop = _silentDropRules[i];
            return reject;
        }
        return false;
    }

    private readonly bool[] _silentDropRules;   // `tcp-request connection silent-drop`, by rule
    private readonly Http.CompiledRequestAction?[] _connectionActions;   // `tcp-request connection set-dst|set-dst-port`, by rule
    private readonly (Http.CompiledCondition? Condition, Tables.CompiledTrack Track)[] _sessionTracks;

    /// <summary>
    /// `tcp-request session track-scN` (4.2), in order, once the client's address is final (after the PROXY header):
    /// tracks for the connection's life.
    /// </summary>
    public void RunSessionRules(Proxy.Worker.Samples.SampleContext ctx)
    {
        foreach (var (condition, track) in _sessionTracks)
        {
            if (condition is not null && !condition.Evaluate(ctx)) continue;
            track.Run(ctx, forRequest: false);
        }
    }

    /// <summary>The name as bytes, for the `fe_name` fetch and logs.</summary>
    public byte[] NameBytes { get; }

    /// <summary>`log-format` compiled; null: the built-in httplog/tcplog line.</summary>
    public Logging.CompiledLogFormat? CustomLogFormat { get; }
    /// <summary>`log-format-sd`: the STRUCTURED-DATA of the frontend's rfc5424 lines; null: none (`-`).</summary>
    public Logging.CompiledLogFormat? StructuredDataFormat { get; }

    /// <summary>`unique-id-format` compiled; null: requests get no unique id.</summary>
    public Logging.CompiledLogFormat? UniqueIdFormat { get; }

    /// <summary>`unique-id-header` name; null: the id is not sent to the server.</summary>
    public byte[]? UniqueIdHeader { get; }

    /// <summary>
    /// `tcp-request connection expect-proxy layer4 if|unless COND` (4.2): true when a line's condition holds for the
    /// connection's own source address, so the connection must start with a PROXY header. The conditions hold only
    /// layer-4 ACLs (the config refuses others), evaluated with no request head; nothing is allocated.
    /// </summary>
    public bool ExpectsProxyHeader(Proxy.Worker.Samples.SampleContext ctx)
    {
        foreach (var condition in _expectProxyConditions)
            if (condition.Evaluate(ctx)) return true;
        return false;
    }

    public long HttpRequestTimeoutMs { get; }
    public long HttpKeepAliveTimeoutMs { get; }
    /// <summary>`timeout client` alone (an HTTP session applies `timeout tunnel` itself, after an upgrade).</summary>
    public long HttpClientTimeoutMs { get; }
    public Http.HttpProxyRuntime Http { get; }
    /// <summary>`stats enable|uri|auth...`: the statistics page this frontend answers; null: none.</summary>
    public Http.StatsPageRuntime? StatsPage { get; }
    /// <summary>
    /// `use_backend` rules compiled against the engine's backends (set once by the engine, before Start): the backend,
    /// or for a log-format name (4.2) the name resolved per request.
    /// </summary>
    public (Http.CompiledCondition Condition, BackendRuntime? Backend, DynamicBackendName? Name)[] UseBackends { get; set; } = [];

    /// <summary>
    /// 4.2 "use_backend": the backend of the first rule whose condition holds, else <see cref="Backend"/>; a log-format
    /// name that names no backend of this mode falls to the default backend, no other rule evaluated.
    /// </summary>
    public BackendRuntime? ChooseBackend(Samples.SampleContext ctx, bool resetScratch)
    {
        foreach (var (condition, target, name) in UseBackends)
        {
            if (resetScratch) ctx.ResetScratch();
            if (!condition.Evaluate(ctx)) continue;
            return target ?? name!.Resolve(ctx) ?? Backend;
        }
        return Backend;
    }

    /// <summary>
    /// The engine's traffic logger when this frontend logs traffic (`option httplog|tcplog` and at least one `log`
    /// target taking info messages), else null: a session then records nothing. Set once by the engine, before Start.
    /// </summary>
    public Logging.TrafficLogger? TrafficLog { get; set; }
    /// <summary>Where this frontend's traffic lines go (set with <see cref="TrafficLog"/>).</summary>
    public Logging.TrafficLogSink[] LogSinks { get; set; } = [];

    /// <summary>`log-tag` of the frontend with this worker's pid, the TAG of its syslog lines ("TAG[PID]"); null: the global tag.</summary>
    public byte[]? LogTagPid { get; }

    public FrontendConfig Config { get; }

    /// <summary>The last request head refused here (`show errors`), replaced whole on the error path.</summary>
    public ErrorSnapshot? LastRequestError;
    public BackendRuntime? Backend { get; }
    public ProxyCounters Counters { get; }
    /// <summary>
    /// The frontend's `maxconn`, for the whole instance: accepted connections every worker holds (HAProxy's feconn).
    /// Limit 0 when the frontend sets none: the global `maxconn` then bounds it alone, as HAProxy's default does.
    /// </summary>
    public SharedCount Connections { get; }

    /// <summary>
    /// `disable frontend` (runtime API): no new connection is accepted; those that arrive wait in the kernel's backlog
    /// until `enable frontend` (HAProxy releases the port instead), and the established ones go on.
    /// </summary>
    public bool Paused
    {
        get => Volatile.Read(ref _paused);
        set => Volatile.Write(ref _paused, value);
    }
    private bool _paused;
    public long ClientTimeoutMs { get; }
    public long ServerTimeoutMs { get; }
    public long ConnectTimeoutMs { get; }
}
