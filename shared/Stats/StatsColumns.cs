namespace Proxy.Shared.Stats;

/// <summary>
/// The static columns of HAProxy's `show stat` CSV in HAProxy's order (doc/management.txt, 9.1,
/// fields 0 to 99), and how a row fills each one, both from <see cref="StatSchema"/>. Tools parse these by
/// position, so all of them are written, empty where this proxy has no such value, exactly as HAProxy
/// leaves a field empty.
/// </summary>
public static class StatsColumns
{
    private static readonly StatSchemaEntry[] s_columns = StatSchema.Entries.Where(e => e.Cell != StatCell.Hidden).ToArray();

    public static IReadOnlyList<string> Names { get; } = s_columns.Select(e => e.Name).ToArray();

    /// <summary>The schema entry of column <paramref name="column"/>.</summary>
    public static StatSchemaEntry Entry(int column) => s_columns[column];

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
        var e = s_columns[column];
        var kind = row.Object.Kind;
        switch (e.Cell)
        {
            case StatCell.PxName: return (row.Object.ProxyName, false);
            case StatCell.SvName: return (row.Object.ServiceName, false);
            case StatCell.Pid: return Number(row.Pid);
            case StatCell.Iid: return Number(ids.Iid);
            case StatCell.Sid: return kind is StatObjectKind.Server or StatObjectKind.Listener ? Number(ids.Sid) : Number(0);
            case StatCell.Type: return Number((int)kind);
            case StatCell.Mode: return row.Object.Mode switch
            {
                StatProxyMode.Tcp => ("tcp", false),
                StatProxyMode.Http => ("http", false),
                _ => null,
            };
            case StatCell.Status: return (kind == StatObjectKind.Server ? ServerStatusText(row) : StatusText(row[StatField.Status], kind), false);
            case StatCell.Empty or StatCell.Hidden: return null;
        }
        if (!StatSchema.AppliesTo(e, kind, row.Object.Mode)) return null;
        // A server's check counters only when it is checked (the checker writes check_rise then), as HAProxy.
        if (e.ServerCheckOnly && kind == StatObjectKind.Server && row[StatField.CheckRise] == 0) return null;
        long v = e.Field is { } f ? row[f] : 0;
        switch (e.Cell)
        {
            case StatCell.Number: return Number(v);
            case StatCell.Positive: return v > 0 ? Number(v) : null;
            case StatCell.PlusOne: return v > 0 ? Number(v - 1) : null;
            case StatCell.Age: return v > 0 ? Number(Math.Max(0, now.ToUnixTimeSeconds() - v)) : null;
            case StatCell.Average:
            {
                long n = row[StatField.Timed];
                return Number(n > 0 ? v / n : 0);
            }
            default: // CheckWord, CheckDesc
            {
                var code = (CheckStatusCode)row[StatField.CheckStatus];
                if (code == CheckStatusCode.None) return null;
                return (e.Cell == StatCell.CheckWord ? CheckStatusCodes.Word(code) : CheckStatusCodes.Description(code), false);
            }
        }
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
