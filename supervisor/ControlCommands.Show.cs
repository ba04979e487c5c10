using System.Collections;
using System.Globalization;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Shared.Stats;
using Proxy.Supervisor.RuntimeApi;

namespace Proxy.Supervisor;

// The `show` commands: each reads the stats board (one source of truth, as `proxyctl stats` does) or the model.
public sealed partial class ControlCommands
{
    /// <summary>`show info [json|typed]`: the instance's totals (Pid is the supervisor's).</summary>
    private Task<string> ShowInfo(string[] words, CliSession session)
    {
        var snapshot = supervisor.Board.Snapshot();
        var values = StatsInfo.Values(snapshot);
        bool json = Array.IndexOf(words, "json", 2) >= 0, typed = Array.IndexOf(words, "typed", 2) >= 0;
        return Task.FromResult(json ? StatsQuery.InfoJson(values) : typed ? StatsQuery.InfoTyped(values) : StatsInfo.Render(snapshot));
    }

    /// <summary>
    /// `show stat [{IID|PROXY} TYPE SID] [json|typed] [up|no-maint] [all]`: the three numbers filter by proxy, object
    /// type bitmask and server id, each -1 for all (as HAProxy, fewer than three leaves them out); `all` (this proxy's)
    /// adds one block per worker.
    /// </summary>
    private Task<string> ShowStat(string[] words, CliSession session)
    {
        var filter = new StatsFilter();
        int i = 2;
        if (words.Length >= 5 && !IsFlag(words[2]))
        {
            if (!int.TryParse(words[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int types)
                || !int.TryParse(words[4], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int sid))
                return Task.FromResult("Require a valid type and server id ('-1' for all).\n");
            string proxy = words[2];
            if (!int.TryParse(proxy, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                && supervisor.Config.FindBackend(proxy) is null && !supervisor.Config.Frontends.Any(f => f.Name == proxy))
                return Task.FromResult("No such proxy.\n");
            filter = filter with { Proxy = proxy, Types = types, ServerId = sid };
            i = 5;
        }
        bool json = false, typed = false;
        for (; i < words.Length; i++)
        {
            switch (words[i])
            {
                case "json": json = true; break;
                case "typed": typed = true; break;
                case "up": filter = filter with { UpOnly = true }; break;
                case "no-maint": filter = filter with { NoMaint = true }; break;
                case "all": filter = filter with { PerProcess = true }; break;
                case "desc": return Task.FromResult("'show stat desc' (field descriptions) is not supported by this proxy yet.\n");
            }
        }
        var snapshot = supervisor.Board.Snapshot();
        return Task.FromResult(json ? StatsQuery.Json(snapshot, filter) : typed ? StatsQuery.Typed(snapshot, filter) : StatsQuery.Csv(snapshot, filter));
    }

    private static bool IsFlag(string word) => word is "json" or "typed" or "up" or "no-maint" or "desc" or "all";

    private Task<string> ShowBackend(string[] words, CliSession session)
    {
        var sb = new StringBuilder("# name\n");
        foreach (var be in supervisor.Config.Backends) sb.Append(be.Name).Append('\n');
        return Task.FromResult(sb.ToString());
    }

    /// <summary>`show env [NAME]`: the supervisor's environment, which its workers inherit.</summary>
    private static Task<string> ShowEnv(string[] words, CliSession session)
    {
        if (words.Length > 2)
            return Task.FromResult(Environment.GetEnvironmentVariable(words[2]) is { } value ? $"{words[2]}={value}\n" : "Variable not found\n");
        var all = new List<string>();
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables()) all.Add($"{e.Key}={e.Value}");
        all.Sort(StringComparer.Ordinal);
        return Task.FromResult(string.Concat(all.Select(l => l + "\n")));
    }

    /// <summary>
    /// `show errors [&lt;iid&gt;|&lt;proxy&gt;] [request|response]`: the workers keep the last invalid request head of each
    /// frontend and response head of each backend (ErrorSnapshot); ErrorsReport prints the newest of each as HAProxy does.
    /// As HAProxy's cli_parse_show_errors: a proxy that is neither a name nor a non-zero number is "No such proxy.",
    /// -1 means all.
    /// </summary>
    private async Task<string> ShowErrors(string[] words, CliSession session)
    {
        var ids = StatsQuery.Ids(supervisor.Board.Snapshot());
        int iid = -1;
        if (words.Length > 2)
        {
            if (ids.TryGetValue(words[2] + "/FRONTEND", out var fe)) iid = fe.Iid;
            else if (ids.TryGetValue(words[2] + "/BACKEND", out var be)) iid = be.Iid;
            else if (!int.TryParse(words[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out iid) || iid == 0)
                return "No such proxy.\n";
        }
        string? only = words.Length > 3 && words[3] is "request" or "response" ? words[3] : null;
        var lines = await supervisor.ShowErrorsAsync();
        return ErrorsReport.Format(lines, ids, iid, only, supervisor.Config.Global.BufSize, DateTime.Now);
    }

    /// <summary>
    /// `show sess [ID|all]`: every worker's live sessions, one HAProxy line each (ProxySession.Show.cs in the worker);
    /// with an ID, that session's line only.
    /// </summary>
    private async Task<string> ShowSess(string[] words, CliSession session)
    {
        var lines = await supervisor.ShowSessionsAsync();
        string? id = words.Length > 2 && words[2] != "all" ? words[2] : null;
        var sb = new StringBuilder();
        foreach (var line in lines)
            if (id is null || line.StartsWith(id + ":", StringComparison.Ordinal)) sb.Append(line).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// `show activity`: HAProxy prints per-thread figures as `name: total [ thread1 thread2 ... ]`; here the columns
    /// are the live workers (what the board knows of each), in slot order.
    /// </summary>
    private Task<string> ShowActivity(string[] words, CliSession session)
    {
        var snapshot = supervisor.Board.Snapshot();
        var live = snapshot.Workers.Where(w => w.IsLive).ToList();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"thread_id: 0 (1..{live.Count})\n");
        sb.Append(CultureInfo.InvariantCulture, $"date_now: {snapshot.TakenAt.ToUnixTimeMilliseconds() / 1000.0:0.000000}\n");
        void Line(string name, Func<StatsWorker, long> value)
        {
            long total = 0;
            var each = new StringBuilder();
            foreach (var w in live)
            {
                long v = value(w);
                total += v;
                each.Append(' ').Append(v.ToString(CultureInfo.InvariantCulture));
            }
            sb.Append(CultureInfo.InvariantCulture, $"{name}: {total} [{each} ]\n");
        }
        Line("pid", w => w.Pid);
        Line("accepted", w => snapshot.CumConns(w));
        Line("curr_conn", w => snapshot.CurrConns(w));
        Line("cum_req", w => snapshot.CumReq(w));
        Line("conn_rate", w => w.Info(InfoField.ConnRate));
        Line("heartbeat_age_ms", w => Math.Max(0, (long)(snapshot.TakenAt - w.LastHeartbeat).TotalMilliseconds));
        return Task.FromResult(sb.ToString());
    }

    private Task<string> GetWeight(string[] words, CliSession session)
    {
        if (words.Length < 3) return Task.FromResult("Require 'backend/server'.\n");
        string target = words[2];
        if (ServerSettings.Configured(supervisor.Config, target) is not { } server) return Task.FromResult("No such server.\n");
        int current = supervisor.Servers.Get(target)?.Weight ?? server.Weight;
        return Task.FromResult($"{current} (initial {server.Weight})\n");
    }

    /// <summary>`show servers state|conn [BACKEND]`: the servers listed, in configuration order; null when BACKEND does not exist.</summary>
    private List<(string Backend, ServerConfig Server)>? ServersOf(string[] words)
    {
        string? backend = words.Length > 3 ? words[3] : null;
        var config = supervisor.Config;
        if (backend is not null && config.FindBackend(backend) is null) return null;
        var servers = new List<(string, ServerConfig)>();
        foreach (var be in config.Backends)
        {
            if (backend is not null && be.Name != backend) continue;
            foreach (var s in be.Servers) servers.Add((be.Name, s));
        }
        return servers;
    }

    /// <summary>
    /// `show servers state [BACKEND]`: HAProxy 2.6's version-1 dump (the format `server-state-file` reads), every column.
    /// srv_op_state 2 running / 0 stopped (the board's status); srv_admin_state 0x01 forced maint, 0x04 `disabled` in
    /// the config, 0x08 forced drain; check columns from the checking worker's fields; no agent, SSL, FQDN or SRV record.
    /// </summary>
    private Task<string> ShowServersState(string[] words, CliSession session)
    {
        if (ServersOf(words) is not { } servers) return Task.FromResult("Can't find backend.\n");
        var snapshot = supervisor.Board.Snapshot();
        var ids = StatsQuery.Ids(snapshot);
        var sb = new StringBuilder("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight " +
            "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state " +
            "bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n");
        long now = snapshot.TakenAt.ToUnixTimeSeconds();
        foreach (var (backendName, s) in servers)
        {
            string key = $"{backendName}/{s.Name}";
            var setting = supervisor.Servers.Get(key);
            var row = snapshot.Totals.FirstOrDefault(r => r.Object.Key == key);
            // srv_admin_state: 0x01 forced maint, 0x04 `disabled` in the config (HAProxy shows it with 0x01: 5), 0x08 forced drain.
            int admin = setting?.State switch
            {
                "maint" => 0x01,
                "drain" => 0x08,
                "ready" => 0,
                _ => s.Disabled ? 0x05 : 0,
            };
            long status = row?[StatField.Status] ?? 0;
            // srv_op_state: 0 stopped (down, or in maintenance as HAProxy counts it), 2 running.
            int op = status == (long)StatStatus.Down || (admin & 0x01) != 0 ? 0 : 2;
            long lastchg = row?[StatField.Lastchg] ?? 0;
            long since = lastchg > 0 ? Math.Max(0, now - lastchg) : Math.Max(0, (long)(snapshot.TakenAt - snapshot.CreatedAt).TotalSeconds);
            bool checkedServer = s.Check;
            // HAProxy's check.status (HCHK_STATUS_*), check.result (CHK_RES_*: 2 failed, 3 passed), check.health
            // (0 when stopped), check.state (CHK_ST_CONFIGURED 0x2 | CHK_ST_ENABLED 0x4, CHK_ST_PAUSED 0x8 when disabled).
            var code = (CheckStatusCode)(row?[StatField.CheckStatus] ?? 0);
            int checkStatus = checkedServer ? HaproxyCheckStatus(code) : 1;
            int checkResult = !checkedServer || code == CheckStatusCode.None ? 0 : op == 2 ? 3 : 2;
            long health = op == 0 ? 0 : checkedServer && row is not null && row[StatField.CheckHealth] > 0 ? row[StatField.CheckHealth] - 1 : s.Rise;
            int checkState = (checkedServer ? 0x6 : 0) | (s.Disabled && setting?.State is null ? 0x8 : 0);
            var ep = setting?.Address ?? s.EndPoint;
            // No address from DNS (or `init-addr none`): HAProxy's SRV_ADMF_RMAINT (0x20), resolution maintenance, stopped.
            if (ep.Address.Equals(System.Net.IPAddress.Any)) (admin, op) = (admin | 0x20, 0);
            string fqdn = s.Resolution is { IsSrv: false } r ? r.Fqdn : "-", srvRecord = s.Resolution is { IsSrv: true } q ? q.Fqdn : "-";
            int checkPort = setting?.CheckPort ?? s.CheckSettings.Port ?? 0;
            string checkAddr = s.CheckSettings.Address?.ToString() ?? "-";
            var (iid, sid) = ids.TryGetValue(key, out var id) ? id : (0, 0);
            sb.Append(CultureInfo.InvariantCulture,
                $"{iid} {backendName} {sid} {s.Name} {ep.Address} {op} {admin} {setting?.Weight ?? s.Weight} {s.Weight} {since} {checkStatus} {checkResult} {health} {checkState} 0 0 0 {fqdn} {ep.Port} {srvRecord} 0 {checkPort} {checkAddr} - 0\n");
        }
        return Task.FromResult(sb.ToString());
    }

    /// <summary>HAProxy's HCHK_STATUS_* number of a check result (include/haproxy/check-t.h), 1 (INI) before the first check.</summary>
    private static int HaproxyCheckStatus(CheckStatusCode code) => code switch
    {
        CheckStatusCode.Unknown => 0,
        CheckStatusCode.Hana => 4,
        CheckStatusCode.SockErr => 5,
        CheckStatusCode.L4Ok => 6,
        CheckStatusCode.L4Tout => 7,
        CheckStatusCode.L4Con => 8,
        CheckStatusCode.L6Ok => 9,
        CheckStatusCode.L6Tout => 10,
        CheckStatusCode.L6Rsp => 11,
        CheckStatusCode.L7Tout => 12,
        CheckStatusCode.L7Rsp => 13,
        CheckStatusCode.L7Ok => 14,
        CheckStatusCode.L7Okc => 15,
        CheckStatusCode.L7Sts => 16,
        _ => 1,
    };

    /// <summary>
    /// `show servers conn [BACKEND]`: HAProxy's header and columns. used_cur/used_max are the server's scur/smax over
    /// the workers; the idle pools live inside each worker and are not on the board, so their columns read 0, and
    /// idle_per_thr has one column per worker (HAProxy: per thread).
    /// </summary>
    private Task<string> ShowServersConn(string[] words, CliSession session)
    {
        if (ServersOf(words) is not { } servers) return Task.FromResult("Can't find backend.\n");
        var snapshot = supervisor.Board.Snapshot();
        var ids = StatsQuery.Ids(snapshot);
        int workers = snapshot.Workers.Count(w => w.IsLive);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[{workers}]\n");
        foreach (var (backendName, s) in servers)
        {
            string key = $"{backendName}/{s.Name}";
            var row = snapshot.Totals.FirstOrDefault(r => r.Object.Key == key);
            var ep = supervisor.Servers.Get(key)?.Address ?? s.EndPoint;
            var (iid, sid) = ids.TryGetValue(key, out var id) ? id : (0, 0);
            sb.Append(CultureInfo.InvariantCulture,
                $"{key} {iid}/{sid} {ep.Address} {ep.Port} - 5000 {row?[StatField.Scur] ?? 0} {row?[StatField.Smax] ?? 0} 0 0 0 -1 0");
            for (int i = 0; i < workers; i++) sb.Append(" 0");
            sb.Append('\n');
        }
        return Task.FromResult(sb.ToString());
    }
}
