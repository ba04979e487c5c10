using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Proxy.Shared.Stats;

/// <summary>
/// The runtime API's `show stat [{IID|PROXY} TYPE SID] [typed|json] [up|no-maint]` filter (doc/management.txt 9.3):
/// <see cref="Proxy"/> a proxy id (iid) or name, -1 for all; <see cref="Types"/> HAProxy's bitmask (1 frontends, 2
/// backends, 4 servers, 8 listeners, -1 everything); <see cref="ServerId"/> a server id (sid), -1 for all.
/// </summary>
public sealed record StatsFilter(string Proxy = "-1", int Types = -1, int ServerId = -1, bool UpOnly = false, bool NoMaint = false, bool PerProcess = false)
{
    internal bool Matches(StatsRow row, RowIds ids)
    {
        if (Proxy != "-1")
        {
            bool byId = int.TryParse(Proxy, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int iid);
            if (byId ? ids.Iid != iid : row.Object.ProxyName != Proxy) return false;
        }
        int bit = row.Object.Kind switch
        {
            StatObjectKind.Frontend => 1,
            StatObjectKind.Backend => 2,
            StatObjectKind.Server => 4,
            _ => 8,
        };
        if (Types != -1 && (Types & bit) == 0) return false;
        if (row.Object.Kind != StatObjectKind.Server) return true;
        if (ServerId != -1 && ids.Sid != ServerId) return false;
        var status = (StatStatus)row[StatField.Status];
        if (UpOnly && status is not (StatStatus.Up or StatStatus.NoCheck or 0)) return false;
        if (NoMaint && status == StatStatus.Maint) return false;
        return true;
    }
}

/// <summary>
/// `show stat` and `show info` in HAProxy's CSV, typed (9.2: `F.IID.SID.POS.NAME.PROC:TAGS:TYPE:VALUE`) and JSON
/// forms. The tags (origin, nature, scope letters) and types are HAProxy 2.6's for the same field names; a field of
/// this proxy's own (Generation) gets a position after HAProxy's last. Totals are process number 1; with per-process
/// rows, each worker is its slot + 2 (0 would read as "no process").
/// </summary>
public static class StatsQuery
{
    public static string Csv(StatsSnapshot snapshot, StatsFilter filter)
    {
        var sw = new StringWriter { NewLine = "\n" };
        StatsCsv.Write(sw, snapshot, Rows(snapshot, filter));
        return sw.ToString();
    }

    private static List<(StatsRow Row, RowIds Ids)> Rows(StatsSnapshot snapshot, StatsFilter filter)
    {
        var rows = new List<(StatsRow, RowIds)>();
        foreach (var (row, ids) in StatsRowOrder.Rows(snapshot, filter.PerProcess))
            if (filter.Matches(row, ids)) rows.Add((row, ids));
        return rows;
    }

    /// <summary>The proxy id (iid) and service id (sid) `show stat` gives each object, keyed by "pxname/svname".</summary>
    public static Dictionary<string, (int Iid, int Sid)> Ids(StatsSnapshot snapshot)
    {
        var ids = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        foreach (var (row, id) in StatsRowOrder.Order(snapshot.Totals)) ids[row.Object.Key] = (id.Iid, id.Sid);
        return ids;
    }

    private static int ProcessNum(StatsRow row) => row.IsTotal ? 1 : row.Slot + 2;

    private static char TypeLetter(StatObjectKind kind) => kind switch
    {
        StatObjectKind.Frontend => 'F',
        StatObjectKind.Backend => 'B',
        StatObjectKind.Server => 'S',
        _ => 'L',
    };

    private static string ObjType(StatObjectKind kind) => kind switch
    {
        StatObjectKind.Frontend => "Frontend",
        StatObjectKind.Backend => "Backend",
        StatObjectKind.Server => "Server",
        _ => "Listener",
    };

    /// <summary>`show stat typed`: one line per non-empty field, objects separated by nothing, as HAProxy.</summary>
    public static string Typed(StatsSnapshot snapshot, StatsFilter filter)
    {
        var sb = new StringBuilder();
        foreach (var (row, ids) in Rows(snapshot, filter))
        {
            for (int c = 0; c < StatsColumns.Names.Count; c++)
            {
                if (StatsColumns.Cell(c, row, ids, snapshot.TakenAt) is not { } cell) continue;
                string name = StatsColumns.Names[c];
                var (tags, type) = StatTags(name, cell.IsNumber);
                sb.Append(CultureInfo.InvariantCulture, $"{TypeLetter(row.Object.Kind)}.{ids.Iid}.{ids.Sid}.{c}.{name}.{ProcessNum(row)}:{tags}:{type}:{cell.Text}\n");
            }
        }
        return sb.ToString();
    }

    /// <summary>`show stat json`: an array of objects, each an array of fields, as HAProxy's stats_dump_json_to_buffer().</summary>
    public static string Json(StatsSnapshot snapshot, StatsFilter filter)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var (row, ids) in Rows(snapshot, filter))
            {
                json.WriteStartArray();
                for (int c = 0; c < StatsColumns.Names.Count; c++)
                {
                    if (StatsColumns.Cell(c, row, ids, snapshot.TakenAt) is not { } cell) continue;
                    string name = StatsColumns.Names[c];
                    var (tags, type) = StatTags(name, cell.IsNumber);
                    json.WriteStartObject();
                    json.WriteString("objType", ObjType(row.Object.Kind));
                    json.WriteNumber("proxyId", ids.Iid);
                    json.WriteNumber("id", ids.Sid);
                    WriteField(json, c, name, ProcessNum(row), tags, type, cell.Text);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
    }

    /// <summary>`show info typed`: `POS.NAME.PROC:TAGS:TYPE:VALUE`.</summary>
    public static string InfoTyped(IReadOnlyList<StatsInfoValue> values)
    {
        var sb = new StringBuilder();
        foreach (var v in values)
        {
            var (pos, tags, type) = InfoTags(v);
            sb.Append(CultureInfo.InvariantCulture, $"{pos}.{v.Name}.1:{tags}:{type}:{v}\n");
        }
        return sb.ToString();
    }

    /// <summary>`show info json`: an array of fields.</summary>
    public static string InfoJson(IReadOnlyList<StatsInfoValue> values)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var v in values)
            {
                var (pos, tags, type) = InfoTags(v);
                json.WriteStartObject();
                WriteField(json, pos, v.Name, 1, tags, type, v.ToString());
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
    }

    private static void WriteField(Utf8JsonWriter json, int pos, string name, int processNum, string tags, string type, string value)
    {
        json.WriteStartObject("field");
        json.WriteNumber("pos", pos);
        json.WriteString("name", name);
        json.WriteEndObject();
        json.WriteNumber("processNum", processNum);
        json.WriteStartObject("tags");
        json.WriteString("origin", Origin(tags[0]));
        json.WriteString("nature", Nature(tags[1]));
        json.WriteString("scope", Scope(tags[2]));
        json.WriteEndObject();
        json.WriteStartObject("value");
        json.WriteString("type", type);
        if (type == "str") json.WriteString("value", value);
        else json.WriteNumber("value", long.Parse(value, CultureInfo.InvariantCulture));
        json.WriteEndObject();
    }

    private static string Origin(char c) => c switch
    {
        'M' => "Metric", 'S' => "Status", 'K' => "Key", 'C' => "Config", 'P' => "Product", _ => "Unknown",
    };

    private static string Nature(char c) => c switch
    {
        'A' => "Age", 'a' => "Avg", 'C' => "Counter", 'D' => "Duration", 'G' => "Gauge", 'L' => "Limit", 'M' => "Max",
        'm' => "Min", 'N' => "Name", 'O' => "Output", 'R' => "Rate", 'T' => "Time", _ => "Unknown",
    };

    private static string Scope(char c) => c switch
    {
        'C' => "Cluster", 'P' => "Process", 'S' => "Service", 's' => "System", _ => "Unknown",
    };

    // HAProxy 2.6's tags and types (as `show stat typed` prints them) for the fields whose letters differ from the
    // defaults below; read from Debian's 2.6.12.
    private static readonly Dictionary<string, (string Tags, string Type)> s_statTags = new(StringComparer.Ordinal)
    {
        ["pxname"] = ("KNS", "str"), ["svname"] = ("KNS", "str"), ["status"] = ("SGP", "str"), ["weight"] = ("MaP", "u32"),
        ["act"] = ("SGP", "u32"), ["bck"] = ("SGP", "u32"), ["lastchg"] = ("MAP", "u32"), ["downtime"] = ("MCP", "u32"),
        ["pid"] = ("KGP", "u32"), ["iid"] = ("KGS", "u32"), ["sid"] = ("KGS", "u32"), ["type"] = ("CGS", "u32"),
        ["slim"] = ("CLP", "u32"), ["rate_lim"] = ("CLP", "u32"), ["lastsess"] = ("MAP", "s32"), ["qtime"] = ("MaP", "u32"),
        ["ctime"] = ("MaP", "u32"), ["rtime"] = ("MaP", "u32"), ["ttime"] = ("MaP", "u32"), ["addr"] = ("CGS", "str"),
        ["mode"] = ("CGS", "str"), ["algo"] = ("CGS", "str"), ["uweight"] = ("MaP", "u32"), ["check_status"] = ("MGP", "str"),
        ["check_code"] = ("MGP", "u32"), ["check_duration"] = ("MDP", "u64"), ["check_desc"] = ("MGP", "str"),
        ["check_rise"] = ("MGP", "u32"), ["check_fall"] = ("MGP", "u32"), ["check_health"] = ("SGP", "u32"),
        ["rate"] = ("MRP", "u32"), ["req_rate"] = ("MRP", "u32"), ["conn_rate"] = ("MRP", "u32"),
    };

    private static (string Tags, string Type) StatTags(string name, bool isNumber)
    {
        if (s_statTags.TryGetValue(name, out var known)) return known;
        if (!isNumber) return ("MGP", "str");
        return name.EndsWith("_max", StringComparison.Ordinal) || name is "qmax" or "smax" ? ("MMP", "u32")
            : name is "qcur" or "scur" or "srv_icur" ? ("MGP", "u32")
            : ("MCP", "u64");
    }

    // `show info` positions, tags and types of HAProxy 2.6 (info_fields[]), for the values this proxy has.
    private static readonly Dictionary<string, (int Pos, string Tags, string Type)> s_infoTags = new(StringComparer.Ordinal)
    {
        ["Name"] = (0, "POS", "str"), ["Version"] = (1, "POS", "str"), ["Nbproc"] = (4, "CGS", "u32"),
        ["Process_num"] = (5, "KGP", "u32"), ["Pid"] = (6, "SGP", "u32"), ["Uptime"] = (7, "MDP", "str"),
        ["Uptime_sec"] = (8, "MDP", "u32"), ["Maxconn"] = (15, "CLP", "u32"), ["CurrConns"] = (17, "MGP", "u32"),
        ["CumConns"] = (18, "MCP", "u32"), ["CumReq"] = (19, "MCP", "u32"), ["ConnRate"] = (26, "MRP", "u32"), ["ConnRateLimit"] = (27, "CLP", "u32"),
        ["MaxConnRate"] = (28, "MMP", "u32"), ["SessRate"] = (29, "MRP", "u32"), ["SessRateLimit"] = (30, "CLP", "u32"), ["MaxSessRate"] = (31, "MRP", "u32"),
        ["CompressBpsIn"] = (42, "MRP", "u32"), ["CompressBpsOut"] = (43, "MRP", "u32"),
        ["CompressBpsRateLim"] = (44, "CLP", "u32"), ["Stopping"] = (52, "MGP", "u32"),
    };

    /// <summary>HAProxy 2.6's last info position is 71 (Tainted): this proxy's own values follow it.</summary>
    private const int FirstOwnInfoPosition = 72;

    private static (int Pos, string Tags, string Type) InfoTags(StatsInfoValue v) =>
        s_infoTags.TryGetValue(v.Name, out var known) ? known
            : (FirstOwnInfoPosition, v.Number is null ? "POS" : "MGP", v.Number is null ? "str" : "u64");
}
