using System.Globalization;
using System.Text;

namespace Proxy.Shared.Stats;

/// <summary>
/// The board in Prometheus' text format (0.0.4), with the metric names, types, help texts and labels of HAProxy's
/// exporter (addons/promex/service-prometheus.c: haproxy_process_*, haproxy_frontend_*, haproxy_backend_*,
/// haproxy_server_* with {proxy="...",server="..."}). Each metric family gives the instance's totals (every worker,
/// live and gone, so counters survive reloads), then the same series per live worker with a `worker` label (its slot,
/// 1-based, stable across respawns: a respawned worker's counters restart, which `rate()` takes as a counter reset).
/// Sum the series without a `worker` label, never all of them. Unlike HAProxy 2.6's, every counter ends in `_total`
/// and no gauge does, so `promtool check metrics` has nothing to say.
/// </summary>
public static class PrometheusExporter
{
    /// <summary>The Content-Type of the text format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private enum Value { Plain, Positive, Status, AverageSeconds, AgeSeconds, MillisecondsPlusOne, PlusOne, CheckStatus, Responses }

    private sealed record Metric(string Name, StatField Field, bool Counter, string Kinds, string Help, Value How = Value.Plain);

    // promex_st_metrics[] for the fields the board has, with stat_fields[] (src/stats.c) or promex_st_metric_desc[] help.
    // Kinds: F frontend, B backend, S server, as promex's PROMEX_FL_*_METRIC flags.
    private static readonly Metric[] s_metrics =
    [
        new("current_queue", StatField.Qcur, false, "B", "Current number of connections waiting in the server of backend queue"),
        new("max_queue", StatField.Qmax, false, "B", "Highest value of qcur encountered since process started"),
        new("current_sessions", StatField.Scur, false, "FBS", "Current number of sessions on the frontend, backend or server"),
        new("max_sessions", StatField.Smax, false, "FBS", "Highest value of scur encountered since process started"),
        new("limit_sessions", StatField.Slim, false, "FS", "Frontend/listener/server's maxconn, backend's fullconn", Value.Positive),
        new("sessions_total", StatField.Stot, true, "FBS", "Total number of sessions since process started"),
        new("bytes_in_total", StatField.Bin, true, "FBS", "Total number of request bytes since process started"),
        new("bytes_out_total", StatField.Bout, true, "FBS", "Total number of response bytes since process started"),
        new("requests_denied_total", StatField.Dreq, true, "FB", "Total number of denied requests since process started"),
        new("responses_denied_total", StatField.Dresp, true, "FBS", "Total number of denied responses since process started"),
        new("request_errors_total", StatField.Ereq, true, "F", "Total number of invalid requests since process started"),
        new("connection_errors_total", StatField.Econ, true, "BS", "Total number of failed connections to server since the worker process started"),
        new("response_errors_total", StatField.Eresp, true, "BS", "Total number of invalid responses since the worker process started"),
        new("retry_warnings_total", StatField.Wretr, true, "BS", "Total number of server connection retries since the worker process started"),
        new("redispatch_warnings_total", StatField.Wredis, true, "BS", "Total number of server redispatches due to connection failures since the worker process started"),
        new("status", StatField.Status, false, "FBS", "Current status of the service, per state label value.", Value.Status),
        new("weight", StatField.Weight, false, "BS", "Server's effective weight, or sum of active servers' effective weights for a backend"),
        new("active_servers", StatField.Act, false, "B", "Total number of active UP servers with a non-zero weight"),
        new("backup_servers", StatField.Bck, false, "B", "Total number of backup UP servers with a non-zero weight"),
        new("check_failures_total", StatField.Chkfail, true, "S", "Total number of failed individual health checks per server/backend, since the worker process started"),
        new("check_up_down_total", StatField.Chkdown, true, "BS", "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started"),
        new("check_last_change_seconds", StatField.Lastchg, false, "BS", "How long ago the last server state changed, in seconds", Value.AgeSeconds),
        new("downtime_seconds_total", StatField.Downtime, true, "BS", "Total time spent in DOWN state, for server or backend"),
        new("loadbalanced_total", StatField.Lbtot, true, "BS", "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)"),
        new("max_session_rate", StatField.RateMax, false, "FBS", "Highest value of 'rate' observed since the worker process started"),
        new("check_status", StatField.CheckStatus, false, "S", "Status of last health check, per state label value.", Value.CheckStatus),
        new("check_code", StatField.CheckCode, false, "S", "layer5-7 code, if available of the last health check."),
        new("check_duration_seconds", StatField.CheckDuration, false, "S", "Total duration of the latest server health check, in seconds.", Value.MillisecondsPlusOne),
        new("http_responses_total", StatField.Hrsp1xx, true, "FBS", "Total number of HTTP responses, per status class (code label), since the worker process started", Value.Responses),
        new("http_requests_rate_max", StatField.ReqRateMax, false, "F", "Highest value of 'req_rate' observed since the worker process started"),
        new("http_requests_total", StatField.ReqTot, true, "FB", "Total number of HTTP requests processed by this object since the worker process started"),
        new("client_aborts_total", StatField.CliAbrt, true, "BS", "Total number of requests or connections aborted by the client since the worker process started"),
        new("server_aborts_total", StatField.SrvAbrt, true, "BS", "Total number of requests or connections aborted by the server since the worker process started"),
        new("http_comp_bytes_in_total", StatField.CompIn, true, "FB", "Total number of bytes submitted to the HTTP compressor for this object since the worker process started"),
        new("http_comp_bytes_out_total", StatField.CompOut, true, "FB", "Total number of bytes emitted by the HTTP compressor for this object since the worker process started"),
        new("http_comp_bytes_bypassed_total", StatField.CompByp, true, "FB", "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)"),
        new("http_comp_responses_total", StatField.CompRsp, true, "FB", "Total number of HTTP responses that were compressed for this object since the worker process started"),
        new("queue_time_average_seconds", StatField.QtimeSum, false, "BS", "Avg. queue time for last 1024 successful connections.", Value.AverageSeconds),
        new("connect_time_average_seconds", StatField.CtimeSum, false, "BS", "Avg. connect time for last 1024 successful connections.", Value.AverageSeconds),
        new("response_time_average_seconds", StatField.RtimeSum, false, "BS", "Avg. response time for last 1024 successful connections.", Value.AverageSeconds),
        new("total_time_average_seconds", StatField.TtimeSum, false, "BS", "Avg. total time for last 1024 successful connections.", Value.AverageSeconds),
    ];

    // promex's state labels: frontends and backends DOWN/UP, servers DOWN/UP/MAINT/DRAIN/NOLB.
    private static readonly string[] s_proxyStates = ["DOWN", "UP"];
    private static readonly string[] s_serverStates = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];
    private static readonly string[] s_responseCodes = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
    private static readonly StatField[] s_responseFields =
        [StatField.Hrsp1xx, StatField.Hrsp2xx, StatField.Hrsp3xx, StatField.Hrsp4xx, StatField.Hrsp5xx, StatField.HrspOther];

    /// <summary>Writes every metric of <paramref name="snapshot"/>; <paramref name="version"/> labels haproxy_process_build_info.</summary>
    public static void Write(TextWriter o, StatsSnapshot snapshot, string version)
    {
        var live = snapshot.Workers.Where(w => w.IsLive).ToArray();
        WriteProcess(o, snapshot, live, version);
        var sb = new StringBuilder();
        foreach (var (kind, prefix) in new[] { (StatObjectKind.Frontend, "frontend"), (StatObjectKind.Backend, "backend"), (StatObjectKind.Server, "server") })
        {
            char letter = kind switch { StatObjectKind.Frontend => 'F', StatObjectKind.Backend => 'B', _ => 'S' };
            var totals = snapshot.Totals.Where(r => r.Object.Kind == kind).ToArray();
            if (totals.Length == 0) continue;
            foreach (var m in s_metrics)
            {
                if (!m.Kinds.Contains(letter)) continue;
                sb.Clear();
                foreach (var row in totals) Series(sb, m, row, null, snapshot.TakenAt);
                foreach (var w in live)
                    foreach (var row in snapshot.WorkerRows)
                        if (row.Slot == w.Slot && row.Object.Kind == kind) Series(sb, m, row, w.Slot + 1, snapshot.TakenAt);
                if (sb.Length == 0) continue;
                Header(o, $"haproxy_{prefix}_{m.Name}", m.Help, m.Counter);
                o.Write(sb);
            }
        }
    }

    public static string Render(StatsSnapshot snapshot, string version)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(sw, snapshot, version);
        return sw.ToString();
    }

    private static void WriteProcess(TextWriter o, StatsSnapshot snapshot, StatsWorker[] live, string version)
    {
        void Gauge(string name, string help, long total, Func<StatsWorker, long>? perWorker, bool counter = false)
        {
            Header(o, "haproxy_process_" + name, help, counter);
            o.Write($"haproxy_process_{name} {total}\n");
            if (perWorker is null) return;
            foreach (var w in live) o.Write($"haproxy_process_{name}{{worker=\"{w.Slot + 1}\"}} {perWorker(w)}\n");
        }
        long Uptime(DateTimeOffset since) => Math.Max(0, (long)(snapshot.TakenAt - since).TotalSeconds);
        Gauge("nbproc", "Number of started worker processes", live.Length, null);
        Gauge("relative_process_id", "Relative worker process number (1..nbproc)", 0, w => w.Slot + 1);
        Gauge("uptime_seconds", "How long ago this worker process was started (seconds)", Uptime(snapshot.CreatedAt), w => Uptime(w.StartedAt));
        Gauge("start_time_seconds", "Start time in seconds", snapshot.CreatedAt.ToUnixTimeSeconds(), w => w.StartedAt.ToUnixTimeSeconds());
        Gauge("max_connections", "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)",
            snapshot.Info(InfoField.MaxConn), w => w.Info(InfoField.MaxConn));
        Gauge("current_connections", "Current number of connections on this worker process", snapshot.CurrConns(), w => snapshot.CurrConns(w));
        Gauge("connections_total", "Total number of connections on this worker process since started", snapshot.CumConns(), w => snapshot.CumConns(w), counter: true);
        Gauge("requests_total", "Total number of requests on this worker process since started", snapshot.CumReq(), w => snapshot.CumReq(w), counter: true);
        Gauge("current_connection_rate", "Number of front connections created on this worker process over the last second",
            snapshot.Info(InfoField.ConnRate), w => w.Info(InfoField.ConnRate));
        Gauge("max_connection_rate", "Highest ConnRate reached on this worker process since started (in connections per second)",
            snapshot.Info(InfoField.ConnRateMax), w => w.Info(InfoField.ConnRateMax));
        Gauge("current_session_rate", "Number of sessions created on this worker process over the last second",
            snapshot.Info(InfoField.SessRate), w => w.Info(InfoField.SessRate));
        Gauge("max_session_rate", "Highest SessRate reached on this worker process since started (in sessions per second)",
            snapshot.Info(InfoField.SessRateMax), w => w.Info(InfoField.SessRateMax));
        Gauge("limit_http_comp", "Limit of CompressBpsOut beyond which HTTP compression is automatically disabled",
            snapshot.Info(InfoField.CompressBpsRateLim), w => w.Info(InfoField.CompressBpsRateLim));
        Gauge("stopping", "1 if the worker process is currently stopping, otherwise zero", snapshot.Stopping ? 1 : 0,
            w => w.State == WorkerSlotState.Draining ? 1 : 0);
        Header(o, "haproxy_process_build_info", "Build info", counter: false);
        o.Write($"haproxy_process_build_info{{version=\"{Escape(version)}\"}} 1\n");
    }

    /// <summary>The series of one metric for one row (none when the field does not apply to it, as HAProxy leaves those out).</summary>
    private static void Series(StringBuilder sb, Metric m, StatsRow row, int? worker, DateTimeOffset now)
    {
        var obj = row.Object;
        if (!StatFields.AppliesTo(m.Field, obj.Kind, obj.Mode)) return;
        bool checkedServer = row[StatField.CheckRise] > 0;
        if (obj.Kind == StatObjectKind.Server && !checkedServer && StatSchema.Of(m.Field).ServerCheckOnly) return;
        if ((m.How is Value.CheckStatus or Value.MillisecondsPlusOne || m.Field == StatField.CheckCode) && !checkedServer) return;
        string labels = Labels(obj, worker);
        string name = $"haproxy_{KindName(obj.Kind)}_{m.Name}";
        long v = row[m.Field];
        switch (m.How)
        {
            case Value.Plain:
                Line(sb, name, labels, v.ToString(CultureInfo.InvariantCulture));
                break;
            case Value.Positive:
                if (v > 0) Line(sb, name, labels, v.ToString(CultureInfo.InvariantCulture));
                break;
            case Value.AgeSeconds:
                if (v > 0) Line(sb, name, labels, Math.Max(0, now.ToUnixTimeSeconds() - v).ToString(CultureInfo.InvariantCulture));
                break;
            case Value.MillisecondsPlusOne:
                if (v > 0) Line(sb, name, labels, ((v - 1) / 1000.0).ToString("0.###", CultureInfo.InvariantCulture));
                break;
            case Value.AverageSeconds:
            {
                long n = row[StatField.Timed];
                Line(sb, name, labels, (n > 0 ? v / (double)n / 1000.0 : 0).ToString("0.######", CultureInfo.InvariantCulture));
                break;
            }
            case Value.Status:
            {
                var states = obj.Kind == StatObjectKind.Server ? s_serverStates : s_proxyStates;
                string current = StateLabel(row);
                foreach (var s in states) Line(sb, name, labels + $",state=\"{s}\"", s == current ? "1" : "0");
                break;
            }
            case Value.CheckStatus:
            {
                var code = (CheckStatusCode)v;
                for (var c = CheckStatusCode.Unknown; c <= CheckStatusCode.L6Rsp; c++)
                    Line(sb, name, labels + $",state=\"{CheckStatusCodes.Word(c)}\"", c == code ? "1" : "0");
                break;
            }
            case Value.Responses:
                for (int i = 0; i < s_responseFields.Length; i++)
                    Line(sb, name, labels + $",code=\"{s_responseCodes[i]}\"", row[s_responseFields[i]].ToString(CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>The state label a row's status counts in (promex_front_st, promex_back_st, promex_srv_st).</summary>
    private static string StateLabel(StatsRow row)
    {
        var status = (StatStatus)row[StatField.Status];
        if (row.Object.Kind != StatObjectKind.Server)
            return status is StatStatus.Down or StatStatus.Stop ? "DOWN" : "UP";
        return status switch
        {
            StatStatus.Down => "DOWN",
            StatStatus.Maint => "MAINT",
            StatStatus.Drain => "DRAIN",
            StatStatus.Nolb => "NOLB",
            _ => "UP",
        };
    }

    private static string KindName(StatObjectKind kind) => kind switch
    {
        StatObjectKind.Frontend => "frontend",
        StatObjectKind.Backend => "backend",
        _ => "server",
    };

    private static string Labels(StatObjectDescriptor obj, int? worker)
    {
        string labels = obj.Kind == StatObjectKind.Server
            ? $"proxy=\"{Escape(obj.ProxyName)}\",server=\"{Escape(obj.ServiceName)}\""
            : $"proxy=\"{Escape(obj.ProxyName)}\"";
        return worker is { } w ? labels + $",worker=\"{w}\"" : labels;
    }

    private static void Line(StringBuilder sb, string name, string labels, string value) =>
        sb.Append(name).Append('{').Append(labels).Append("} ").Append(value).Append('\n');

    private static void Header(TextWriter o, string name, string help, bool counter)
    {
        o.Write($"# HELP {name} {help.Replace("\\", "\\\\").Replace("\n", "\\n")}\n");
        o.Write($"# TYPE {name} {(counter ? "counter" : "gauge")}\n");
    }

    // Label values escape backslash, double quote and line feed (the text format's rules).
    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
