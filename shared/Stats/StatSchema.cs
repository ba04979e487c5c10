namespace Proxy.Shared.Stats;

/// <summary>How a `show stat` cell is made from a row (see <see cref="StatsColumns.Cell"/>).</summary>
public enum StatCell
{
    /// <summary>A board value the row stores; not a CSV column (the divisor of the timer averages).</summary>
    Hidden,
    /// <summary>A column this proxy has no value for: always empty, as HAProxy leaves a field it does not fill.</summary>
    Empty,
    /// <summary>The field's value as a number.</summary>
    Number,
    /// <summary>The field's value, empty when 0 (slim: no limit; check_code: a layer 4 check; check_rise/fall).</summary>
    Positive,
    /// <summary>Stored plus one so that a written value is never 0 (StatKind.Checked): shown minus one, empty when 0.</summary>
    PlusOne,
    /// <summary>A Unix time (s) shown as its age in seconds (lastchg), empty when 0.</summary>
    Age,
    /// <summary>A sum of milliseconds over <see cref="StatField.Timed"/> requests, shown as their average (qtime...).</summary>
    Average,
    /// <summary>The status word (UP, DOWN 1/2, OPEN...).</summary>
    Status,
    /// <summary>check_status's word and check_desc's text, from <see cref="StatField.CheckStatus"/>.</summary>
    CheckWord, CheckDesc,
    /// <summary>From the row's identity, not from the board's values.</summary>
    PxName, SvName, Pid, Iid, Sid, Type, Mode,
}

/// <summary>One entry of <see cref="StatSchema"/>: a `show stat` column and the board field it shows, if any.</summary>
/// <param name="Name">The `show stat` column name (doc/management.txt 9.1).</param>
/// <param name="Cell">How the cell is made.</param>
/// <param name="Field">The board field this entry defines; null for columns that read no field of their own.</param>
/// <param name="Kind">How the field's values of several workers combine (only with <paramref name="Field"/>).</param>
/// <param name="Types">HAProxy's [LFBS] letters: the object kinds (listener, frontend, backend, server) that show a value.</param>
/// <param name="InTable">Shown by `proxyctl stats` (the human table) as well.</param>
/// <param name="HttpTypes">The [LFBS] letters for a proxy in mode http, where HAProxy shows more (hrsp_*, req_tot); null: <paramref name="Types"/>.</param>
/// <param name="ServerCheckOnly">On a server row, shown only when the server is checked (chkfail, chkdown, downtime, hanafail), as HAProxy.</param>
public sealed record StatSchemaEntry(string Name, StatCell Cell, StatField? Field, StatKind Kind, string Types, bool InTable,
    string? HttpTypes = null, bool ServerCheckOnly = false);

/// <summary>
/// The one table of stat fields, as HAProxy's stat_fields[]: every `show stat` column in HAProxy's order
/// (doc/management.txt 9.1, fields 0 to 99), the board field behind it and how workers' values combine, and
/// the board fields that are no column. The board layout (which fields exist), the fold and the aggregation
/// (by kind), the CSV and JSON columns and the human table all read it; nothing else names a field.
/// </summary>
/// <remarks>
/// Listeners (`option socket-stats` rows) are not counted per listener here, so counters carry no L: their cells
/// are empty rather than a 0 that would claim nothing happened. dresp counts `http-response deny` and
/// `tcp-response content reject` on the frontend, the backend and the server, as HAProxy's denied_resp.
/// As HAProxy, the HTTP counters show for proxies in mode http only, and a server's check counters when it is checked.
/// </remarks>
public static class StatSchema
{
    private const string LFBS = "LFBS", FBS = ".FBS", FB = ".FB.", F = ".F..", BS = "..BS", S = "...S", B = "..B.", Never = "....";

    private static StatSchemaEntry Col(string name, StatField field, StatKind kind, string types, bool table = false,
        StatCell cell = StatCell.Number, bool checkOnly = false) =>
        new(name, cell, field, kind, types, table, null, checkOnly);

    // HAProxy shows the HTTP counters only for proxies in mode http (stats_fill_*_stats), req_tot of a frontend always.
    private static StatSchemaEntry Http(string name, StatField field, string types, string httpTypes, bool table = false) =>
        new(name, StatCell.Number, field, StatKind.Counter, types, table, httpTypes);

    private static StatSchemaEntry Id(string name, StatCell cell, bool table = false) => new(name, cell, null, StatKind.Value, LFBS, table);

    private static StatSchemaEntry None(string name) => new(name, StatCell.Empty, null, StatKind.Value, Never, false);

    /// <summary>Every entry: the 100 columns in CSV order, then the hidden board fields.</summary>
    public static IReadOnlyList<StatSchemaEntry> Entries { get; } =
    [
        Id("pxname", StatCell.PxName, table: true), Id("svname", StatCell.SvName, table: true),
        // Requests queue in the backend only (BackendQueue: a full server passes a request to another one, never keeps
        // a queue of its own), so a server's qcur and qmax are empty rather than a 0 no request could change.
        Col("qcur", StatField.Qcur, StatKind.Gauge, B, table: true), Col("qmax", StatField.Qmax, StatKind.Max, B),
        Col("scur", StatField.Scur, StatKind.Gauge, FBS, table: true), Col("smax", StatField.Smax, StatKind.Max, FBS, table: true),
        Col("slim", StatField.Slim, StatKind.Value, FBS, table: true, cell: StatCell.Positive),
        Col("stot", StatField.Stot, StatKind.Counter, FBS, table: true),
        Col("bin", StatField.Bin, StatKind.Counter, FBS, table: true), Col("bout", StatField.Bout, StatKind.Counter, FBS, table: true),
        Col("dreq", StatField.Dreq, StatKind.Counter, FB), Col("dresp", StatField.Dresp, StatKind.Counter, FBS),
        Col("ereq", StatField.Ereq, StatKind.Counter, F, table: true),
        Col("econ", StatField.Econ, StatKind.Counter, BS, table: true), Col("eresp", StatField.Eresp, StatKind.Counter, BS, table: true),
        Col("wretr", StatField.Wretr, StatKind.Counter, BS), Col("wredis", StatField.Wredis, StatKind.Counter, BS),
        Col("status", StatField.Status, StatKind.Value, LFBS, table: true, cell: StatCell.Status),
        Col("weight", StatField.Weight, StatKind.Value, BS, table: true),
        Col("act", StatField.Act, StatKind.Value, BS), Col("bck", StatField.Bck, StatKind.Value, BS),
        // chkfail, chkdown, hanafail, lastchg, downtime and the check_* fields are written by the checking worker only
        // (BoardPublisher): counters then sum to one count per event, never one per worker.
        Col("chkfail", StatField.Chkfail, StatKind.Counter, S, checkOnly: true),
        Col("chkdown", StatField.Chkdown, StatKind.Counter, BS, checkOnly: true),
        // lastchg is stored as the Unix time (s) of the last UP<->DOWN change; renderers show its age.
        Col("lastchg", StatField.Lastchg, StatKind.Checked, BS, cell: StatCell.Age),
        // HAProxy 9.2: durations are not summed, the maximum is kept (an old generation's figure until the new checker's passes it).
        Col("downtime", StatField.Downtime, StatKind.Max, BS, checkOnly: true),
        None("qlimit"), Id("pid", StatCell.Pid, table: true), Id("iid", StatCell.Iid), Id("sid", StatCell.Sid), None("throttle"),
        Col("lbtot", StatField.Lbtot, StatKind.Counter, BS), None("tracked"), Id("type", StatCell.Type),
        Col("rate", StatField.Rate, StatKind.Gauge, FBS, table: true), None("rate_lim"), Col("rate_max", StatField.RateMax, StatKind.Max, FBS),
        Col("check_status", StatField.CheckStatus, StatKind.Checked, S, cell: StatCell.CheckWord),
        Col("check_code", StatField.CheckCode, StatKind.Checked, S, cell: StatCell.Positive),
        Col("check_duration", StatField.CheckDuration, StatKind.Checked, S, cell: StatCell.PlusOne),
        Http("hrsp_1xx", StatField.Hrsp1xx, Never, FBS), Http("hrsp_2xx", StatField.Hrsp2xx, Never, FBS),
        Http("hrsp_3xx", StatField.Hrsp3xx, Never, FBS), Http("hrsp_4xx", StatField.Hrsp4xx, Never, FBS),
        Http("hrsp_5xx", StatField.Hrsp5xx, Never, FBS, table: true), Http("hrsp_other", StatField.HrspOther, Never, FBS),
        Col("hanafail", StatField.Hanafail, StatKind.Counter, S, checkOnly: true),
        Col("req_rate", StatField.ReqRate, StatKind.Gauge, F), Col("req_rate_max", StatField.ReqRateMax, StatKind.Max, F),
        Http("req_tot", StatField.ReqTot, F, FBS, table: true),
        Col("cli_abrt", StatField.CliAbrt, StatKind.Counter, BS), Col("srv_abrt", StatField.SrvAbrt, StatKind.Counter, BS),
        // Compression (worker/Compression): comp_byp counts the body bytes of responses a limit (maxcomprate,
        // maxcompcpuusage, maxzlibmem) kept from being compressed.
        Http("comp_in", StatField.CompIn, Never, FB), Http("comp_out", StatField.CompOut, Never, FB),
        Http("comp_byp", StatField.CompByp, Never, FB), Http("comp_rsp", StatField.CompRsp, Never, FB),
        None("lastsess"), None("last_chk"), None("last_agt"),
        // HAProxy averages the last 1024 requests; here: sum / count of every request timed since the instance started
        // (retired workers included), over the requests that got a connection and, in mode http, a response head.
        Col("qtime", StatField.QtimeSum, StatKind.Counter, BS, cell: StatCell.Average),
        Col("ctime", StatField.CtimeSum, StatKind.Counter, BS, cell: StatCell.Average),
        Col("rtime", StatField.RtimeSum, StatKind.Counter, BS, cell: StatCell.Average),
        Col("ttime", StatField.TtimeSum, StatKind.Counter, BS, cell: StatCell.Average),
        None("agent_status"), None("agent_code"), None("agent_duration"),
        new("check_desc", StatCell.CheckDesc, null, StatKind.Value, S, false),
        None("agent_desc"),
        Col("check_rise", StatField.CheckRise, StatKind.Checked, S, cell: StatCell.Positive),
        Col("check_fall", StatField.CheckFall, StatKind.Checked, S, cell: StatCell.Positive),
        Col("check_health", StatField.CheckHealth, StatKind.Checked, S, cell: StatCell.PlusOne),
        None("agent_rise"), None("agent_fall"), None("agent_health"), None("addr"), None("cookie"), Id("mode", StatCell.Mode), None("algo"),
        None("conn_rate"), None("conn_rate_max"), None("conn_tot"), None("intercepted"), None("dcon"), None("dses"), None("wrew"),
        None("connect"), None("reuse"), None("cache_lookups"), None("cache_hits"), None("srv_icur"), None("src_ilim"),
        None("qtime_max"), None("ctime_max"), None("rtime_max"), None("ttime_max"), None("eint"), None("idle_conn_cur"),
        None("safe_conn_cur"), None("used_conn_cur"), None("need_conn_est"), None("uweight"),
        // Hidden: the number of requests the four timer sums above cover.
        new("timed", StatCell.Hidden, StatField.Timed, StatKind.Counter, BS, false),
        // HAProxy's SSL stats module columns (after the standard ones, as its `show stat` prints them).
        Col("ssl_sess", StatField.SslSess, StatKind.Counter, F), Col("ssl_reused_sess", StatField.SslReusedSess, StatKind.Counter, F),
        Col("ssl_failed_handshake", StatField.SslFailedHandshake, StatKind.Counter, F),
        new("ssl_cur", StatCell.Hidden, StatField.SslCur, StatKind.Gauge, F, false),
    ];

    private static readonly (string Name, StatKind Kind)[] s_info =
    [
        ("ConnRate", StatKind.Gauge), ("MaxConnRate", StatKind.Max),
        ("SessRate", StatKind.Gauge), ("MaxSessRate", StatKind.Max), ("MaxConn", StatKind.Value),
        // Each worker publishes its own rates and its share of the limit: the sums are the instance's.
        ("CompressBpsIn", StatKind.Gauge), ("CompressBpsOut", StatKind.Gauge), ("CompressBpsRateLim", StatKind.Gauge),
        ("SslRate", StatKind.Gauge), ("MaxSslRate", StatKind.Max),
        // Every worker publishes the instance's limit (not its share), so the newest live one's value is the answer.
        ("ConnRateLimit", StatKind.Value), ("SessRateLimit", StatKind.Value),
        ("SslFrontendKeyRate", StatKind.Gauge), ("SslFrontendMaxKeyRate", StatKind.Max),
    ];

    private static readonly StatSchemaEntry[] s_byField = IndexByField();

    /// <summary>The number of board fields per object.</summary>
    public static int FieldCount => s_byField.Length;

    public static int InfoCount => s_info.Length;

    /// <summary>The entry that defines <paramref name="field"/>.</summary>
    public static StatSchemaEntry Of(StatField field) => s_byField[(int)field];

    /// <summary>The `show info` name of an info field (e.g. "ConnRate").</summary>
    public static string Name(InfoField field) => s_info[(int)field].Name;

    public static StatKind Kind(InfoField field) => s_info[(int)field].Kind;

    /// <summary>Whether an entry shows a value for that kind of object in a proxy of that mode (the [LFBS] letters of 9.1).</summary>
    public static bool AppliesTo(StatSchemaEntry entry, StatObjectKind kind, StatProxyMode mode = StatProxyMode.Unknown)
    {
        string types = mode == StatProxyMode.Tcp ? entry.Types : entry.HttpTypes ?? entry.Types;
        return types[kind switch
        {
            StatObjectKind.Listener => 0,
            StatObjectKind.Frontend => 1,
            StatObjectKind.Backend => 2,
            _ => 3,
        }] != '.';
    }

    // Each StatField is defined by exactly one entry: checked once, so a field added to the enum without an entry
    // (or twice) fails at the first use of the schema rather than showing a silent 0.
    private static StatSchemaEntry[] IndexByField()
    {
        var byField = new StatSchemaEntry?[Enum.GetValues<StatField>().Length];
        foreach (var e in Entries)
        {
            if (e.Field is not { } f) continue;
            if (byField[(int)f] is not null) throw new InvalidOperationException($"stat field {f} is defined twice");
            byField[(int)f] = e;
        }
        for (int i = 0; i < byField.Length; i++)
        {
            if (byField[i] is null) throw new InvalidOperationException($"stat field {(StatField)i} has no schema entry");
        }
        if (s_info.Length != Enum.GetValues<InfoField>().Length) throw new InvalidOperationException("every info field needs a name");
        return byField!;
    }
}

/// <summary>Names, kinds and applicability of the fields, read from <see cref="StatSchema"/> (never per request).</summary>
public static class StatFields
{
    public static int Count => StatSchema.FieldCount;
    public static int InfoCount => StatSchema.InfoCount;

    /// <summary>The `show stat` column name of a field (e.g. "hrsp_5xx"; "qtime" for the sum behind qtime).</summary>
    public static string Name(StatField field) => StatSchema.Of(field).Name;

    public static StatKind Kind(StatField field) => StatSchema.Of(field).Kind;

    public static string Name(InfoField field) => StatSchema.Name(field);

    public static StatKind Kind(InfoField field) => StatSchema.Kind(field);

    /// <summary>Whether HAProxy shows this field for that kind of object (the [LFBS] letters of 9.1; mode http unless told).</summary>
    public static bool AppliesTo(StatField field, StatObjectKind kind, StatProxyMode mode = StatProxyMode.Unknown) =>
        StatSchema.AppliesTo(StatSchema.Of(field), kind, mode);

    /// <summary>The field whose `show stat` name is <paramref name="name"/>, for renderers and tools.</summary>
    public static bool TryParse(string name, out StatField field)
    {
        foreach (var e in StatSchema.Entries)
        {
            if (e.Field is { } f && e.Name == name) { field = f; return true; }
        }
        field = default;
        return false;
    }
}
