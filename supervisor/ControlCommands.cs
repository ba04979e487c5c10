using System.Globalization;
using System.Text;
using Proxy.Supervisor.RuntimeApi;

namespace Proxy.Supervisor;

/// <summary>
/// The runtime API on the stats sockets: HAProxy 2.6's commands (doc/management.txt 9.3) with its syntax, answers and
/// levels, plus the supervisor's own (`status`, `reload`, `stop`, `show proc`). A line holds commands separated by `;`;
/// each answer ends with an empty line, as HAProxy ends every command's output. The `show` commands read the stats
/// board; the `set` family goes to every worker through the server settings the supervisor keeps (ServerSettings).
/// </summary>
public sealed partial class ControlCommands
{
    private readonly Supervisor supervisor;
    private readonly Func<TimeSpan, Task> requestStop;
    private readonly CliKeyword[] _keywords;

    public ControlCommands(Supervisor supervisor, Func<TimeSpan, Task> requestStop)
    {
        this.supervisor = supervisor;
        this.requestStop = requestStop;
        _keywords = Keywords();
    }

    private CliKeyword[] Keywords() =>
    [
        // Changing the running proxy needs `level admin`; clear counters (maxima) and the show commands that reveal
        // traffic or the environment need `operator`, as in HAProxy 2.6 (checked against Debian's 2.6.12).
        new(["add", "server"], "add server <bk>/<srv>", "create a new server", CliLevel.Admin, AddServerAsync),
        new(["clear", "counters"], "clear counters [all]", "clear max statistics counters (or all counters)", CliLevel.Operator, ClearCounters),
        new(["del", "server"], "del server <bk>/<srv>", "remove a server", CliLevel.Admin, DelServerAsync),
        new(["disable", "agent"], "disable agent", "disable agent checks", CliLevel.Admin, (w, _) => CheckControlAsync(w, "disable-agent")),
        new(["disable", "frontend"], "disable frontend <frontend>", "temporarily disable specific frontend", CliLevel.Admin, (w, _) => FrontendAsync(w, pause: true)),
        new(["disable", "health"], "disable health", "disable health checks", CliLevel.Admin, (w, _) => CheckControlAsync(w, "disable-health")),
        new(["disable", "server"], "disable server (DEPRECATED)", "disable a server for maintenance (use 'set server' instead)", CliLevel.Admin,
            (w, _) => ServerStateAsync(w, 2, "maint")),
        new(["enable", "agent"], "enable agent", "enable agent checks", CliLevel.Admin, (w, _) => CheckControlAsync(w, "enable-agent")),
        new(["enable", "frontend"], "enable frontend <frontend>", "re-enable specific frontend", CliLevel.Admin, (w, _) => FrontendAsync(w, pause: false)),
        new(["enable", "health"], "enable health", "enable health checks", CliLevel.Admin, (w, _) => CheckControlAsync(w, "enable-health")),
        new(["enable", "server"], "enable server  (DEPRECATED)", "enable a disabled server (use 'set server' instead)", CliLevel.Admin,
            (w, _) => ServerStateAsync(w, 2, "ready")),
        new(["get", "weight"], "get weight <bk>/<srv>", "report a server's current weight", CliLevel.User, GetWeight),
        new(["operator"], "operator", "lower the level of the current CLI session to operator", CliLevel.Operator, Lower(CliLevel.Operator)),
        new(["set", "maxconn", "frontend"], "set maxconn frontend <frontend> <value>", "change a frontend's maxconn setting", CliLevel.Admin, SetMaxConnAsync),
        new(["set", "maxconn", "global"], "set maxconn global <value>", "change the instance's maxconn setting (at most the configured one)", CliLevel.Admin, SetMaxConnAsync),
        new(["set", "maxconn", "server"], "set maxconn server <bk>/<srv>", "change a server's maxconn setting", CliLevel.Admin, SetServerMaxConnAsync),
        new(["set", "rate-limit"], "set rate-limit <setting> <value>", "change a rate limiting value", CliLevel.Admin, SetRateLimitAsync),
        new(["set", "server"], "set server <bk>/<srv> [opts]", "change a server's state, weight, address or check port", CliLevel.Admin, SetServerAsync),
        new(["set", "timeout"], "set timeout [cli] <delay>", "change a timeout setting", CliLevel.User, SetTimeout),
        new(["set", "weight"], "set weight <bk>/<srv>  (DEPRECATED)", "change a server's weight (use 'set server' instead)", CliLevel.Admin,
            (w, _) => w.Length == 4 ? SetWeightAsync(w[2], w[3]) : Task.FromResult("Require 'backend/server' and 'weight' or 'weight%'.\n")),
        new(["show", "activity"], "show activity", "show per-worker activity figures from the stats board", CliLevel.User, ShowActivity),
        new(["show", "backend"], "show backend", "list backends in the current running config", CliLevel.User, ShowBackend),
        new(["show", "cli", "level"], "show cli level", "display the level of the current CLI session", CliLevel.User,
            (_, s) => Task.FromResult(s.Level.ToString().ToLowerInvariant() + "\n")),
        new(["show", "env"], "show env [var]", "dump environment variables known to the process", CliLevel.Operator, ShowEnv),
        new(["show", "errors"], "show errors [<px>] [request|response]", "report last request and/or response errors for each proxy", CliLevel.Operator, ShowErrors),
        new(["show", "info"], "show info [json|typed]*", "report information about the running process", CliLevel.User, ShowInfo),
        new(["show", "resolvers"], "show resolvers [id]", "dumps counters from all resolvers section and associated name servers", CliLevel.User, ShowResolvers),
        new(["show", "proc"], "show proc", "list the workers (alias: show workers, status)", CliLevel.User, Status),
        new(["show", "servers", "conn"], "show servers conn [<backend>]", "dump server connections status (all or for a single backend)", CliLevel.User, ShowServersConn),
        new(["show", "servers", "state"], "show servers state [<backend>]", "dump volatile server information (all or for a single backend)", CliLevel.User, ShowServersState),
        new(["show", "sess"], "show sess [id]", "report the list of current sessions (every worker's)", CliLevel.Operator, ShowSess),
        new(["show", "ssl", "cert"], "show ssl cert [<certfile>]", "display the SSL certificates used in memory, or the details of a file", CliLevel.Operator,
            (w, _) => Task.FromResult(w.Length > 4 ? "'show ssl cert' expects at most one file name.\n"
                : SslCertReport.Render(supervisor.Config, w.Length == 4 ? w[3] : null))),
        new(["show", "stat"], "show stat [json|typed|up|no-maint|all]*", "report counters for each proxy and server ([iid type sid] filters)", CliLevel.User, ShowStat),
        new(["show", "version"], "show version", "show version of the current process", CliLevel.User,
            (_, _) => Task.FromResult(Version + "\n")),
        new(["show", "workers"], "show workers", "list the workers", CliLevel.User, Status),
        new(["shutdown", "sessions", "server"], "shutdown sessions server <bk>/<srv>", "kill sessions on a server", CliLevel.Admin, ShutdownServerSessionsAsync),
        new(["show", "table"], "show table [<table>] [data.<type> <op> <v>] [key <k>]", "report table usage stats or dump this table's contents", CliLevel.Operator, ShowTable),
        new(["clear", "table"], "clear table <table> [data.<type> <op> <v>] [key <k>]", "remove an entry from a table", CliLevel.Operator, ClearTable),
        new(["set", "table"], "set table <table> key <k> [data.<type> <v>]*", "update or create a table entry's data", CliLevel.Admin, SetTable),
        new(["user"], "user", "lower the level of the current CLI session to user", CliLevel.User, Lower(CliLevel.User)),
        // The supervisor's own (HAProxy's master CLI has `reload`; `status` and `stop` are proxyctl's).
        new(["status"], "status", "supervisor and workers, as `proxyctl status` prints them", CliLevel.User, Status),
        new(["reload"], "reload", "re-read the config file; new workers, old ones drained", CliLevel.Admin, ReloadAsync),
        new(["stop"], "stop [SECONDS]", "stop gracefully, killing what is left after SECONDS", CliLevel.Admin, StopAsync),
        new(["help"], "help [<command>]", "list matching or all commands", CliLevel.User, (w, s) => Task.FromResult(Help(w, s, matched: true))),
        new(["prompt"], "prompt", "toggle interactive mode with prompt", CliLevel.User, Prompt),
        new(["quit"], "quit", "disconnect", CliLevel.User, Quit),
    ];

    private static string Version => typeof(ControlCommands).Assembly.GetName().Version?.ToString(3) ?? "0";

    /// <summary>Runs every command of <paramref name="line"/> (`;`-separated); each answer is followed by an empty line.</summary>
    public async Task<string> ExecuteLineAsync(string line, CliSession session)
    {
        var sb = new StringBuilder();
        var commands = CliLine.Split(line);
        if (commands.Count == 0 && session.Interactive) return "\n";
        foreach (var words in commands)
        {
            string answer = await ExecuteAsync(words, session);
            if (session.Quit) break; // `quit` answers nothing, and what follows it on the line is not run (HAProxy)
            sb.Append(answer).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>One command: the longest keyword that matches, if the session's level allows it.</summary>
    public async Task<string> ExecuteAsync(string[] words, CliSession session)
    {
        CliKeyword? best = null;
        foreach (var k in _keywords)
            if (k.Matches(words) && (best is null || k.Words.Length > best.Words.Length)) best = k;
        if (best is null) return Help(words, session, matched: false);
        // `stop` and `reload` are also the owner's, whatever the socket's level (it could signal the supervisor).
        bool ownersOwn = session.Owner && best.Words[0] is "stop" or "reload";
        if (session.Level < best.Level && !ownersOwn) return "Permission denied\n";
        return await best.Run(words, session);
    }

    /// <summary>
    /// `help [WORDS]`, and the answer to an unknown command: HAProxy's header, then the commands of this level whose
    /// words start like <paramref name="words"/> (all of them when none does), then help, prompt and quit.
    /// </summary>
    private string Help(string[] words, CliSession session, bool matched)
    {
        string[] asked = matched ? words[1..] : words;
        var lines = new StringBuilder();
        var tail = new StringBuilder();
        foreach (var k in _keywords)
        {
            if (session.Level < k.Level) continue;
            if (k.Words[0] is "help" or "prompt" or "quit")
            {
                tail.Append(k.HelpLine);
                continue;
            }
            if (asked.Length == 0 || Like(k, asked)) lines.Append(k.HelpLine);
        }
        if (lines.Length == 0)
            foreach (var k in _keywords)
                if (session.Level >= k.Level && k.Words[0] is not ("help" or "prompt" or "quit")) lines.Append(k.HelpLine);
        string header = matched ? "The following commands are valid at this level:\n"
            : "Unknown command, but maybe one of the following ones is a better match:\n";
        return header + lines + tail;
    }

    // The first word equal, the next ones (as many as given and as the keyword has) prefixes of the keyword's.
    private static bool Like(CliKeyword k, string[] asked)
    {
        if (k.Words[0] != asked[0]) return false;
        for (int i = 1; i < Math.Min(asked.Length, k.Words.Length); i++)
            if (!k.Words[i].StartsWith(asked[i], StringComparison.Ordinal)) return false;
        return true;
    }

    private static Task<string> Prompt(string[] words, CliSession session)
    {
        session.Interactive = !session.Interactive;
        return Task.FromResult("");
    }

    private static Task<string> Quit(string[] words, CliSession session)
    {
        session.Quit = true;
        return Task.FromResult("");
    }

    private static Func<string[], CliSession, Task<string>> Lower(CliLevel level) => (_, session) =>
    {
        if (session.Level > level) session.Level = level;
        return Task.FromResult("");
    };

    /// <summary>HAProxy 2.6 has these commands; this proxy does not do what they do yet, and says so rather than pretend.</summary>
    private static Func<string[], CliSession, Task<string>> NotSupported(string command) =>
        (_, _) => Task.FromResult($"'{command}' is not supported by this proxy yet (see README, runtime API).\n");

    /// <summary>`set timeout cli DELAY`: this session's idle timeout (seconds, or with a unit), as HAProxy.</summary>
    private static Task<string> SetTimeout(string[] words, CliSession session)
    {
        if (words.Length < 3 || words[2] != "cli") return Task.FromResult("'set timeout' only supports 'cli'.\n");
        if (words.Length < 4) return Task.FromResult("Expects an integer value.\n");
        string text = words[3];
        // HAProxy reads the delay in seconds unless a unit follows (cli_parse_set_timeout: parse_time_err, TIME_UNIT_S).
        int digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits])) digits++;
        double unit = text[digits..] switch
        {
            "" or "s" => 1, "us" => 1e-6, "ms" => 1e-3, "m" => 60, "h" => 3600, "d" => 86400, _ => 0,
        };
        if (digits == 0 || unit == 0 || !long.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out long n)
            || n * unit is <= 0 or > int.MaxValue / 1000)
            return Task.FromResult("Invalid timeout value.\n");
        session.Timeout = TimeSpan.FromSeconds(n * unit);
        return Task.FromResult("");
    }

    private async Task<string> ReloadAsync(string[] words, CliSession session)
    {
        // HAProxy's master CLI answers `reload` with Success=1|0, then `--`, then what happened.
        var r = await supervisor.ReloadFromFileAsync();
        return $"Success={(r.Ok ? 1 : 0)}\n--\n{r.Message.TrimEnd()}\n";
    }

    private async Task<string> StopAsync(string[] words, CliSession session)
    {
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
    }

    private Task<string> Status(string[] words, CliSession session)
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
        return Task.FromResult(sb.ToString());
    }

    private static string FormatUptime(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{(int)t.TotalDays}d{t.Hours}h{t.Minutes}m" :
        t.TotalHours >= 1 ? $"{t.Hours}h{t.Minutes}m{t.Seconds}s" :
        t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds}s" : $"{t.Seconds}s";
}
