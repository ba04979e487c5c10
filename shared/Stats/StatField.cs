namespace Proxy.Shared.Stats;

// The per-object values a worker keeps on the stats board. Every name, kind and column lives in one table,
// StatSchema; this enum only gives the hot path its indexes. The numeric order is the board's own layout
// order, pinned by BoardLayout.Version: the values touched by every request come first (two cache lines).

/// <summary>One 64-bit value kept per object per worker slot. The hot path indexes with it directly.</summary>
public enum StatField
{
    // Per request or connection.
    Scur, Smax, Stot, Bin, Bout, ReqTot, Lbtot,
    Hrsp1xx, Hrsp2xx, Hrsp3xx, Hrsp4xx, Hrsp5xx, HrspOther,
    QtimeSum, CtimeSum, RtimeSum, TtimeSum, Timed,
    // Per event.
    Qcur, Qmax, Dreq, Ereq, Econ, Eresp, Wretr, Wredis, CliAbrt, SrvAbrt,
    // On the worker's status timer.
    Slim, Status, Weight, Act, Bck, Rate, RateMax, ReqRate, ReqRateMax,
    // Health checks (StatKind.Checked, except the counters): see CheckStatusCode for check_status.
    Chkfail, Chkdown, Lastchg, Downtime, Hanafail, CheckStatus, CheckCode, CheckDuration, CheckRise, CheckFall, CheckHealth,
    // HTTP compression (frontends and backends): bytes in and out of the compressor, bytes that bypassed it, responses compressed.
    CompIn, CompOut, CompByp, CompRsp,
    // TLS on frontends (`bind ... ssl`): handshakes completed, failed, and TLS sessions open now (show info CurrSslConns).
    SslSess, SslReusedSess, SslFailedHandshake, SslCur,
    // Responses denied (`http-response deny`, `tcp-response content reject`): frontends, backends and servers.
    Dresp,
}

/// <summary>
/// Process-wide values of `show info` that a worker writes on its timer. CurrConns, CumConns and CumReq are not
/// here: readers sum them from the frontends' scur, stot and req_tot, which are counted live (StatsSnapshot).
/// Pid, Uptime_sec and Stopping come from the slot identity.
/// </summary>
public enum InfoField
{
    ConnRate, ConnRateMax, SessRate, SessRateMax, MaxConn,
    // Compression input and output (bytes/s over the last second) and the `maxcomprate` share of each worker (bytes/s).
    CompressBpsIn, CompressBpsOut, CompressBpsRateLim,
    // TLS handshakes completed per second over the last interval, and its maximum.
    SslRate, SslRateMax,
    // `maxconnrate` / `maxsessrate` or `set rate-limit connections|sessions global`: the instance's limit (0: none).
    ConnRateLimit, SessRateLimit,
    // Full TLS handshakes (those that did not resume a session: HAProxy's key computations) per second, and its maximum.
    SslKeyRate, SslKeyRateMax,
}

/// <summary>How values of several workers (and of gone ones) combine into a total; HAProxy's typed output (9.2) nature letters in brackets.</summary>
public enum StatKind
{
    /// <summary>[C] Only grows; summed over every slot, live or gone (folded into the retired totals).</summary>
    Counter,
    /// <summary>[G]/[R] A level now (scur, qcur, rates); summed over live slots only, never folded.</summary>
    Gauge,
    /// <summary>[M] Highest value seen; the maximum over every slot, live or gone.</summary>
    Max,
    /// <summary>[S]/[C] A status or configured value (status, weight, slim); taken from the newest live slot, else the last folded one.</summary>
    Value,
    /// <summary>
    /// [S] Known only to the worker that runs the health checks (slot 1 of a generation: check_status, lastchg...):
    /// taken from the newest slot that wrote a nonzero value, else the last folded one. Summing would multiply
    /// one checker's value, and <see cref="Value"/> would read a worker that does not check and holds 0, so
    /// these fields are written only by the checker and stored so that a written value is never 0
    /// (check_duration and check_health hold the value plus one).
    /// </summary>
    Checked,
}

/// <summary>
/// HAProxy's check result codes (check_status, doc/management.txt 9.1) as stored in <see cref="StatField.CheckStatus"/>;
/// 0 means no check ran yet. <see cref="CheckStatusCodes"/> gives the CSV word and the description.
/// </summary>
public enum CheckStatusCode
{
    None = 0, Unknown, Init, SockErr, L4Ok, L4Tout, L4Con, L7Ok, L7Okc, L7Tout, L7Rsp, L7Sts, Hana,
    L6Ok, L6Tout, L6Rsp,    // ssl-hello-chk and `connect ssl` (HAProxy's HCHK_STATUS_L6*)
}

/// <summary>Words (check_status) and descriptions (check_desc, log "reason:") of <see cref="CheckStatusCode"/>, as HAProxy's check_statuses[].</summary>
public static class CheckStatusCodes
{
    private static readonly (string Word, string Description)[] s_names =
    [
        ("", ""), ("UNK", "Unknown"), ("INI", "Initializing"), ("SOCKERR", "Socket error"),
        ("L4OK", "Layer4 check passed"), ("L4TOUT", "Layer4 timeout"), ("L4CON", "Layer4 connection problem"),
        ("L7OK", "Layer7 check passed"), ("L7OKC", "Layer7 check conditionally passed"), ("L7TOUT", "Layer7 timeout"),
        ("L7RSP", "Layer7 invalid response"), ("L7STS", "Layer7 wrong status"), ("HANA", "Health analyze"),
        ("L6OK", "Layer6 check passed"), ("L6TOUT", "Layer6 timeout"), ("L6RSP", "Layer6 invalid response"),
    ];

    public static string Word(CheckStatusCode code) => (uint)code < (uint)s_names.Length ? s_names[(int)code].Word : "UNK";

    public static string Description(CheckStatusCode code) => (uint)code < (uint)s_names.Length ? s_names[(int)code].Description : "Unknown";
}

/// <summary>Server/proxy status codes stored in <see cref="StatField.Status"/>; 0 lets the renderer pick the default for the object kind.</summary>
public enum StatStatus
{
    Unknown = 0, Up = 1, Down = 2, Maint = 3, Nolb = 4, Open = 5, Full = 6, Stop = 7, NoCheck = 8, Drain = 9,
}
