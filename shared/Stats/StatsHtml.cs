using System.Globalization;
using static System.Net.WebUtility;

namespace Proxy.Shared.Stats;

/// <summary>What one stats page shows (the `stats` settings of its proxy, and the request's `;` options).</summary>
public sealed record StatsPageView
{
    /// <summary>The `stats uri` prefix: the base of every link and of the admin form.</summary>
    public string Uri { get; init; } = "/haproxy?stats";
    /// <summary>`stats hide-version`.</summary>
    public bool HideVersion { get; init; }
    /// <summary>`stats show-legends`.</summary>
    public bool ShowLegends { get; init; }
    /// <summary>`stats show-node`: the node name in the title; null: none.</summary>
    public string? Node { get; init; }
    /// <summary>`stats show-desc`: a line under the title; null: none.</summary>
    public string? Description { get; init; }
    /// <summary>`stats scope`: the proxies shown; empty: all.</summary>
    public IReadOnlyList<string> Scope { get; init; } = [];
    /// <summary>`;up`: DOWN and MAINT servers are left out (HAProxy's STAT_HIDE_DOWN).</summary>
    public bool UpOnly { get; init; }
    /// <summary>`;norefresh`, or no `stats refresh`: no refresh link state to keep.</summary>
    public bool NoRefresh { get; init; }
    /// <summary>`;worker=N`: the board slot (0-based) whose own counts are shown; null: the instance's totals.</summary>
    public int? WorkerSlot { get; init; }
    /// <summary>`stats admin` holds for this request: servers get check boxes and the form.</summary>
    public bool Admin { get; init; }
    /// <summary>`;st=CODE` after an admin action: the message shown at the top.</summary>
    public string? ActionStatus { get; init; }
    /// <summary>The pid of the worker that renders the page.</summary>
    public int ServedByPid { get; init; }
    /// <summary>The product version shown (unless hidden).</summary>
    public string Version { get; init; } = "0";
}

/// <summary>
/// HAProxy's HTML statistics page (src/stats.c stats_dump_html_*) from a board snapshot: the process information
/// block, then one table per proxy with the Queue, Session rate, Sessions, Bytes, Denied, Errors, Warnings and
/// Server columns, a row for the frontend, one per server coloured by state, and one for the backend. What HAProxy's
/// page lacks: the workers of the instance, each with a link to its own view (`;worker=N`), and totals that include
/// every worker that ever ran (the board's retired totals), so they survive reloads and crashes.
/// </summary>
public static class StatsHtml
{
    /// <summary>The admin form's actions, as HAProxy's (`action=` values), plus `weight` (this proxy's own).</summary>
    public static IReadOnlyList<(string Action, string Label)> AdminActions { get; } =
    [
        ("ready", "Set state to READY"), ("drain", "Set state to DRAIN"), ("maint", "Set state to MAINT"), ("weight", "Set weight to"),
    ];

    public static void Write(TextWriter o, StatsSnapshot snapshot, StatsPageView view)
    {
        var worker = view.WorkerSlot is { } slot ? snapshot.Workers.FirstOrDefault(w => w.Slot == slot) : null;
        var rows = worker is null ? snapshot.Totals : snapshot.WorkerRows.Where(r => r.Slot == worker.Slot);
        o.Write("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Statistics Report for proxy");
        if (view.Node is { } node) o.Write(" on " + HtmlEncode(node));
        o.Write("</title>\n<style>\n");
        o.Write(Css);
        o.Write("</style></head>\n<body>\n<h1><a href=\"https://www.haproxy.org/\" style=\"text-decoration:none\">proxy</a>");
        if (!view.HideVersion) o.Write($" version {HtmlEncode(view.Version)}");
        o.Write("</h1>\n<h2>Statistics Report for ");
        o.Write(worker is null ? "the whole instance" : $"worker {worker.Slot + 1} (pid {worker.Pid})");
        if (view.Node is { } n2) o.Write(" on " + HtmlEncode(n2));
        o.Write("</h2>\n");
        if (view.Description is { Length: > 0 } desc) o.Write($"<h2 class=\"desc\">{HtmlEncode(desc)}</h2>\n");
        if (view.ActionStatus is { } st) o.Write($"<p class=\"{(st == "DONE" ? "done" : "failed")}\" id=\"action-status\">{HtmlEncode(ActionStatusText(st))}</p>\n");
        WriteInfo(o, snapshot, view, worker);
        foreach (var group in Groups(rows, view))
            WriteProxy(o, snapshot, view, group);
        o.Write("</body></html>\n");
    }

    public static string Render(StatsSnapshot snapshot, StatsPageView view)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        Write(sw, snapshot, view);
        return sw.ToString();
    }

    /// <summary>HAProxy's `;st=` codes after a POST (stats.c stat_status_codes).</summary>
    public static string ActionStatusText(string code) => code switch
    {
        "DONE" => "Action processed successfully.",
        "NONE" => "Nothing has changed.",
        "PART" => "Action not processed for some servers.",
        "ERRP" => "Action not processed because of invalid parameters.",
        "EXCD" => "Action not processed: the buffer couldn't store all the data.",
        "DENY" => "Action denied.",
        _ => "Unexpected result.",
    };

    /// <summary>The rows of each proxy in scope, in `show stat` order; listeners are left out (HAProxy shows them with `option socket-stats` only).</summary>
    private static List<List<(StatsRow Row, RowIds Ids)>> Groups(IEnumerable<StatsRow> rows, StatsPageView view)
    {
        var groups = new List<List<(StatsRow, RowIds)>>();
        string? current = null;
        foreach (var (row, ids) in StatsRowOrder.Order(rows))
        {
            var obj = row.Object;
            if (obj.Kind == StatObjectKind.Listener || !Shows(view.Scope, view.UpOnly, row)) continue;
            if (obj.ProxyName != current)
            {
                groups.Add([]);
                current = obj.ProxyName;
            }
            groups[^1].Add((row, ids));
        }
        return groups;
    }

    /// <summary>
    /// Whether a row is shown: its proxy is in `stats scope` (empty: all), and with `;up` it is not a server down or
    /// in maintenance (HAProxy's STAT_HIDE_DOWN). The CSV export filters the same way.
    /// </summary>
    public static bool Shows(IReadOnlyList<string> scope, bool upOnly, StatsRow row) =>
        (scope.Count == 0 || scope.Contains(row.Object.ProxyName))
        && !(upOnly && row.Object.Kind == StatObjectKind.Server && (StatStatus)row[StatField.Status] is StatStatus.Down or StatStatus.Maint);

    private static void WriteInfo(TextWriter o, StatsSnapshot snapshot, StatsPageView view, StatsWorker? worker)
    {
        var info = StatsInfo.Values(snapshot, worker);
        string Get(string name) => info.First(v => v.Name == name).ToString();
        o.Write("<hr><h3>&gt; General process information</h3>\n<table border=0><tr><td align=\"left\" nowrap width=\"1%\"><p>\n");
        o.Write($"<b>pid = </b> {Get("Pid")} ({(worker is null ? "supervisor" : $"worker {worker.Slot + 1}")}, nbproc = {Get("Nbproc")}, generation = {Get("Generation")})<br>\n");
        o.Write($"<b>uptime = </b> {Get("Uptime")}<br>\n");
        o.Write($"<b>maxconn = </b> {Get("Maxconn")}<br>\n");
        o.Write($"current conns = {Get("CurrConns")}; total conns = {Get("CumConns")}; total requests = {Get("CumReq")}<br>\n");
        o.Write($"conn rate = {Get("ConnRate")}/sec; max conn rate = {Get("MaxConnRate")}/sec; sess rate = {Get("SessRate")}/sec<br>\n");
        o.Write($"served by the worker with pid {view.ServedByPid}; board taken at {snapshot.TakenAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z<br>\n");
        o.Write("</p></td><td width=\"1%\"></td><td>\n");
        WriteLegend(o, view);
        o.Write("</td><td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: 0.25em;\">\n");
        string options = Options(view, view.WorkerSlot);
        o.Write(view.UpOnly
            ? $"<li><a href=\"{Link(view.Uri, Options(view with { UpOnly = false }, view.WorkerSlot))}\">Show all servers</a><br>\n"
            : $"<li><a href=\"{Link(view.Uri, Options(view with { UpOnly = true }, view.WorkerSlot))}\">Hide 'DOWN' servers</a><br>\n");
        o.Write($"<li><a href=\"{Link(view.Uri, options)}\">Refresh now</a><br>\n");
        o.Write($"<li><a href=\"{Link(view.Uri, ";csv" + WorkerOption(view.WorkerSlot))}\">CSV export</a><br>\n");
        o.Write($"<li><a href=\"{Link(view.Uri, ";json" + WorkerOption(view.WorkerSlot))}\">JSON export</a><br>\n");
        o.Write("</ul></td></tr></table>\n");
        WriteWorkers(o, snapshot, view);
    }

    private static void WriteLegend(TextWriter o, StatsPageView view)
    {
        o.Write("<table class=\"lgd\"><tr>\n");
        o.Write("<td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td>");
        o.Write("<td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr>\n");
        o.Write("<td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td>");
        o.Write("<td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td></tr><tr>\n");
        o.Write("<td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td>");
        o.Write("<td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td></tr><tr>\n");
        o.Write("<td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td>");
        o.Write("<td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr>\n");
        o.Write("<td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr>\n");
        o.Write("<td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr>\n");
        o.Write("</table>\n");
        if (view.ShowLegends)
        {
            o.Write("<p class=\"legend\">Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled. Counters are totals since the instance " +
                    "first started, workers gone by reloads and crashes included; a worker's view shows that worker's own counts. " +
                    "Queue, Session rate, Sessions: Cur/Max/Limit; LbTot: requests balanced to the server; Bytes: In/Out; Denied: Req/Resp; " +
                    "Errors: Req/Conn/Resp; Warnings: Retr (retries)/Redis (redispatches); Server: Status, LastChk, Wght, Act, Bck, Chk (failed checks), " +
                    "Dwn (UP to DOWN transitions), Dwntme (downtime), Thrtle.</p>\n");
        }
    }

    private static void WriteWorkers(TextWriter o, StatsSnapshot snapshot, StatsPageView view)
    {
        o.Write("<h3>&gt; Workers</h3>\n<table class=\"tbl workers\" id=\"workers\"><tr class=\"titre\"><th>View</th><th>Slot</th><th>Pid</th>" +
                "<th>Generation</th><th>CPU</th><th>State</th><th>Uptime</th><th>Conns</th><th>Total conns</th><th>Requests</th></tr>\n");
        string all = view.WorkerSlot is null ? " class=\"selected\"" : "";
        o.Write($"<tr{all}><td><a href=\"{Link(view.Uri, Options(view, null))}\">all workers</a></td><td colspan=\"6\">totals since the instance started (retired workers included)</td>" +
                $"<td>{snapshot.CurrConns()}</td><td>{snapshot.CumConns()}</td><td>{snapshot.CumReq()}</td></tr>\n");
        foreach (var w in snapshot.Workers)
        {
            string selected = view.WorkerSlot == w.Slot ? " class=\"selected\"" : "";
            long uptime = Math.Max(0, (long)(snapshot.TakenAt - w.StartedAt).TotalSeconds);
            o.Write($"<tr{selected}><td><a href=\"{Link(view.Uri, Options(view, w.Slot))}\">worker {w.Slot + 1}</a></td><td>{w.Slot + 1}</td><td>{w.Pid}</td>" +
                    $"<td>{w.Generation}</td><td>{w.Cpu}</td><td>{StatsJson.StateName(w.State)}</td><td>{uptime}s</td>" +
                    $"<td>{snapshot.CurrConns(w)}</td><td>{snapshot.CumConns(w)}</td><td>{snapshot.CumReq(w)}</td></tr>\n");
        }
        o.Write("</table>\n");
    }

    private static void WriteProxy(TextWriter o, StatsSnapshot snapshot, StatsPageView view, List<(StatsRow Row, RowIds Ids)> rows)
    {
        string name = rows[0].Row.Object.ProxyName;
        string enc = HtmlEncode(name);
        bool hasServers = rows.Exists(r => r.Row.Object.Kind == StatObjectKind.Server);
        bool admin = view.Admin && rows.Exists(r => r.Row.Object.Kind == StatObjectKind.Backend);
        if (admin) o.Write($"<form method=\"post\" action=\"{HtmlEncode(view.Uri)}\">\n");
        o.Write($"<table class=\"tbl\" width=\"100%\"><tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{enc}\"></a><a class=\"px\" href=\"#{enc}\">{enc}</a></th><th class=\"empty\" width=\"90%\"></th></tr></table>\n");
        o.Write($"<table class=\"tbl\" width=\"100%\" id=\"px-{enc}\">\n<tr class=\"titre\">");
        if (admin) o.Write("<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c of this.form.querySelectorAll('input[name=s]'))c.checked=this.checked\"></th>");
        o.Write("<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th>" +
                "<th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n<tr class=\"titre\">" +
                "<th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th>" +
                "<th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th>" +
                "<th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th></tr>\n");
        foreach (var (row, _) in rows)
            WriteRow(o, snapshot, row, admin);
        o.Write("</table>\n");
        if (admin && hasServers)
        {
            o.Write("<p class=\"admin\">Choose the action to perform on the checked servers : <select name=\"action\">" +
                    "<option value=\"\"></option>");
            foreach (var (action, label) in AdminActions) o.Write($"<option value=\"{action}\">{label}</option>");
            o.Write($"</select> <input type=\"text\" name=\"weight\" size=\"3\" placeholder=\"weight\"><input type=\"hidden\" name=\"b\" value=\"{enc}\">" +
                    "<input type=\"submit\" value=\"Apply\"></p>\n");
        }
        if (admin) o.Write("</form>\n");
        o.Write("<p>\n");
    }

    private static void WriteRow(TextWriter o, StatsSnapshot snapshot, StatsRow row, bool admin)
    {
        var obj = row.Object;
        var kind = obj.Kind;
        string cls = kind switch
        {
            StatObjectKind.Frontend => "frontend",
            StatObjectKind.Backend => "backend",
            _ => ServerClass(row),
        };
        string label = kind switch
        {
            StatObjectKind.Frontend => "Frontend",
            StatObjectKind.Backend => "Backend",
            _ => obj.ServiceName,
        };
        o.Write($"<tr class=\"{cls}\" data-svname=\"{HtmlEncode(obj.ServiceName)}\">");
        if (admin)
        {
            o.Write(kind == StatObjectKind.Server
                ? $"<td><input type=\"checkbox\" name=\"s\" value=\"{HtmlEncode(obj.ServiceName)}\"></td>"
                : "<td></td>");
        }
        o.Write($"<td class=\"ac\">{HtmlEncode(label)}</td>");
        // Queue: Cur Max Limit
        Td(o, row, StatField.Qcur); Td(o, row, StatField.Qmax); Empty(o);
        // Session rate: Cur Max Limit
        Td(o, row, StatField.Rate); Td(o, row, StatField.RateMax); Empty(o);
        // Sessions: Cur Max Limit Total LbTot Last
        Td(o, row, StatField.Scur); Td(o, row, StatField.Smax);
        o.Write(row[StatField.Slim] > 0 && StatFields.AppliesTo(StatField.Slim, kind, obj.Mode) ? $"<td>{row[StatField.Slim]}</td>" : "<td></td>");
        Td(o, row, StatField.Stot); Td(o, row, StatField.Lbtot); Empty(o);
        // Bytes: In Out
        Td(o, row, StatField.Bin); Td(o, row, StatField.Bout);
        // Denied: Req Resp
        Td(o, row, StatField.Dreq); Td(o, row, StatField.Dresp);
        // Errors: Req Conn Resp
        Td(o, row, StatField.Ereq); Td(o, row, StatField.Econ); Td(o, row, StatField.Eresp);
        // Warnings: Retr Redis
        Td(o, row, StatField.Wretr); Td(o, row, StatField.Wredis);
        // Server: Status LastChk Wght Act Bck Chk Dwn Dwntme Thrtle
        string status = kind == StatObjectKind.Server ? StatsColumns.ServerStatusText(row) : StatsColumns.StatusText(row[StatField.Status], kind);
        long lastchg = row[StatField.Lastchg];
        if (lastchg > 0 && kind != StatObjectKind.Frontend)
            status += $" {FormatDuration(snapshot.TakenAt.ToUnixTimeSeconds() - lastchg)}";
        o.Write($"<td class=\"ac status\">{HtmlEncode(status)}</td>");
        if (kind == StatObjectKind.Server && (CheckStatusCode)row[StatField.CheckStatus] is var check && check != CheckStatusCode.None)
        {
            long code = row[StatField.CheckCode];
            long duration = row[StatField.CheckDuration] - 1;
            o.Write($"<td class=\"ac\" title=\"{HtmlEncode(CheckStatusCodes.Description(check))}\">{CheckStatusCodes.Word(check)}{(code > 0 ? $"/{code}" : "")}{(duration >= 0 ? $" in {duration}ms" : "")}</td>");
        }
        else
        {
            Empty(o);
        }
        if (kind == StatObjectKind.Frontend)
        {
            for (int i = 0; i < 6; i++) Empty(o);   // Wght Act Bck Chk Dwn Dwntme
        }
        else
        {
            Td(o, row, StatField.Weight);
            if (kind == StatObjectKind.Server)
            {
                bool backup = row[StatField.Bck] > 0;
                o.Write(backup ? "<td class=\"ac\">-</td><td class=\"ac\">Y</td>" : "<td class=\"ac\">Y</td><td class=\"ac\">-</td>");
            }
            else
            {
                Td(o, row, StatField.Act); Td(o, row, StatField.Bck);
            }
            if (row[StatField.CheckRise] > 0 || kind == StatObjectKind.Backend)
            {
                if (kind == StatObjectKind.Server) Td(o, row, StatField.Chkfail); else Empty(o);
                Td(o, row, StatField.Chkdown);
                o.Write($"<td>{FormatDuration(row[StatField.Downtime])}</td>");
            }
            else
            {
                Empty(o); Empty(o); Empty(o);
            }
        }
        o.Write(kind == StatObjectKind.Server ? "<td class=\"ac\">-</td>" : "<td></td>");
        o.Write("</tr>\n");
    }

    /// <summary>HAProxy's row classes (stats.c srv_hlt_st): colour by state, backups in their own shade.</summary>
    private static string ServerClass(StatsRow row)
    {
        string prefix = row[StatField.Bck] > 0 ? "backup" : "active";
        var status = (StatStatus)row[StatField.Status];
        string text = StatsColumns.ServerStatusText(row);
        return status switch
        {
            StatStatus.Maint => "maintain",
            StatStatus.Drain or StatStatus.Nolb => "active_draining",
            StatStatus.Up when text.Length > 2 => prefix + "_going_down",
            StatStatus.Up => prefix + "_up",
            StatStatus.Down when text.Length > 4 => prefix + "_going_up",
            StatStatus.Down => "active_down",
            _ => "active_no_check",
        };
    }

    private static void Td(TextWriter o, StatsRow row, StatField field)
    {
        if (!StatFields.AppliesTo(field, row.Object.Kind, row.Object.Mode))
        {
            Empty(o);
            return;
        }
        o.Write("<td>");
        o.Write(row[field].ToString(CultureInfo.InvariantCulture));
        o.Write("</td>");
    }

    private static void Empty(TextWriter o) => o.Write("<td></td>");

    /// <summary>HAProxy's human durations: 45s, 3m12s, 2h05m, 4d03h.</summary>
    private static string FormatDuration(long seconds)
    {
        seconds = Math.Max(0, seconds);
        if (seconds < 60) return $"{seconds}s";
        if (seconds < 3600) return $"{seconds / 60}m{seconds % 60:00}s";
        if (seconds < 86400) return $"{seconds / 3600}h{seconds / 60 % 60:00}m";
        return $"{seconds / 86400}d{seconds / 3600 % 24:00}h";
    }

    private static string Options(StatsPageView view, int? worker) =>
        (view.UpOnly ? ";up" : "") + (view.NoRefresh ? ";norefresh" : "") + WorkerOption(worker);

    private static string WorkerOption(int? worker) => worker is { } w ? $";worker={w + 1}" : "";

    private static string Link(string uri, string options) => HtmlEncode(uri + options);

    // HAProxy's page style (stats.c stats_dump_html_head), abridged.
    private const string Css = """
        body {font-family: arial, helvetica, sans-serif; font-size: 12px; font-weight: normal; color: black; background: white;}
        th,td {font-size: 10px;}
        h1 {font-size: x-large; margin-bottom: 0.5em;}
        h2 {font-family: helvetica, arial; font-size: x-large; font-weight: bold; font-style: italic; color: #6020a0; margin-top: 0em; margin-bottom: 0em;}
        h2.desc {font-size: medium; font-style: normal; color: black;}
        h3 {font-family: helvetica, arial; font-size: 16px; font-weight: bold; color: #b00040; background: #e8e8d0; margin-top: 0em; margin-bottom: 0em;}
        a.px:link {color: #ffff40; text-decoration: none;} a.px:visited {color: #ffff40; text-decoration: none;}
        table.tbl {border-collapse: collapse; border-style: none;}
        table.tbl td {text-align: right; border-width: 1px 1px 1px 1px; border-style: solid solid solid solid; padding: 2px 3px; border-color: gray; white-space: nowrap;}
        table.tbl td.ac {text-align: center;}
        table.tbl th {border-width: 1px; border-style: solid solid solid solid; border-color: gray;}
        table.tbl th.pxname {background: #b00040; color: #ffff40; font-weight: bold; border-style: solid solid none solid; padding: 2px 3px; white-space: nowrap;}
        table.tbl th.empty {border-style: none; empty-cells: hide; background: white;}
        table.lgd {border-collapse: collapse; border-width: 1px; border-style: none none none solid; border-color: black;}
        table.lgd td {border-width: 1px; border-style: solid solid solid solid; border-color: gray; padding: 2px;}
        table.lgd td.noborder {border-style: none; padding: 2px; white-space: nowrap;}
        .titre {background: #20D0D0; color: #000000; font-weight: bold; text-align: center;}
        .total {background: #20D0D0; color: #ffff80;}
        .frontend {background: #e8e8d0;}
        .socket {background: #d0d0d0;}
        .backend {background: #e8e8d0;}
        .active_down {background: #ff9090;}
        .active_going_up {background: #ffd020;}
        .active_going_down {background: #ffffa0;}
        .active_up {background: #c0ffc0;}
        .active_nolb {background: #20a0ff;}
        .active_draining {background: #20a0FF;}
        .active_no_check {background: #e0e0e0;}
        .backup_down {background: #ff9090;}
        .backup_going_up {background: #ff80ff;}
        .backup_going_down {background: #c060ff;}
        .backup_up {background: #b0d0ff;}
        .backup_nolb {background: #90b0e0;}
        .backup_draining {background: #cc9900;}
        .backup_no_check {background: #e0e0e0;}
        .maintain {background: #c07820;}
        .rls {letter-spacing: 0.2em; margin-right: 1px;}
        tr.selected {font-weight: bold;}
        p.done {background: #20D0D0; padding: 4px;} p.failed {background: #ff9090; padding: 4px;}
        table.workers td {text-align: left;}

        """;
}
