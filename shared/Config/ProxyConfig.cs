using System.Net;

namespace Proxy.Shared.Config;

// The validated, immutable model of one configuration file (HAProxy's language, doc/configuration.txt).
// The parser builds it only when the file has no error; everything after the parser trusts it.

/// <summary>Where a keyword came from, so later checks can still name file:line.</summary>
public readonly record struct SourceLocation(string File, int Line)
{
    public override string ToString() => $"{File}:{Line}";
}

public enum ProxyMode { Tcp, Http }

public sealed record ProxyConfig(
    string SourcePath,
    GlobalSettings Global,
    IReadOnlyList<FrontendConfig> Frontends,
    IReadOnlyList<BackendConfig> Backends)
{
    /// <summary>The files and directories given with `-f` when more than one (ConfigFiles); empty: <see cref="SourcePath"/> alone.</summary>
    public IReadOnlyList<string> SourcePaths { get; init; } = [];

    /// <summary>`stick-table` lines, one per proxy that has one, named by the proxy (Proxy.Shared.Tables holds them).</summary>
    public IReadOnlyList<StickTableConfig> Tables { get; init; } = [];

    /// <summary>The `resolvers` sections (5.3.2, ResolversConfig.cs), queried by the supervisor only.</summary>
    public IReadOnlyList<ResolversConfig> Resolvers { get; init; } = [];

    public BackendConfig? FindBackend(string name)
    {
        foreach (var b in Backends)
            if (b.Name == name) return b;
        return null;
    }
}

/// <summary>
/// One `stats socket ADDRESS [mode M] [level L] [uid U] [gid G] [user U] [group G] [expose-fd listeners]` line: a
/// runtime API socket. <see cref="Path"/> is the Unix path, or the address as written for a TCP or inherited one.
/// </summary>
public sealed record StatsSocketConfig(string Path, int Mode, string Level)
{
    /// <summary>`ipv4@A:P`, `ipv6@[A]:P` or `A:P`: a TCP socket (no file, so no mode/uid/gid); null for a Unix path.</summary>
    public System.Net.IPEndPoint? TcpEndPoint { get; init; }

    /// <summary>`fd@N`: a socket inherited from the process that started the supervisor.</summary>
    public int? InheritedFd { get; init; }

    /// <summary>`uid`/`user`: the socket file's owner; null leaves the supervisor's.</summary>
    public uint? Uid { get; init; }
    public string? User { get; init; }

    /// <summary>`gid`/`group`: the socket file's group; null leaves the supervisor's.</summary>
    public uint? Gid { get; init; }
    public string? Group { get; init; }

    /// <summary>`expose-fd listeners`: accepted; a reload here already hands the listeners over (the supervisor keeps them).</summary>
    public bool ExposeFdListeners { get; init; }

    /// <summary>A Unix path (neither TCP nor inherited).</summary>
    public bool IsUnix => TcpEndPoint is null && InheritedFd is null;
}

/// <summary>One `cpu-map [auto:]P[-P] C[-C]...` line; process numbers are 1-based as in HAProxy.</summary>
public sealed record CpuMapEntry(bool Auto, int FirstProcess, int LastProcess, IReadOnlyList<int> Cpus, SourceLocation Location);

/// <summary>One `log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]` line.</summary>
public sealed record LogTarget(string Target, string Facility, string? Level, string Format)
{
    /// <summary>`len N`: the longest line sent; null is HAProxy's default (1024).</summary>
    public int? MaxLength { get; init; }

    /// <summary>The optional `MINLEVEL` after the level: messages are never sent below it.</summary>
    public string? MinLevel { get; init; }
}

public sealed record GlobalSettings(
    int MaxConn,
    int? NbProc,                       // null: `nbproc auto` or absent, one worker per allowed CPU
    IReadOnlyList<CpuMapEntry> CpuMaps,
    string? PidFile,
    StatsSocketConfig? StatsSocket,
    string? User,
    string? Group,
    string? Chroot,
    bool Daemon,
    IReadOnlyList<LogTarget> Logs,
    TimeSpan? HardStopAfter,
    int BufSize,                       // tune.bufsize, 16 KiB by default
    int MaxHeaders)                    // tune.http.maxhdr, 101 by default
{
    /// <summary>`nosplice`: never use kernel splicing, whatever the proxies' `option splice-*` say.</summary>
    public bool NoSplice { get; init; }

    /// <summary>`pp2-never-send-local`: health checks with `send-proxy-v2` send the PROXY command with the check
    /// connection's own addresses instead of LOCAL (HAProxy's behaviour before 2.2, for servers that refuse LOCAL).</summary>
    public bool Pp2NeverSendLocal { get; init; }

    /// <summary>`spread-checks N` (3.2): each health and agent check interval is moved by a random share of up to N% either way.</summary>
    public int SpreadChecks { get; init; }

    /// <summary>`quiet` (3.1): no message at start-up, as the command line's `-q`.</summary>
    public bool Quiet { get; init; }

    /// <summary>`zero-warning` (3.1): a configuration that draws any warning is refused, as an error would refuse it.</summary>
    public bool ZeroWarning { get; init; }

    /// <summary>Every `stats socket` line in order (<see cref="StatsSocket"/> is the first Unix one, the one proxyctl uses).</summary>
    public IReadOnlyList<StatsSocketConfig> StatsSockets { get; init; } = [];

    /// <summary>`stats timeout`: an idle runtime API connection is closed after this (HAProxy's default 10 s).</summary>
    public TimeSpan StatsTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>`stats maxconn`: runtime API connections served at once, over all sockets (HAProxy's default 10).</summary>
    public int StatsMaxConn { get; init; } = 10;

    /// <summary>`maxcomprate N`: compression input limit in kB/s over the whole instance; 0: none.</summary>
    public int MaxCompRate { get; init; }

    /// <summary>`maxcompcpuusage N`: above this CPU usage (%), responses are no longer compressed; 100: no limit.</summary>
    public int MaxCompCpuUsage { get; init; } = 100;

    /// <summary>`maxzlibmem N`: memory (MB) compression may hold; 0: none.</summary>
    public int MaxZlibMem { get; init; }

    /// <summary>`tune.comp.maxlevel N`: the zlib level responses are compressed at (1 to 9, HAProxy's default 1).</summary>
    public int CompMaxLevel { get; init; } = 1;

    /// <summary>
    /// `worker-watchdog TIME` (this proxy's own keyword; HAProxy 2.6's watchdog has no setting): a worker whose board
    /// heartbeat is older than this is reported `stalled`, and at twice this it is killed and respawned. Zero: off.
    /// </summary>
    public TimeSpan WorkerWatchdog { get; init; } = DefaultWorkerWatchdog;

    /// <summary>2 s: four missed heartbeats (a worker beats every 500 ms) before `stalled`, killed at 4 s.</summary>
    public static readonly TimeSpan DefaultWorkerWatchdog = TimeSpan.FromSeconds(2);

    /// <summary>The shortest accepted non-zero watchdog: two heartbeats, so a late timer tick is not a stall.</summary>
    public static readonly TimeSpan MinWorkerWatchdog = TimeSpan.FromSeconds(1);

    /// <summary>`log-tag STRING`: the syslog tag of traffic log lines; null: `proxy`.</summary>
    public string? LogTag { get; init; }

    /// <summary>`log-send-hostname [NAME]`: the host name in the syslog header of traffic log lines; null: the machine's.</summary>
    public string? LogHostname { get; init; }
    /// <summary>TLS globals: `crt-base`, `ca-base`, `ssl-default-*`, `ssl-server-verify` (TlsConfig.cs).</summary>
    public TlsGlobalSettings Tls { get; init; } = TlsGlobalSettings.Default;

    /// <summary>`set-var|set-var-fmt proc.NAME ...` (3.1), in order: each worker sets them before any traffic (GlobalVariableParser.cs).</summary>
    public IReadOnlyList<HttpRequestAction> Variables { get; init; } = [];

    /// <summary>`ulimit-n N`: RLIMIT_NOFILE the supervisor sets for itself and its workers; null: the inherited one.</summary>
    public int? UlimitN { get; init; }

    /// <summary>`maxconnrate N`: connections accepted per second over the instance (each worker takes its share); 0: none.</summary>
    public int MaxConnRate { get; init; }

    /// <summary>`maxsessrate N`: sessions per second over the instance, counted where connections are accepted here; 0: none.</summary>
    public int MaxSessRate { get; init; }

    /// <summary>`node NAME`: what `stats show-node` without a name shows; null: the host name (HAProxy's default).</summary>
    public string? Node { get; init; }

    /// <summary>`description TEXT`: what `stats show-desc` without a text shows; null: nothing.</summary>
    public string? Description { get; init; }

    public static GlobalSettings Default { get; } = new(
        MaxConn: 4096, NbProc: null, CpuMaps: [], PidFile: null, StatsSocket: null,
        User: null, Group: null, Chroot: null, Daemon: false, Logs: [],
        HardStopAfter: null, BufSize: 16384, MaxHeaders: 101);
}

/// <summary>The `timeout` family; null means "not set" (HAProxy: infinite, with a warning for client/server/connect).</summary>
public sealed record Timeouts(
    TimeSpan? Connect,
    TimeSpan? Client,
    TimeSpan? Server,
    TimeSpan? Queue,
    TimeSpan? Check,
    TimeSpan? HttpRequest,
    TimeSpan? HttpKeepAlive,
    TimeSpan? Tunnel)
{
    public static Timeouts None { get; } = new(null, null, null, null, null, null, null, null);

    /// <summary>`timeout tarpit` (4.2): how long `http-request tarpit` holds a request; null: `timeout connect` (HAProxy).</summary>
    public TimeSpan? Tarpit { get; init; }
}

/// <summary>One address of a `bind` line: an endpoint, or an inherited descriptor (`fd@N`).</summary>
public sealed record BindAddress(IPEndPoint? EndPoint, int? InheritedFd, SourceLocation Location)
{
    /// <summary>Stable name used to match listeners across reloads and on the stats board.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Key => InheritedFd is { } fd ? $"fd@{fd}" : UnixPath is { } path ? UnixAddress.Display(path) : EndPoint!.ToString();

    /// <summary>`unix@PATH`, `/PATH` or `abns@NAME` (UnixAddress's form): a UNIX stream listener, shared by every worker; null: IP or fd@.</summary>
    public string? UnixPath { get; init; }

    /// <summary>`backlog N` of the bind, else of its frontend (5.1, 4.2): the listen(2) queue; null: 4096 (ListenerSet).</summary>
    public int? Backlog { get; init; }

    /// <summary>`mode`, `uid`/`user`, `gid`/`group` of a UNIX listener's file (5.1); null: the umask's and the supervisor's.</summary>
    public UnixSocketFile? UnixFile { get; init; }

    /// <summary>`accept-proxy` (5.1), or `tcp-request connection expect-proxy layer4` in its frontend: every connection
    /// starts with a PROXY protocol header (v1 or v2), whose source address is then the client's.</summary>
    public bool AcceptProxy { get; init; }

    /// <summary>`ssl` and its options (5.1, TlsConfig.cs): connections are TLS, terminated here; null: plain.</summary>
    public TlsBindConfig? Tls { get; init; }
}

/// <summary>A UNIX listener's file: `mode OCTAL`, `uid N`/`user NAME`, `gid N`/`group NAME` (5.1; uid/gid win over names).</summary>
public sealed record UnixSocketFile(int? Mode, uint? Uid, string? User, uint? Gid, string? Group);

public sealed record FrontendConfig(
    string Name,
    ProxyMode Mode,
    IReadOnlyList<BindAddress> Binds,
    string? DefaultBackend,
    int MaxConn,
    Timeouts Timeouts,
    SourceLocation Location)
{
    /// <summary>Where the frontend's traffic logs go: its own `log` lines, plus the global ones after `log global`.</summary>
    public IReadOnlyList<LogTarget> Logs { get; init; } = [];

    /// <summary>`option httplog` / `option tcplog`: one line per request / per connection to <see cref="Logs"/> (8.2.2, 8.2.3).</summary>
    public TrafficLogFormat LogFormat { get; init; }

    /// <summary>`option dontlognull`: connections on which the client sent nothing are not logged.</summary>
    public bool DontLogNull { get; init; }

    /// <summary>`option http-ignore-probes` (4.2): a connection that sent nothing closes silently (no 400/408, log nor error count).</summary>
    public bool IgnoreProbes { get; init; }

    /// <summary>`mode http` settings: connection mode, forwardfor, header rules, errorfiles, use_backend rules.</summary>
    public HttpProxySettings Http { get; init; } = HttpProxySettings.None;

    /// <summary>`option splice-*`: where `mode tcp` may move bulk data with splice(2).</summary>
    public SpliceDirections Splice { get; init; }

    /// <summary>`option tcpka|clitcpka`: SO_KEEPALIVE on the frontend's client connections (the kernel's probe timing).</summary>
    public bool ClientTcpKeepAlive { get; init; }

    /// <summary>
    /// `option tcp-smart-accept` (on by default in `mode http`): TCP_QUICKACK off on the frontend's listeners, so the
    /// kernel does not acknowledge a client's first data on its own and the answer carries the ACK.
    /// </summary>
    public bool SmartAccept { get; init; }

    /// <summary>`log-tag NAME` of the frontend (or its defaults): the syslog tag of its traffic log lines; null: the global `log-tag`.</summary>
    public string? LogTag { get; init; }

    /// <summary>
    /// `tcp-request connection expect-proxy layer4 if|unless COND` (4.2): a connection on a bind without
    /// <see cref="BindAddress.AcceptProxy"/> starts with a PROXY header when any of these holds for its own source
    /// address. Layer-4 ACLs only (`src`, TRUE, FALSE); empty when the unconditional form already covers every bind.
    /// </summary>
    public IReadOnlyList<ConditionConfig> ExpectProxyConditions { get; init; } = [];

    /// <summary>`stats enable|uri|auth|...` (StatsPageConfig.cs): the statistics page; null: none.</summary>
    public StatsPageConfig? StatsPage { get; init; }
    /// <summary>`log-format`: the traffic line's format (8.2.4), replacing httplog/tcplog's; null: the built-in one.</summary>
    public LogFormatConfig? CustomLogFormat { get; init; }

    /// <summary>`unique-id-format`: each request's unique id (%ID, `unique-id`); null: none.</summary>
    public LogFormatConfig? UniqueIdFormat { get; init; }

    /// <summary>`log-format-sd`: the RFC 5424 STRUCTURED-DATA of each traffic line sent in `format rfc5424`; null: `-`.</summary>
    public LogFormatConfig? StructuredDataFormat { get; init; }

    /// <summary>`unique-id-header`: the request header that carries the unique id to the server; null: none.</summary>
    public string? UniqueIdHeader { get; init; }

    /// <summary>`tcp-request connection accept|reject`, in order: evaluated on the connection's addresses at accept.</summary>
    public IReadOnlyList<TcpConnectionRule> TcpConnectionRules { get; init; } = [];

    /// <summary>`capture request header NAME len N`, in order (%hr).</summary>
    public IReadOnlyList<HeaderCapture> RequestCaptures { get; init; } = [];

    /// <summary>`tcp-request inspect-delay`: how long `tcp-request content` rules wait for the client's bytes; null: they do not wait.</summary>
    public TimeSpan? InspectDelay { get; init; }

    /// <summary>`tcp-request content accept|reject|set-var|unset-var`, in order (TcpContentRule.cs).</summary>
    public IReadOnlyList<TcpContentRule> TcpContentRules { get; init; } = [];

    /// <summary>`capture response header NAME len N`, in order (%hs).</summary>
    public IReadOnlyList<HeaderCapture> ResponseCaptures { get; init; } = [];

    /// <summary>`capture cookie NAME len N` (%CC, %CS); null: none.</summary>
    public CookieCapture? CookieCapture { get; init; }
}

/// <summary>`tcp-request connection accept|reject [if|unless COND]` (4.2): the first whose condition holds decides.</summary>
public sealed record TcpConnectionRule(bool Reject, ConditionConfig? Condition, SourceLocation Location)
{
    /// <summary>`tcp-request connection track-scN KEY [table T]`: tracks and goes on (<see cref="Reject"/> is false).</summary>
    public TrackScConfig? Track { get; init; }
    /// <summary>`tcp-request connection set-dst|set-dst-port EXPR`: run as http-request's, and the rules go on (<see cref="Reject"/> is false).</summary>
    public HttpRequestAction? Action { get; init; }
    /// <summary>`tcp-request session track-scN`: run after the PROXY header (and the TLS handshake), once the client's
    /// address is known, not with the connection rules (HAProxy's session rules).</summary>
    public bool Session { get; init; }
    /// <summary>`tcp-request connection silent-drop`: a reject whose close sends no FIN (<see cref="Reject"/> is true too).</summary>
    public bool SilentDrop { get; init; }
}

/// <summary>
/// A request or response capture slot (4.2 "capture request header"): `capture request|response header NAME len
/// LENGTH` fills it with a header; a slot with an empty <see cref="Name"/> comes from `declare capture`,
/// `http-request capture SAMPLE len N` or `tcp-request content capture SAMPLE len N` and is filled by those rules.
/// </summary>
public sealed record HeaderCapture(string Name, int Length);

/// <summary>
/// `capture cookie NAME len LENGTH` (4.2): the first request cookie and the first response Set-Cookie whose name
/// starts with <see cref="Name"/>, captured as `name=value` cut at <see cref="Length"/> (%CC, %CS).
/// </summary>
public sealed record CookieCapture(string Name, int Length);

/// <summary>Directions where `option splice-auto|splice-request|splice-response` allow kernel splicing.</summary>
[Flags]
public enum SpliceDirections { None = 0, Request = 1, Response = 2, Both = Request | Response }

/// <summary>Per-connection (tcp) or per-request (http) traffic logs of a frontend; None: no such log.</summary>
public enum TrafficLogFormat { None, Tcp, Http }

/// <summary>`balance` algorithms (4.2 "balance"); Uri, UrlParam and Header need `mode http`.</summary>
public enum BalanceAlgorithm { RoundRobin, StaticRoundRobin, LeastConn, First, Source, Random, Uri, UrlParam, Header, RdpCookie }

public sealed record ServerConfig(
    string Name,
    string Host,
    IPEndPoint EndPoint,
    int Weight,
    int MaxConn,                       // 0: unlimited
    bool Check,
    TimeSpan Inter,
    int Rise,
    int Fall,
    bool Backup,
    bool Disabled,
    SourceLocation Location)
{
    /// <summary>`fastinter`, `downinter`, `port`, `addr`, `observe`, `error-limit`, `on-error` (HealthCheckConfig.cs).</summary>
    public ServerCheckSettings CheckSettings { get; init; } = ServerCheckSettings.Default;

    /// <summary>`send-proxy`, `send-proxy-v2[-ssl[-cn]]`, `proxy-v2-options`, `check-send-proxy` (ProxyProtocolConfig.cs).</summary>
    public ServerProxyProtocol ProxyProtocol { get; init; } = ServerProxyProtocol.None;

    /// <summary>`ssl` and its options (5.2, TlsConfig.cs): connections to the server are TLS; null: plain.</summary>
    public TlsServerConfig? Tls { get; init; }

    /// <summary>
    /// The TLS of this server's health checks (5.2 `check-ssl`): with `check`, the server's `ssl` settings when it has
    /// `ssl` and neither `port` nor `addr`, or when `check-ssl` is set (even without `ssl`); null: checks in clear.
    /// </summary>
    public TlsServerConfig? CheckTls { get; init; }

    /// <summary>`cookie VALUE` (5.2): the persistence cookie value that designates this server; null: none.</summary>
    public string? Cookie { get; init; }

    /// <summary>`resolvers NAME` and its options (ResolversConfig.cs): the supervisor keeps the address current; null: fixed.</summary>
    public ServerResolution? Resolution { get; init; }

    /// <summary>No address yet (`init-addr none`, or a template slot without an answer): the server is in
    /// maintenance until DNS gives it one (HAProxy's RMAINT, "MAINT (resolution)"); its end point is 0.0.0.0:PORT.</summary>
    public bool Unresolved => UnixPath is null && EndPoint.Address.Equals(IPAddress.Any);

    /// <summary>`unix@PATH` or `abns@NAME` (UnixAddress's form): connections go to this UNIX socket, not to <see cref="EndPoint"/>.</summary>
    public string? UnixPath { get; init; }

    /// <summary>No port in the address (5.2): connections go to the port the client connected to, plus <see cref="PortOffset"/> (`+N`/`-N`).</summary>
    public bool ClientPort { get; init; }
    public int PortOffset { get; init; }

    /// <summary>`minconn` (5.2), as HAProxy's srv_minmax_conn_apply() leaves it: <see cref="MaxConn"/> when unset or
    /// above it (then MaxConn is raised to it); below MaxConn, the limit is dynamic (ServerRuntime.DynamicMaxConn).</summary>
    public int MinConn { get; init; }
}

public sealed record BackendConfig(
    string Name,
    ProxyMode Mode,
    BalanceAlgorithm Balance,
    IReadOnlyList<ServerConfig> Servers,
    Timeouts Timeouts,
    int Retries,
    bool Redispatch,
    SourceLocation Location)
{
    /// <summary>Where the backend's events (server up/down) are logged: its own `log` lines, plus the global ones after `log global`.</summary>
    public IReadOnlyList<LogTarget> Logs { get; init; } = [];

    /// <summary>`mode http` settings: connection mode, forwardfor, header rules, errorfiles, use_backend rules.</summary>
    public HttpProxySettings Http { get; init; } = HttpProxySettings.None;

    /// <summary>Arguments of the `balance` algorithm and the `hash-type` line.</summary>
    public BalanceOptions BalanceOptions { get; init; } = BalanceOptions.Default;

    /// <summary>`option allbackups`: with no active server left, balance over every usable backup, not only the first.</summary>
    public bool AllBackups { get; init; }

    /// <summary>`option log-health-checks` (4.2): each check result that moves a server's health is logged.</summary>
    public bool LogHealthChecks { get; init; }

    /// <summary>`option httpchk` and its `http-check` rules; null: the checks are layer 4 connects.</summary>
    public HttpCheckSettings? HttpCheck { get; init; }

    /// <summary>`option splice-*`: where `mode tcp` may move bulk data with splice(2).</summary>
    public SpliceDirections Splice { get; init; }

    /// <summary>`stats ...`: the statistics page answered for requests reaching this backend; null: none.</summary>
    public StatsPageConfig? StatsPage { get; init; }
    /// <summary>`option tcpka|srvtcpka`: SO_KEEPALIVE on the backend's server connections (the kernel's probe timing).</summary>
    public bool ServerTcpKeepAlive { get; init; }

    /// <summary>`cookie`, `option persist`, `force-persist`, `ignore-persist`, `use-server` (PersistenceConfig.cs).</summary>
    public PersistenceSettings Persistence { get; init; } = PersistenceSettings.None;

    /// <summary>`stick on|match|store-request|store-response` (StickRuleConfig), in order; empty: none.</summary>
    public IReadOnlyList<StickRuleConfig> StickRules { get; init; } = [];

    /// <summary>`persist rdp-cookie[(NAME)]`: the RDP cookie naming the server (worker/Persistence/RdpCookiePersistence.cs); null: none.</summary>
    public string? PersistRdpCookie { get; init; }

    /// <summary>`option tcp-check` with its rules, or a protocol check (`option redis-check`...); null: see <see cref="HttpCheck"/>.</summary>
    public TcpCheckSettings? TcpCheck { get; init; }

    /// <summary>`tcp-request content` rules of a backend (4.2), in order: they run once a request (mode http) or a
    /// connection (mode tcp) is assigned to it, after the frontend's; a listen section's run once, as its frontend's.</summary>
    public IReadOnlyList<TcpContentRule> TcpContentRules { get; init; } = [];
    /// <summary>`tcp-request inspect-delay` of a backend: how long its content rules wait for the client's bytes (mode tcp).</summary>
    public TimeSpan? InspectDelay { get; init; }

    /// <summary>`tcp-response content` rules (4.2), in order; empty: the server's bytes are relayed as they come.</summary>
    public IReadOnlyList<TcpResponseRule> TcpResponseRules { get; init; } = [];
    /// <summary>`tcp-response inspect-delay`: how long the rules may wait for the server's bytes; null: they decide on what is there.</summary>
    public TimeSpan? ResponseInspectDelay { get; init; }

    /// <summary>`option abortonclose` (4.2): a request whose client closed is dropped while queued or connecting (CQ, CC).</summary>
    public bool AbortOnClose { get; init; }

    /// <summary>`http-reuse never|safe|aggressive|always` (4.2): which requests may take another session's idle server connection.</summary>
    public HttpReuseMode HttpReuse { get; init; } = HttpReuseMode.Safe;

    /// <summary>`fullconn` (4.2), or HAProxy's default when unset (FullConnDefaults): the backend load (requests or
    /// connections in it, across workers) at which its servers' dynamic limit reaches their `maxconn`; at least 1.</summary>
    public int FullConn { get; init; } = 1;
}

/// <summary>
/// `http-reuse` (4.2): Never, idle server connections stay with their session; Safe (the default), a session's
/// first request gets a connection of its own, later ones may take an idle one; Aggressive, a first request may take
/// one that was already reused once (the server proved it keeps connections); Always, any request may take any.
/// </summary>
public enum HttpReuseMode { Safe, Never, Aggressive, Always }
