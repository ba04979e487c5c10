using System.Globalization;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Shared.Stats;

namespace Proxy.Supervisor;

/// <summary>
/// What the control socket understands: HAProxy runtime API commands where supported (`show info`,
/// `show proc`), plus the supervisor's own (`status`, `stop [SECONDS]`).
/// </summary>
public sealed class ControlCommands(Supervisor supervisor, Func<TimeSpan, Task> requestStop)
{
    private const string Help =
        "The following commands are valid at this level:\n" +
        "  help                : this message\n" +
        "  show info           : report information about the running process\n" +
        "  show stat [all]     : report counters in CSV (all: also one row per worker)\n" +
        "  show proc           : list the workers (alias: show workers)\n" +
        "  status              : supervisor and workers, as `proxyctl status` prints them\n" +
        "  reload              : re-read the config file; new workers, old ones drained\n" +
        "  disable server B/S  : put a server in maintenance (no new traffic)\n" +
        "  enable server B/S   : put a server back in service\n" +
        "  set server B/S state ready|drain|maint\n" +
        "  set server B/S weight N | set weight B/S N[%]\n" +
        "  get weight B/S      : current and initial weight\n" +
        "  show servers state [B] : admin and operational state of every server\n" +
        "  set rate-limit http-compression global KB : compression input limit (kB/s, 0: none)\n" +
        "  stop [SECONDS]      : stop gracefully, killing what is left after SECONDS\n";

    public async Task<string> ExecuteAsync(string command)
    {
        string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (words)
        {
            case ["help"]:
                return Help;
            case ["show", "info"]:
                return ShowInfo();
            case ["show", "stat"]:
                return ShowStat(perProcess: false);
            case ["show", "stat", "all"]:
                return ShowStat(perProcess: true);
            case ["show", "proc"] or ["show", "workers"] or ["status"]:
                return Status();
            // HAProxy's runtime API for servers; success answers an empty line, as HAProxy does. Changing a
            // server needs `level admin` on the stats socket, as in HAProxy; `show` commands need none.
            case ["disable" or "enable", "server", _] or ["set", "server" or "weight", ..] when !IsAdmin:
                return "Permission denied\n";
            case ["disable", "server", var target]:
                return Reply(await supervisor.SetServerAsync(target, "maint", null));
            case ["enable", "server", var target]:
                return Reply(await supervisor.SetServerAsync(target, "ready", null));
            case ["set", "server", var target, "state", var state]:
                return Reply(await supervisor.SetServerAsync(target, state, null));
            case ["set", "server", var target, "weight", var weight]:
                return await SetWeightAsync(target, weight);
            case ["set", "weight", var target, var weight]:
                return await SetWeightAsync(target, weight);
            // HAProxy's `set rate-limit http-compression global N` (N in kB/s; admin level as in HAProxy).
            case ["set", "rate-limit", ..] when !IsAdmin:
                return "Permission denied\n";
            case ["set", "rate-limit", "http-compression", "global", var kb]:
                if (!long.TryParse(kb, NumberStyles.None, CultureInfo.InvariantCulture, out long kbps) || kbps > int.MaxValue / 1024)
                    return "Value out of range.\n";
                await supervisor.SetCompressionRateAsync(kbps * 1024);
                return "\n";
            case ["set", "rate-limit", "connections" or "sessions" or "ssl-sessions", "global", _]:
                return $"'set rate-limit {words[2]}' is not supported yet.\n";
            case ["get", "weight", var target]:
                return GetWeight(target);
            case ["show", "servers", "state", ..]:
                return ShowServersState(words.Length > 3 ? words[3] : null);
            case ["reload"]:
                // HAProxy's master CLI answers `reload` with Success=1|0, then `--`, then what happened.
                var r = await supervisor.ReloadFromFileAsync();
                return $"Success={(r.Ok ? 1 : 0)}\n--\n{r.Message.TrimEnd()}\n";
            case ["stop", ..]:
                TimeSpan timeout = supervisor.Config.Global.HardStopAfter ?? TimeSpan.FromSeconds(30);
                if (words.Length > 1)
                {
                    if (!double.TryParse(words[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || s < 0)
                        return "stop: expected a number of seconds\n";
                    timeout = TimeSpan.FromSeconds(s);
                }
                _ = requestStop(timeout);
                await Task.Yield();
                return $"Stopping supervisor {Environment.ProcessId} (timeout {timeout.TotalSeconds:0.#}s)\n";
            default:
                return "Unknown command. Please enter one of the following commands only :\n" + Help;
        }
    }

    // `show info` and `show stat` read the stats board, like `proxyctl stats` does: one source of truth.
    private string ShowInfo() => StatsInfo.Render(supervisor.Board.Snapshot());

    private string ShowStat(bool perProcess) => StatsCsv.Render(supervisor.Board.Snapshot(), perProcess);

    private async Task<string> SetWeightAsync(string target, string weight) =>
        ServerSettings.ParseWeight(weight, supervisor.Config, target) is { } w
            ? Reply(await supervisor.SetServerAsync(target, null, w))
            : "Invalid weight: it must be a number between 0 and 256, or a percentage.\n";

    /// <summary>`stats socket ... level admin`; stop and reload are the supervisor's own and need no level (owner-only socket).</summary>
    private bool IsAdmin => supervisor.Config.Global.StatsSocket is not { } socket || socket.Level == "admin";

    private static string Reply(string? error) => error is null ? "\n" : error + "\n";

    private string GetWeight(string target)
    {
        if (ServerSettings.Configured(supervisor.Config, target) is not { } server) return "No such server.\n";
        int current = supervisor.Servers.Get(target)?.Weight ?? server.Weight;
        return $"{current} (initial {server.Weight})\n";
    }

    /// <summary>
    /// `show servers state [BACKEND]`: HAProxy's version-1 layout, first columns. srv_op_state: 2 running, 0 stopped
    /// (from the stats board); srv_admin_state: 0x01 forced maintenance, 0x08 forced drain.
    /// </summary>
    private string ShowServersState(string? backend)
    {
        var config = supervisor.Config;
        var snapshot = supervisor.Board.Snapshot();
        var sb = new StringBuilder("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight\n");
        for (int b = 0; b < config.Backends.Count; b++)
        {
            var be = config.Backends[b];
            if (backend is not null && be.Name != backend) continue;
            for (int i = 0; i < be.Servers.Count; i++)
            {
                var s = be.Servers[i];
                var setting = supervisor.Servers.Get($"{be.Name}/{s.Name}");
                string state = setting?.State ?? (s.Disabled ? "maint" : "ready");
                int admin = state switch { "maint" => 0x01, "drain" => 0x08, _ => 0 };
                long status = snapshot.Total($"{be.Name}/{s.Name}", StatField.Status);
                int op = status == (long)StatStatus.Down ? 0 : 2;
                sb.Append($"{b + 1} {be.Name} {i + 1} {s.Name} {s.EndPoint.Address} {op} {admin} {setting?.Weight ?? s.Weight} {s.Weight}\n");
            }
        }
        return sb.ToString();
    }

    private string Status()
    {
        var sb = new StringBuilder();
        var uptime = DateTimeOffset.UtcNow - supervisor.StartedAt;
        sb.Append($"supervisor pid {Environment.ProcessId}, uptime {FormatUptime(uptime)}, config {supervisor.Config.SourcePath}, generation {supervisor.Generation}{(supervisor.Stopping ? ", stopping" : "")}\n");
        sb.Append($"{"slot",-5} {"pid",-8} {"cpu",-8} {"gen",-4} {"state",-9} {"started (UTC)",-20} {"conns",6} {"total",10}\n");
        var workers = supervisor.Workers();
        workers.Sort((a, b) => a.Slot != b.Slot ? a.Slot.CompareTo(b.Slot) : a.Generation.CompareTo(b.Generation));
        foreach (var w in workers)
        {
            sb.Append($"{w.Slot + 1,-5} {w.Pid,-8} {string.Join(",", w.Cpus),-8} {w.Generation,-4} {w.StateName,-9} {w.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} {w.CurrentConnections,6} {w.TotalConnections,10}\n");
        }
        return sb.ToString();
    }

    private static string FormatUptime(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{(int)t.TotalDays}d{t.Hours}h{t.Minutes}m" :
        t.TotalHours >= 1 ? $"{t.Hours}h{t.Minutes}m{t.Seconds}s" :
        t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds}s" : $"{t.Seconds}s";
}
