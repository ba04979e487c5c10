using System.Net;
using System.Text.RegularExpressions;

namespace Proxy.Shared.Config;

// Health-check settings of the model (doc/configuration.txt 4.2 "option httpchk", "http-check send",
// "http-check expect"; 5.2 "check", "inter", "fastinter", "downinter", "port", "addr", "observe",
// "error-limit", "on-error").

/// <summary>`observe`: which real-traffic events count as errors of a server (HAProxy's HANA_OBS_*).</summary>
public enum ObserveMode { None, Layer4, Layer7 }

/// <summary>`on-error`: what `error-limit` consecutive passive errors do (HAProxy's HANA_ONERR_*).</summary>
public enum OnErrorAction { FastInter, FailCheck, SuddenDeath, MarkDown }

/// <summary>A server's check options beyond `check inter rise fall`. Null intervals fall back to `inter`, as in HAProxy.</summary>
public sealed record ServerCheckSettings(
    TimeSpan? FastInter,
    TimeSpan? DownInter,
    int? Port,                          // `port N`: the check connects there instead of the server's port
    IPAddress? Address,                 // `addr IP`: the check connects there instead of the server's address
    ObserveMode Observe,
    int ErrorLimit,
    OnErrorAction OnError)
{
    /// <summary>
    /// `track [BE/]SRV` (5.2): the server takes the state of that one (which has `check`, `agent-check` or tracks in
    /// turn) and runs no check itself; as written, the backend defaulting to the server's own (ConfigValidator resolves it).
    /// </summary>
    public string? Track { get; init; }

    /// <summary>HAProxy's defaults: no fastinter/downinter, no observe, error-limit 10, on-error fail-check.</summary>
    public static ServerCheckSettings Default { get; } = new(null, null, null, null, ObserveMode.None, 10, OnErrorAction.FailCheck);

    /// <summary>`agent-check` and its options (AgentCheckConfig.cs).</summary>
    public ServerAgentCheck Agent { get; init; } = ServerAgentCheck.None;

    /// <summary>`slowstart T`: after coming back UP, the server's weight grows from 1 to 100% over T; zero: none.</summary>
    public TimeSpan SlowStart { get; init; }

    /// <summary>`on-marked-down shutdown-sessions`: the server's sessions are cut when it goes DOWN (logged 'D').</summary>
    public bool ShutdownSessionsOnDown { get; init; }

    /// <summary>`on-marked-up shutdown-backup-sessions`: the backup servers' sessions are cut when this active server comes UP (logged 'U').</summary>
    public bool ShutdownBackupSessionsOnUp { get; init; }
}

/// <summary>`http-check expect` matchers implemented here.</summary>
public enum HttpCheckMatch { Status, RStatus, String, RString }

/// <summary>
/// One `http-check expect [!] MATCH PATTERN` rule. <see cref="Statuses"/> holds the ranges of `status`
/// (`200`, `200,204`, `200-299`); <see cref="Regex"/> those of `rstatus` and `rstring`.
/// </summary>
public sealed record HttpCheckExpect(HttpCheckMatch Match, bool Negate, string Pattern,
    IReadOnlyList<(int Low, int High)> Statuses, Regex? Regex, SourceLocation Location);

/// <summary>
/// `option httpchk` with its request (`option httpchk [METHOD] [URI] [VERSION]` or `http-check send meth uri ver hdr`)
/// and its `http-check expect` rules, all of which must pass. No rule: a 2xx or 3xx status passes (HAProxy's default).
/// </summary>
public sealed record HttpCheckSettings(string Method, string Uri, string Version,
    IReadOnlyList<(string Name, string Value)> Headers, string? Body, IReadOnlyList<HttpCheckExpect> Expects)
{
    /// <summary>HAProxy's request when `option httpchk` has no argument: `OPTIONS / HTTP/1.0`.</summary>
    public static HttpCheckSettings Default { get; } = new("OPTIONS", "/", "HTTP/1.0", [], null, []);

    /// <summary>`http-check send-state` (4.2): each check request carries HAProxy's X-Haproxy-Server-State header.</summary>
    public bool SendState { get; init; }

    /// <summary>
    /// `http-check disable-on-404` (4.2): a 404 answer is a conditional pass (L7OKC): an UP server goes to NOLB (no new
    /// load-balanced traffic, persistent traffic still goes), and a 2xx/3xx brings it back. Takes precedence over `expect`.
    /// </summary>
    public bool DisableOn404 { get; init; }
}
