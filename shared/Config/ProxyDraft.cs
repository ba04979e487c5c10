namespace Proxy.Shared.Config;

/// <summary>Which kind of section a proxy came from; the flags are HAProxy's capabilities (PR_CAP_FE, PR_CAP_BE).</summary>
[Flags]
internal enum ProxyCapabilities
{
    None = 0,
    Defaults = 1,
    Frontend = 2,
    Backend = 4,
    Listen = Frontend | Backend,
}

/// <summary>The `timeout` family while parsing; <see cref="TimeSpan.Zero"/> is an explicit `timeout X 0` (infinite).</summary>
internal enum TimeoutKind { Connect, Client, Server, Queue, Check, HttpRequest, HttpKeepAlive, Tunnel, Tarpit }

/// <summary>Server settings a `server` line starts from: HAProxy's built-in values, then `default-server` lines.</summary>
internal sealed record ServerDefaults(int Weight, int MaxConn, bool Check, TimeSpan Inter, int Rise, int Fall, bool Backup, bool Disabled)
{
    /// <summary>HAProxy's own defaults: weight 1, no limit, no check, inter 2s, rise 2, fall 3.</summary>
    public static ServerDefaults Initial { get; } = new(1, 0, false, TimeSpan.FromSeconds(2), 2, 3, false, false);

    /// <summary>The check options beyond check/inter/rise/fall (HealthCheckConfig.cs).</summary>
    public ServerCheckSettings CheckSettings { get; init; } = ServerCheckSettings.Default;

    /// <summary>`send-proxy` and its family (ProxyProtocolConfig.cs).</summary>
    public ServerProxyProtocol ProxyProtocol { get; init; } = ServerProxyProtocol.None;

    /// <summary>`ssl` and its options (TlsParser.cs); null: the `ssl-default-server-*` in force at the server's line.</summary>
    public ServerTlsDraft? Tls { get; init; }

    /// <summary>`cookie VALUE` (5.2): the value of the persistence cookie that designates the server; null: none.</summary>
    public string? Cookie { get; init; }

    /// <summary>`init-addr`, `resolvers`, `resolve-prefer`, `resolve-net`, `resolve-opts` (ServerResolutionOptions.cs).</summary>
    public ServerResolutionDraft Resolution { get; init; } = ServerResolutionDraft.Default;

    /// <summary>`minconn N` (5.2): the server's limit while its backend is far below `fullconn`; 0: unset.</summary>
    public int MinConn { get; init; }
}

/// <summary>
/// A proxy (or defaults) section being parsed. A new proxy starts as a copy of its defaults section,
/// which is how HAProxy implements inheritance (init_new_proxy + proxy_preset_defaults + copy of the
/// defproxy): every setting the section names afterwards overrides the inherited one.
/// </summary>
internal sealed class ProxyDraft
{
    public required string Name { get; init; }
    public required ProxyCapabilities Capabilities { get; init; }
    public required SourceLocation Location { get; init; }

    public ProxyMode Mode { get; set; } = ProxyMode.Tcp;
    public BalanceAlgorithm Balance { get; set; } = BalanceAlgorithm.RoundRobin;
    public BalanceOptions BalanceOptions { get; set; } = BalanceOptions.Default;
    /// <summary>Line and words of the `balance` line in force (perhaps a defaults section's), for the mode check.</summary>
    public (int Line, string Keyword)? BalanceSource { get; set; }
    public bool AllBackups { get; set; }
    /// <summary>`option log-health-checks` (4.2).</summary>
    public bool LogHealthChecks { get; set; }
    /// <summary>Line of this section's own `hash-balance-factor` (0: none or inherited), for the no-effect warning.</summary>
    public int HashBalanceFactorLine { get; set; }
    public int? MaxConn { get; set; }                 // null: the global maxconn (frontends)
    public int Retries { get; set; } = 3;             // HAProxy's default `retries`
    public HttpReuseMode HttpReuse { get; set; } = HttpReuseMode.Safe;   // `http-reuse`, HAProxy's default safe
    public bool Redispatch { get; set; }
    public SpliceDirections Splice { get; set; }
    public TimeSpan?[] Timeouts { get; private set; } = new TimeSpan?[Enum.GetValues<TimeoutKind>().Length];
    public ServerDefaults DefaultServer { get; set; } = ServerDefaults.Initial;
    public string? DefaultBackend { get; set; }
    public SourceLocation DefaultBackendLocation { get; set; }
    public List<LogTarget> Logs { get; private set; } = [];
    public bool LogGlobal { get; set; }
    public TrafficLogFormat LogFormat { get; set; }   // `option httplog` / `option tcplog`
    public int LogFormatLine { get; set; }            // where it was set (a warning may name it)
    public bool DontLogNull { get; set; }             // `option dontlognull`
    public bool IgnoreProbes { get; set; }            // `option http-ignore-probes`
    public LogFormatConfig? CustomLogFormat { get; set; }   // `log-format` (inherited from defaults)
    public LogFormatConfig? UniqueIdFormat { get; set; }    // `unique-id-format` (inherited from defaults)
    public LogFormatConfig? StructuredDataFormat { get; set; }   // `log-format-sd` (inherited from defaults)
    public string? UniqueIdHeader { get; set; }             // `unique-id-header` (inherited from defaults)
    public List<HeaderCapture> RequestCaptures { get; } = [];   // `capture request header` (frontends only)
    public List<HeaderCapture> ResponseCaptures { get; } = [];  // `capture response header`
    public CookieCapture? CookieCapture { get; set; }           // `capture cookie` (frontends only)

    public List<BindAddress> Binds { get; } = [];
    public bool HasBindLine { get; set; }
    /// <summary>`tcp-request connection expect-proxy layer4` (unconditional): every bind of the frontend expects a PROXY header.</summary>
    public bool ExpectProxy { get; set; }
    /// <summary>`tcp-request connection expect-proxy layer4 if|unless COND` lines, in order (layer-4 ACLs only).</summary>
    public List<ConditionConfig> ExpectProxyConditions { get; } = [];
    /// <summary>`tcp-request connection accept|reject [if|unless COND]` lines, in order (layer-4 ACLs only).</summary>
    public List<TcpConnectionRule> TcpConnectionRules { get; } = [];
    /// <summary>`tcp-request inspect-delay TIME`; null: content rules do not wait for bytes.</summary>
    public TimeSpan? InspectDelay { get; set; }
    /// <summary>`tcp-response inspect-delay` and `tcp-response content` rules (backends).</summary>
    public TimeSpan? ResponseInspectDelay { get; set; }
    public List<TcpResponseRule> TcpResponseRules { get; } = [];
    /// <summary>`tcp-request content ...` lines, in order.</summary>
    public List<TcpContentRule> TcpContentRules { get; } = [];
    public List<ServerConfig> Servers { get; } = [];
    /// <summary>`stick-table`: the proxy's table (not inherited: defaults cannot hold one).</summary>
    public StickTableConfig? StickTable { get; set; }
    /// <summary>Tables named by track-sc (and the like) in this section, checked once every proxy is known.</summary>
    public List<(string Table, SourceLocation At, string What)> TableReferences { get; } = [];
    /// <summary>`stick on|match|store-request|store-response` lines (StickRuleParser), in order.</summary>
    public List<StickRuleConfig> StickRules { get; } = [];
    /// <summary>`persist rdp-cookie[(NAME)]`: the cookie's name; null: none (inherited from defaults).</summary>
    public string? PersistRdpCookie { get; set; }
    /// <summary>`dynamic-cookie-key KEY`; null: none (inherited from defaults).</summary>
    public string? DynamicCookieKey { get; set; }

    // `mode http` keywords (HttpKeywordParser, AclParser). Connection mode, forwardfor and errorfiles are
    // inherited from defaults; ACLs and rules are not (HAProxy refuses them in an anonymous defaults section).
    public HttpConnectionMode ConnectionMode { get; set; } = HttpConnectionMode.KeepAlive;
    public ForwardForOption? ForwardFor { get; set; }
    public ForwardForOption? OriginalTo { get; set; }   // `option originalto`, inherited as forwardfor
    public Dictionary<int, byte[]> ErrorFiles { get; private set; } = [];
    public Dictionary<string, List<AclConfig>> Acls { get; } = new(StringComparer.Ordinal);
    public List<HeaderRule> RequestRules { get; } = [];
    public List<HeaderRule> ResponseRules { get; } = [];
    public List<UseBackendRule> UseBackends { get; } = [];
    /// <summary>`http-request deny|return|redirect`, in order.</summary>
    public List<HttpRequestAction> RequestActions { get; } = [];
    /// <summary>`http-response deny|set-status`, in order.</summary>
    public List<HttpResponseAction> ResponseActions { get; } = [];
    /// <summary>`http-after-response` header rules and actions, in order.</summary>
    public List<HeaderRule> AfterResponseRules { get; } = [];
    public List<HttpResponseAction> AfterResponseActions { get; } = [];
    /// <summary>`monitor-uri` (inherited from defaults) and `monitor fail` conditions (frontends only).</summary>
    public string? MonitorUri { get; set; }
    public List<ConditionConfig> MonitorFail { get; } = [];
    /// <summary>The `redirect` keyword's rules (4.4), run after the `http-request` rules; not allowed in defaults.</summary>
    public List<HttpRequestAction> Redirects { get; } = [];
    /// <summary>First line of a keyword that needs `mode http`, checked once the section's mode is known.</summary>
    public (int Line, string Keyword)? FirstHttpOnlyKeyword { get; set; }

    // `compression algo|type|offload` (CompressionParser): algo and type are inherited from defaults, offload is not
    // (HAProxy ignores it in defaults).
    public List<CompressionAlgorithm> CompressionAlgorithms { get; private set; } = [];
    public List<string> CompressionTypes { get; private set; } = [];
    public bool CompressionOffload { get; set; }

    // `option httpchk` and `http-check send|expect` (HttpCheckParser), inherited from defaults as in HAProxy.
    public bool HttpCheckEnabled { get; set; }
    public HttpCheckSettings HttpCheck { get; set; } = HttpCheckSettings.Default;
    /// <summary>First `http-check` line, for the warning when `option httpchk` is missing.</summary>
    public int? FirstHttpCheckLine { get; set; }
    /// <summary>Whether this section wrote `http-check expect` itself (its first one replaces the inherited rules).</summary>
    public bool HttpCheckOwnExpects { get; set; }

    // `option tcp-check|redis-check|...` and `tcp-check ...` rules (TcpCheckParser), inherited from defaults as in HAProxy.
    /// <summary>The check option in force (the last one written); null: none, or `option httpchk`.</summary>
    public TcpCheckSettings? TcpCheckOption { get; set; }
    public List<TcpCheckRule> TcpCheckRules { get; set; } = [];
    /// <summary>Whether this section wrote `tcp-check` rules itself (its first one replaces the inherited rules).</summary>
    public bool TcpCheckOwnRules { get; set; }
    /// <summary>First `tcp-check` line, for the warning when `option tcp-check` is missing.</summary>
    public int? FirstTcpCheckLine { get; set; }

    /// <summary>`stats ...` lines (StatsPageParser): the defaults' page until the section writes one of its own.</summary>
    public StatsPageDraft? Stats { get; set; }
    /// <summary>`disabled` (4.2): the proxy does not run; `enabled` undoes it. Inherited from a defaults section.</summary>
    public bool Disabled { get; set; }

    /// <summary>`option tcpka|clitcpka` (4.2): SO_KEEPALIVE on client connections.</summary>
    public bool ClientTcpKeepAlive { get; set; }
    /// <summary>`[no] option tcp-smart-accept` (4.2); null: not written, on for `mode http`.</summary>
    public bool? SmartAccept { get; set; }

    /// <summary>`backlog N` (4.2): the listen(2) queue of the binds that set none; null: ListenerSet's default.</summary>
    public int? Backlog { get; set; }
    /// <summary>`fullconn N` (4.2): the backend load at which servers reach their `maxconn`; 0: unset (FullConnDefaults computes it).</summary>
    public int FullConn { get; set; }

    /// <summary>`log-tag NAME` (4.2): the syslog tag of this frontend's traffic log lines; null: the global one.</summary>
    public string? LogTag { get; set; }

    /// <summary>`option tcpka|srvtcpka` (4.2): SO_KEEPALIVE on server connections.</summary>
    public bool ServerTcpKeepAlive { get; set; }

    /// <summary>`option http-buffer-request` (4.2): the request body is waited for before the proxy's rules run.</summary>
    public bool BufferRequest { get; set; }
    /// <summary>`option abortonclose` (4.2): a request whose client closed is dropped while queued or connecting.</summary>
    public bool AbortOnClose { get; set; }

    // Server persistence (PersistenceParser): `cookie` and `option persist` are inherited from defaults; the rules
    // cannot be written there (4.1).
    public CookiePersistenceConfig? Cookie { get; set; }
    public SourceLocation CookieLocation { get; set; }
    public bool Persist { get; set; }
    public List<PersistRule> PersistRules { get; } = [];
    public List<UseServerRule> UseServers { get; } = [];

    /// <summary>The model's view of the persistence settings.</summary>
    public PersistenceSettings BuildPersistence() =>
        Cookie is null && !Persist && PersistRules.Count == 0 && UseServers.Count == 0
            ? PersistenceSettings.None
            : new(Cookie, Persist, PersistRules.ToArray(), UseServers.ToArray()) { DynamicCookieKey = DynamicCookieKey };

    public bool IsFrontend => (Capabilities & ProxyCapabilities.Frontend) != 0;
    public bool IsBackend => (Capabilities & ProxyCapabilities.Backend) != 0;

    /// <summary>Copies what a defaults section passes on (mode, balance and hash-type, limits, options, timeouts, default-server, default_backend, logs and log options).</summary>
    public void InheritFrom(ProxyDraft defaults)
    {
        Mode = defaults.Mode;
        Balance = defaults.Balance;
        BalanceOptions = defaults.BalanceOptions;
        BalanceSource = defaults.BalanceSource;
        AllBackups = defaults.AllBackups;
        LogHealthChecks = defaults.LogHealthChecks;
        MaxConn = defaults.MaxConn;
        Retries = defaults.Retries;
        HttpReuse = defaults.HttpReuse;
        Redispatch = defaults.Redispatch;
        Splice = defaults.Splice;
        Timeouts = (TimeSpan?[])defaults.Timeouts.Clone();
        DefaultServer = defaults.DefaultServer;
        DefaultBackend = defaults.DefaultBackend;
        DefaultBackendLocation = defaults.DefaultBackendLocation;
        Logs = [.. defaults.Logs];
        LogGlobal = defaults.LogGlobal;
        LogFormat = defaults.LogFormat;
        LogFormatLine = defaults.LogFormatLine;
        DontLogNull = defaults.DontLogNull;
        IgnoreProbes = defaults.IgnoreProbes;
        CustomLogFormat = defaults.CustomLogFormat;
        UniqueIdFormat = defaults.UniqueIdFormat;
        StructuredDataFormat = defaults.StructuredDataFormat;
        UniqueIdHeader = defaults.UniqueIdHeader;
        MonitorUri = defaults.MonitorUri;
        ConnectionMode = defaults.ConnectionMode;
        ForwardFor = defaults.ForwardFor;
        OriginalTo = defaults.OriginalTo;
        ErrorFiles = new Dictionary<int, byte[]>(defaults.ErrorFiles);
        CompressionAlgorithms = [.. defaults.CompressionAlgorithms];
        CompressionTypes = [.. defaults.CompressionTypes];
        HttpCheckEnabled = defaults.HttpCheckEnabled;
        HttpCheck = defaults.HttpCheck;
        FirstHttpCheckLine = defaults.FirstHttpCheckLine;
        TcpCheckOption = defaults.TcpCheckOption;
        TcpCheckRules = [.. defaults.TcpCheckRules];
        FirstTcpCheckLine = defaults.FirstTcpCheckLine;
        Stats = defaults.Stats;
        Disabled = defaults.Disabled;
        ClientTcpKeepAlive = defaults.ClientTcpKeepAlive;
        SmartAccept = defaults.SmartAccept;
        LogTag = defaults.LogTag;
        Backlog = defaults.Backlog;
        FullConn = defaults.FullConn;
        ServerTcpKeepAlive = defaults.ServerTcpKeepAlive;
        Cookie = defaults.Cookie;
        CookieLocation = defaults.CookieLocation;
        Persist = defaults.Persist;
        PersistRdpCookie = defaults.PersistRdpCookie;
        DynamicCookieKey = defaults.DynamicCookieKey;
        InspectDelay = defaults.InspectDelay;
        BufferRequest = defaults.BufferRequest;
        AbortOnClose = defaults.AbortOnClose;
        // A named defaults section's ACLs and rules (4.2 "http-request"): its rules run before the proxy's own.
        foreach (var (name, acls) in defaults.Acls) Acls[name] = [.. acls];
        RequestRules.AddRange(defaults.RequestRules);
        ResponseRules.AddRange(defaults.ResponseRules);
        RequestActions.AddRange(defaults.RequestActions);
        ResponseActions.AddRange(defaults.ResponseActions);
        AfterResponseRules.AddRange(defaults.AfterResponseRules);
        AfterResponseActions.AddRange(defaults.AfterResponseActions);
        if (defaults.HasRules) FirstHttpOnlyKeyword ??= defaults.FirstHttpOnlyKeyword;
    }

    /// <summary>Whether this (defaults) section holds http-request/http-response rules that proxies inherit.</summary>
    public bool HasRules => RequestRules.Count > 0 || ResponseRules.Count > 0 || RequestActions.Count > 0 || ResponseActions.Count > 0
        || AfterResponseRules.Count > 0 || AfterResponseActions.Count > 0;

    /// <summary>Set on a defaults section with rules once a proxy uses it: frontend and backend capabilities may not both.</summary>
    public ProxyCapabilities RuleUsers { get; set; }

    /// <summary>The model's view of the `mode http` settings.</summary>
    public HttpProxySettings BuildHttp() =>
        new(ConnectionMode, ForwardFor, RequestRules.ToArray(), ResponseRules.ToArray(), new Dictionary<int, byte[]>(ErrorFiles))
        {
            UseBackends = UseBackends.ToArray(),
            RequestActions = [.. RequestActions, .. Redirects],
            MonitorUri = MonitorUri,
            OriginalTo = OriginalTo,
            MonitorFail = MonitorFail.ToArray(),
            ResponseActions = ResponseActions.ToArray(),
            AfterResponseRules = AfterResponseRules.ToArray(),
            AfterResponseActions = AfterResponseActions.ToArray(),
            Compression = CompressionAlgorithms.Count > 0 || CompressionTypes.Count > 0 || CompressionOffload
                ? new CompressionSettings(CompressionAlgorithms.ToArray(), CompressionTypes.ToArray(), CompressionOffload)
                : null,
            BufferRequest = BufferRequest,
        };

    /// <summary>The model's view of the timeouts: `0` means no timeout, the same as unset (HAProxy).</summary>
    public Timeouts BuildTimeouts()
    {
        TimeSpan? Get(TimeoutKind k) => Timeouts[(int)k] is { } t && t > TimeSpan.Zero ? t : null;
        return new Timeouts(
            Get(TimeoutKind.Connect), Get(TimeoutKind.Client), Get(TimeoutKind.Server), Get(TimeoutKind.Queue),
            Get(TimeoutKind.Check), Get(TimeoutKind.HttpRequest), Get(TimeoutKind.HttpKeepAlive), Get(TimeoutKind.Tunnel))
        { Tarpit = Get(TimeoutKind.Tarpit) };
    }
}
