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
    public BackendConfig? FindBackend(string name)
    {
        foreach (var b in Backends)
            if (b.Name == name) return b;
        return null;
    }
}

/// <summary>One `stats socket PATH [mode M] [level L]` line: the control socket.</summary>
public sealed record StatsSocketConfig(string Path, int Mode, string Level);

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

    /// <summary>TLS globals: `crt-base`, `ca-base`, `ssl-default-*`, `ssl-server-verify` (TlsConfig.cs).</summary>
    public TlsGlobalSettings Tls { get; init; } = TlsGlobalSettings.Default;

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
}

/// <summary>One address of a `bind` line: an endpoint, or an inherited descriptor (`fd@N`).</summary>
public sealed record BindAddress(IPEndPoint? EndPoint, int? InheritedFd, SourceLocation Location)
{
    /// <summary>Stable name used to match listeners across reloads and on the stats board.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Key => InheritedFd is { } fd ? $"fd@{fd}" : EndPoint!.ToString();

    /// <summary>`accept-proxy` (5.1), or `tcp-request connection expect-proxy layer4` in its frontend: every connection
    /// starts with a PROXY protocol header (v1 or v2), whose source address is then the client's.</summary>
    public bool AcceptProxy { get; init; }

    /// <summary>`ssl` and its options (5.1, TlsConfig.cs): connections are TLS, terminated here; null: plain.</summary>
    public TlsBindConfig? Tls { get; init; }
}

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

    /// <summary>`mode http` settings: connection mode, forwardfor, header rules, errorfiles, use_backend rules.</summary>
    public HttpProxySettings Http { get; init; } = HttpProxySettings.None;

    /// <summary>`option splice-*`: where `mode tcp` may move bulk data with splice(2).</summary>
    public SpliceDirections Splice { get; init; }

    /// <summary>
    /// `tcp-request connection expect-proxy layer4 if|unless COND` (4.2): a connection on a bind without
    /// <see cref="BindAddress.AcceptProxy"/> starts with a PROXY header when any of these holds for its own source
    /// address. Layer-4 ACLs only (`src`, TRUE, FALSE); empty when the unconditional form already covers every bind.
    /// </summary>
    public IReadOnlyList<ConditionConfig> ExpectProxyConditions { get; init; } = [];
}

/// <summary>Directions where `option splice-auto|splice-request|splice-response` allow kernel splicing.</summary>
[Flags]
public enum SpliceDirections { None = 0, Request = 1, Response = 2, Both = Request | Response }

/// <summary>Per-connection (tcp) or per-request (http) traffic logs of a frontend; None: no such log.</summary>
public enum TrafficLogFormat { None, Tcp, Http }

/// <summary>`balance` algorithms (4.2 "balance"); Uri, UrlParam and Header need `mode http`.</summary>
public enum BalanceAlgorithm { RoundRobin, StaticRoundRobin, LeastConn, First, Source, Random, Uri, UrlParam, Header }

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

    /// <summary>`option httpchk` and its `http-check` rules; null: the checks are layer 4 connects.</summary>
    public HttpCheckSettings? HttpCheck { get; init; }

    /// <summary>`option splice-*`: where `mode tcp` may move bulk data with splice(2).</summary>
    public SpliceDirections Splice { get; init; }
}
