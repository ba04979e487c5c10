namespace Proxy.Shared.Stats;

/// <summary>
/// The static columns of HAProxy's `show stat` CSV in HAProxy's order (doc/management.txt, 9.1,
/// fields 0 to 99), and how a row fills each one. Tools parse these by position, so all of them are
/// written, empty where this proxy has no such value, exactly as HAProxy leaves a field empty.
/// </summary>
public static class StatsColumns
{
    public static IReadOnlyList<string> Names { get; } =
    [
        "pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot", "bin", "bout",
        "dreq", "dresp", "ereq", "econ", "eresp", "wretr", "wredis", "status", "weight", "act",
        "bck", "chkfail", "chkdown", "lastchg", "downtime", "qlimit", "pid", "iid", "sid", "throttle",
        "lbtot", "tracked", "type", "rate", "rate_lim", "rate_max", "check_status", "check_code", "check_duration", "hrsp_1xx",
        "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other", "hanafail", "req_rate", "req_rate_max", "req_tot", "cli_abrt",
        "srv_abrt", "comp_in", "comp_out", "comp_byp", "comp_rsp", "lastsess", "last_chk", "last_agt", "qtime", "ctime",
        "rtime", "ttime", "agent_status", "agent_code", "agent_duration", "check_desc", "agent_desc", "check_rise", "check_fall", "check_health",
        "agent_rise", "agent_fall", "agent_health", "addr", "cookie", "mode", "algo", "conn_rate", "conn_rate_max", "conn_tot",
        "intercepted", "dcon", "dses", "wrew", "connect", "reuse", "cache_lookups", "cache_hits", "srv_icur", "src_ilim",
        "qtime_max", "ctime_max", "rtime_max", "ttime_max", "eint", "idle_conn_cur", "safe_conn_cur", "used_conn_cur", "need_conn_est", "uweight",
    ];

    // Column -> board field, or -1: filled from the row's identity, or left empty.
    private static readonly int[] s_fieldOfColumn = Names.Select(n => StatFields.TryParse(n, out var f) ? (int)f : -1).ToArray();

    private static readonly int s_checkDurationColumn = Names.ToList().IndexOf("check_duration");

    /// <summary>
    /// A checked server's status as HAProxy words it (srv_hlt_st): "UP 2/3" while an UP server is failing checks
    /// (health left, of fall), "DOWN 1/2" while a DOWN server is passing them (successes, of rise).
    /// </summary>
    public static string ServerStatusText(StatsRow row)
    {
        var status = (StatStatus)row[StatField.Status];
        long rise = row[StatField.CheckRise], fall = row[StatField.CheckFall], health = row[StatField.CheckHealth] - 1;
        if (rise <= 0 || health < 0 || status is not (StatStatus.Up or StatStatus.Down))
            return StatusText((long)status, StatObjectKind.Server);
        if (status == StatStatus.Up && health < rise + fall - 1)
            return $"UP {health - rise + 1}/{fall}";
        if (status == StatStatus.Down && health > 0 && health < rise)
            return $"DOWN {health}/{rise}";
        return StatusText((long)status, StatObjectKind.Server);
    }

    /// <summary>The text of status code <paramref name="status"/> for an object of <paramref name="kind"/> (0 gives HAProxy's default).</summary>
    public static string StatusText(long status, StatObjectKind kind) => (StatStatus)status switch
    {
        StatStatus.Up => "UP",
        StatStatus.Down => "DOWN",
        StatStatus.Maint => "MAINT",
        StatStatus.Nolb => "NOLB",
        StatStatus.Open => "OPEN",
        StatStatus.Full => "FULL",
        StatStatus.Stop => "STOP",
        StatStatus.NoCheck => "no check",
        StatStatus.Drain => "DRAIN",
        _ => kind switch
        {
            StatObjectKind.Backend => "UP",
            StatObjectKind.Server => "no check",
            _ => "OPEN",
        },
    };

    /// <summary>
    /// The cell of column <paramref name="column"/> for <paramref name="row"/>: its text, and whether it is
    /// a number (JSON writes those unquoted). Null when HAProxy would leave the cell empty.
    /// </summary>
    internal static (string Text, bool IsNumber)? Cell(int column, StatsRow row, RowIds ids, DateTimeOffset now)
    {
        var kind = row.Object.Kind;
        switch (Names[column])
        {
            case "pxname": return (row.Object.ProxyName, false);
            case "svname": return (row.Object.ServiceName, false);
            case "pid": return Number(row.Pid);
            case "iid": return Number(ids.Iid);
            case "sid": return kind is StatObjectKind.Server or StatObjectKind.Listener ? Number(ids.Sid) : Number(0);
            case "type": return Number((int)kind);
            case "status": return (kind == StatObjectKind.Server ? ServerStatusText(row) : StatusText(row[StatField.Status], kind), false);
            case "check_status":
                return kind == StatObjectKind.Server && row[StatField.CheckStatus] > 0
                    ? (CheckStatusCodes.Word((CheckStatusCode)row[StatField.CheckStatus]), false) : null;
            case "check_desc":
                return kind == StatObjectKind.Server && row[StatField.CheckStatus] > 0
                    ? (CheckStatusCodes.Description((CheckStatusCode)row[StatField.CheckStatus]), false) : null;
            case "check_code":
                // Layer 4 checks have no code: HAProxy leaves the cell empty.
                return kind == StatObjectKind.Server && row[StatField.CheckCode] > 0 ? Number(row[StatField.CheckCode]) : null;
            case "check_duration" or "check_health":
                // Stored plus one (StatKind.Checked: a written value is never 0).
                long stored = row[column == s_checkDurationColumn ? StatField.CheckDuration : StatField.CheckHealth];
                return kind == StatObjectKind.Server && stored > 0 ? Number(stored - 1) : null;
            case "check_rise" or "check_fall":
                long v = row[Names[column] == "check_rise" ? StatField.CheckRise : StatField.CheckFall];
                return kind == StatObjectKind.Server && v > 0 ? Number(v) : null;
            case "slim":
                // 0 means "no limit", which HAProxy shows as an empty cell.
                return row[StatField.Slim] > 0 ? Number(row[StatField.Slim]) : null;
            case "lastchg":
            {
                long at = row[StatField.Lastchg];
                return at > 0 && StatFields.AppliesTo(StatField.Lastchg, kind)
                    ? Number(Math.Max(0, now.ToUnixTimeSeconds() - at)) : null;
            }
        }
        int field = s_fieldOfColumn[column];
        if (field < 0 || !StatFields.AppliesTo((StatField)field, kind)) return null;
        return Number(row.Values[field]);
    }

    private static (string, bool) Number(long n) => (n.ToString(System.Globalization.CultureInfo.InvariantCulture), true);
}

/// <summary>HAProxy's proxy id (iid, 1-based in proxy order) and service id (sid, 1-based inside a proxy) of a row.</summary>
internal readonly record struct RowIds(int Iid, int Sid);

/// <summary>Puts rows in `show stat` order: per proxy (first seen first), FRONTEND, listeners, servers, BACKEND.</summary>
internal static class StatsRowOrder
{
    public static List<(StatsRow Row, RowIds Ids)> Order(IEnumerable<StatsRow> rows)
    {
        var proxies = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = new List<(StatsRow Row, int Proxy, int Rank, int Seq)>();
        int seq = 0;
        foreach (var r in rows)
        {
            if (!proxies.TryGetValue(r.Object.ProxyName, out int p))
                proxies[r.Object.ProxyName] = p = proxies.Count + 1;
            int rank = r.Object.Kind switch
            {
                StatObjectKind.Frontend => 0,
                StatObjectKind.Listener => 1,
                StatObjectKind.Server => 2,
                _ => 3,
            };
            list.Add((r, p, rank, seq++));
        }
        list.Sort((a, b) => a.Proxy != b.Proxy ? a.Proxy.CompareTo(b.Proxy)
            : a.Rank != b.Rank ? a.Rank.CompareTo(b.Rank) : a.Seq.CompareTo(b.Seq));
        var result = new List<(StatsRow, RowIds)>(list.Count);
        int lastProxy = -1, sid = 0;
        foreach (var e in list)
        {
            if (e.Proxy != lastProxy) { lastProxy = e.Proxy; sid = 0; }
            if (e.Rank is 1 or 2) sid++;
            result.Add((e.Row, new RowIds(e.Proxy, e.Rank is 1 or 2 ? sid : 0)));
        }
        return result;
    }

    /// <summary>The totals in `show stat` order, then, when <paramref name="perProcess"/>, each worker's rows the same way.</summary>
    public static List<(StatsRow Row, RowIds Ids)> Rows(StatsSnapshot snapshot, bool perProcess)
    {
        var rows = Order(snapshot.Totals);
        if (perProcess)
        {
            foreach (var w in snapshot.Workers)
                rows.AddRange(Order(snapshot.WorkerRows.Where(r => r.Slot == w.Slot)));
        }
        return rows;
    }
}
