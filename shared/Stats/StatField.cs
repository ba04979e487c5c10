namespace Proxy.Shared.Stats;

// The per-object values a worker keeps on the stats board. Names follow HAProxy's `show stat`
// (doc/management.txt, 9.1 "CSV format"); the numeric order is the board's own layout order and
// is pinned by BoardLayout.Version: append new fields at the end and bump the version.

/// <summary>One 64-bit value kept per object per worker slot. The hot path indexes with it directly.</summary>
public enum StatField
{
    Qcur, Qmax, Scur, Smax, Slim, Stot, Bin, Bout, Dreq, Dresp, Ereq, Econ, Eresp, Wretr, Wredis,
    Status, Weight, Act, Bck, Chkfail, Chkdown, Lastchg, Downtime, Lbtot,
    Rate, RateMax,
    Hrsp1xx, Hrsp2xx, Hrsp3xx, Hrsp4xx, Hrsp5xx, HrspOther,
    ReqRate, ReqRateMax, ReqTot, CliAbrt, SrvAbrt,
    Qtime, Ctime, Rtime, Ttime,
    // Health checks (StatKind.Checked, except the counters hanafail): see CheckStatusCode for check_status.
    Hanafail, CheckStatus, CheckCode, CheckDuration, CheckRise, CheckFall, CheckHealth,
}

/// <summary>Process-wide values of `show info` that a worker writes; Pid, Uptime_sec and Stopping come from the slot identity.</summary>
public enum InfoField
{
    CurrConns, CumConns, CumReq, ConnRate, ConnRateMax, SessRate, SessRateMax, MaxConn,
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
    /// <summary>[a] Already an average (qtime...); averaged over live slots that reported one, else the last folded one.</summary>
    Average,
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
    ];

    public static string Word(CheckStatusCode code) => (uint)code < (uint)s_names.Length ? s_names[(int)code].Word : "UNK";

    public static string Description(CheckStatusCode code) => (uint)code < (uint)s_names.Length ? s_names[(int)code].Description : "Unknown";
}

/// <summary>Server/proxy status codes stored in <see cref="StatField.Status"/>; 0 lets the renderer pick the default for the object kind.</summary>
public enum StatStatus
{
    Unknown = 0, Up = 1, Down = 2, Maint = 3, Nolb = 4, Open = 5, Full = 6, Stop = 7, NoCheck = 8, Drain = 9,
}

/// <summary>Names, kinds and applicability of the fields, looked up once (never per request).</summary>
public static class StatFields
{
    public static readonly int Count = Enum.GetValues<StatField>().Length;
    public static readonly int InfoCount = Enum.GetValues<InfoField>().Length;

    // HAProxy's [LFBS] letters per field: which object kinds the CSV shows a value for.
    private static readonly (string Name, StatKind Kind, string Types)[] s_fields =
    [
        ("qcur", StatKind.Gauge, "..BS"), ("qmax", StatKind.Max, "..BS"),
        ("scur", StatKind.Gauge, "LFBS"), ("smax", StatKind.Max, "LFBS"), ("slim", StatKind.Value, "LFBS"),
        ("stot", StatKind.Counter, "LFBS"), ("bin", StatKind.Counter, "LFBS"), ("bout", StatKind.Counter, "LFBS"),
        ("dreq", StatKind.Counter, "LFB."), ("dresp", StatKind.Counter, "LFBS"), ("ereq", StatKind.Counter, "LF.."),
        ("econ", StatKind.Counter, "..BS"), ("eresp", StatKind.Counter, "..BS"),
        ("wretr", StatKind.Counter, "..BS"), ("wredis", StatKind.Counter, "..BS"),
        ("status", StatKind.Value, "LFBS"), ("weight", StatKind.Value, "..BS"),
        ("act", StatKind.Value, "..BS"), ("bck", StatKind.Value, "..BS"),
        // chkfail, chkdown, hanafail, lastchg, downtime and the check_* fields are written by the checking worker only
        // (BoardPublisher): counters then sum to one count per event, never one per worker.
        ("chkfail", StatKind.Counter, "...S"), ("chkdown", StatKind.Counter, "..BS"),
        // lastchg is stored as the Unix time (s) of the last UP<->DOWN change; renderers show its age.
        ("lastchg", StatKind.Checked, "..BS"),
        // HAProxy 9.2: durations are not summed, the maximum is kept (an old generation's figure until the new checker's passes it).
        ("downtime", StatKind.Max, "..BS"),
        ("lbtot", StatKind.Counter, "..BS"),
        ("rate", StatKind.Gauge, ".FBS"), ("rate_max", StatKind.Max, ".FBS"),
        ("hrsp_1xx", StatKind.Counter, ".FBS"), ("hrsp_2xx", StatKind.Counter, ".FBS"),
        ("hrsp_3xx", StatKind.Counter, ".FBS"), ("hrsp_4xx", StatKind.Counter, ".FBS"),
        ("hrsp_5xx", StatKind.Counter, ".FBS"), ("hrsp_other", StatKind.Counter, ".FBS"),
        ("req_rate", StatKind.Gauge, ".F.."), ("req_rate_max", StatKind.Max, ".F.."),
        ("req_tot", StatKind.Counter, ".FB."),
        ("cli_abrt", StatKind.Counter, "..BS"), ("srv_abrt", StatKind.Counter, "..BS"),
        ("qtime", StatKind.Average, "..BS"), ("ctime", StatKind.Average, "..BS"),
        ("rtime", StatKind.Average, "..BS"), ("ttime", StatKind.Average, "..BS"),
        ("hanafail", StatKind.Counter, "...S"),
        ("check_status", StatKind.Checked, "...S"), ("check_code", StatKind.Checked, "...S"),
        ("check_duration", StatKind.Checked, "...S"), ("check_rise", StatKind.Checked, "...S"),
        ("check_fall", StatKind.Checked, "...S"), ("check_health", StatKind.Checked, "...S"),
    ];

    private static readonly (string Name, StatKind Kind)[] s_info =
    [
        ("CurrConns", StatKind.Gauge), ("CumConns", StatKind.Counter), ("CumReq", StatKind.Counter),
        ("ConnRate", StatKind.Gauge), ("MaxConnRate", StatKind.Max),
        ("SessRate", StatKind.Gauge), ("MaxSessRate", StatKind.Max), ("MaxConn", StatKind.Value),
    ];

    /// <summary>The `show stat` column name of a field (e.g. "hrsp_5xx").</summary>
    public static string Name(StatField field) => s_fields[(int)field].Name;

    public static StatKind Kind(StatField field) => s_fields[(int)field].Kind;

    /// <summary>The `show info` name of an info field (e.g. "CumReq").</summary>
    public static string Name(InfoField field) => s_info[(int)field].Name;

    public static StatKind Kind(InfoField field) => s_info[(int)field].Kind;

    /// <summary>Whether HAProxy shows this field for that kind of object (the [LFBS] letters of 9.1).</summary>
    public static bool AppliesTo(StatField field, StatObjectKind kind) => s_fields[(int)field].Types[kind switch
    {
        StatObjectKind.Listener => 0,
        StatObjectKind.Frontend => 1,
        StatObjectKind.Backend => 2,
        _ => 3,
    }] != '.';

    /// <summary>The field whose `show stat` name is <paramref name="name"/>, for renderers and tools.</summary>
    public static bool TryParse(string name, out StatField field)
    {
        for (int i = 0; i < s_fields.Length; i++)
        {
            if (s_fields[i].Name == name) { field = (StatField)i; return true; }
        }
        field = default;
        return false;
    }
}
