namespace Proxy.Shared.Config;

/// <summary>
/// The `global` keywords that real configurations carry for the process as a whole (doc/configuration.txt 3.1 to 3.3):
/// threads, the master, limits, identity, environment and `tune.*`. Each one either takes effect here or is accepted
/// with a warning at FILE:LINE that says why it has no effect (README, "Global keywords from HAProxy 2.6"); the
/// reasons are in <see cref="NoEffect"/>, so the README table is generated from the same text.
/// </summary>
internal sealed class ProcessSettingsParser(ConfigDiagnostics diag)
{
    /// <summary>Keywords that take effect here (the ones of <see cref="NoEffect"/> are accepted with a warning).</summary>
    public static readonly Dictionary<string, string> Effective = new(StringComparer.Ordinal)
    {
        ["nbthread"] = "N workers (each one an event loop: HAProxy's threads are this proxy's worker processes)",
        ["master-worker"] = "always so: the supervisor is the master; `no-exit-on-failure` is accepted, the supervisor respawns workers",
        ["uid"] = "the workers run as this user id (as `user`)",
        ["gid"] = "the workers run as this group id (as `group`)",
        ["setenv"] = "sets the variable that the lines below expand (the process environment is left alone)",
        ["presetenv"] = "as setenv, unless the variable is already set",
        ["unsetenv"] = "the lines below no longer see the variables",
        ["resetenv"] = "the lines below see only the named variables",
        ["log-tag"] = "the syslog tag of traffic log lines (default `proxy`)",
        ["log-send-hostname"] = "the host name in the syslog header of traffic log lines (the given name, or the machine's)",
        ["quiet"] = "no message at start-up: the supervisor logs no configuration warning and `haproxy -c` prints nothing (as `-q`)",
        ["zero-warning"] = "a configuration that draws a warning is refused (`check` fails, `start` and `reload` do not go ahead); this proxy's own \"has no effect here\" notes do not count, as HAProxy emits none",
        ["maxconnrate"] = "connections accepted per second over the instance, each worker taking its share",
        ["maxsessrate"] = "sessions per second over the instance, each worker taking its share",
        ["node"] = "the node name `stats show-node` shows when it names none (default: the host name)",
        ["description"] = "the text `stats show-desc` shows when it gives none",
        ["ulimit-n"] = "RLIMIT_NOFILE of the supervisor and its workers (soft limit; above the hard one only where allowed, else capped with a warning)",
        ["default-path"] = "where relative file names of the lines below resolve from (errorfile, crt, crt-base, ca-file, `-f` pattern files...), up to the end of its file",
        ["spread-checks"] = "each health and agent check interval moves by a random share of up to N% (0-50) either way",
    };

    /// <summary>Keywords accepted with a warning, and why each has no effect here.</summary>
    public static readonly Dictionary<string, string> NoEffect = new(StringComparer.Ordinal)
    {
        ["mworker-max-reloads"] = "workers are never reloaded in place: a reload starts new workers and the old ones drain until `hard-stop-after`",
        ["maxpipes"] = "splicing takes its pipes per connection, bounded by `maxconn`, and falls back to copying when the kernel refuses one",
        ["server-state-file"] = "server states are not loaded from a file: after a reload, servers start as their configuration says and checks settle them",
        ["tune.maxaccept"] = "each worker's loop accepts up to 64 connections in a row before its other events (HAProxy 2.6: 4 by default; 4 measured no better here)",
        ["tune.maxrewrite"] = "header rewrites do not take room from the request buffer here: `tune.bufsize` bounds the headers as received",
        ["tune.idle-pool.shared"] = "idle server connections belong to one worker each: workers are processes and share no pool",
        ["tune.h2.max-concurrent-streams"] = "HTTP/2 is not spoken here",
        ["tune.h2.header-table-size"] = "HTTP/2 is not spoken here",
        ["tune.h2.initial-window-size"] = "HTTP/2 is not spoken here",
        ["tune.h2.max-frame-size"] = "HTTP/2 is not spoken here",
        ["tune.pipesize"] = "splice pipes keep the kernel's default size",
        ["tune.recv_enough"] = "reads take what the socket holds, up to the buffer",
        ["tune.rcvbuf.client"] = "socket buffers keep the kernel's sizes",
        ["tune.rcvbuf.server"] = "socket buffers keep the kernel's sizes",
        ["tune.sndbuf.client"] = "socket buffers keep the kernel's sizes",
        ["tune.sndbuf.server"] = "socket buffers keep the kernel's sizes",
        ["tune.maxpollevents"] = "the .NET socket engine sizes its own epoll batches",
        ["tune.runqueue-depth"] = "the worker's event loop has no run queue to size",
        ["tune.pattern.cache-size"] = "ACL patterns are matched without an LRU cache",
        ["tune.idletimer"] = "the HTTP/1 parser needs no idle timer",
        ["tune.http.cookielen"] = "`capture cookie` keeps at most 63 characters here, HAProxy's default",
        ["tune.http.logurilen"] = "the logged URI is bounded by the log line's `len`",
        ["tune.vars.global-max-size"] = "variables are not bounded by a byte budget here: each session's store holds what its rules set",
        ["tune.vars.proc-max-size"] = "variables are not bounded by a byte budget here: each session's store holds what its rules set",
        ["tune.vars.reqres-max-size"] = "variables are not bounded by a byte budget here: each session's store holds what its rules set",
        ["tune.vars.sess-max-size"] = "variables are not bounded by a byte budget here: each session's store holds what its rules set",
        ["tune.vars.txn-max-size"] = "variables are not bounded by a byte budget here: each session's store holds what its rules set",
        ["tune.fd.edge-triggered"] = "the .NET socket engine chooses its own epoll mode",
        ["tune.sched.low-latency"] = "the worker's event loop has no task classes to prioritise",
        ["tune.listener.multi-queue"] = "each worker accepts from its own listening socket already",
        ["insecure-fork-wanted"] = "nothing here forbids a worker to fork: there is no restriction to lift",
        ["insecure-setuid-wanted"] = "nothing here forbids a setuid program: there is no restriction to lift",
        ["noreuseport"] = "listeners need SO_REUSEPORT here: each worker has its own socket on every `bind` (a second instance is still refused: the supervisor checks the port is free first)",
    };

    /// <summary>Whether <paramref name="keyword"/> is one of this parser's.</summary>
    public static bool Handles(string keyword) => Effective.ContainsKey(keyword) || NoEffect.ContainsKey(keyword);

    private int _nbThreadLine;

    /// <summary>Parses <paramref name="line"/> when it is one of this parser's keywords; false otherwise.</summary>
    public bool TryParse(ConfigLine line, ref GlobalSettings settings, int nbProcLine)
    {
        var w = line.Words;
        int n = line.Number;
        switch (line.Keyword)
        {
            case "nbthread":
                if (!LineChecks.Exactly(diag, line, 1, "nbthread NUMBER")
                    || !LineChecks.TryInt(diag, n, "nbthread", w[1], 1, GlobalSectionParser.MaxProcesses, out int threads)) return true;
                if (nbProcLine != 0)
                    diag.Error(n, $"'nbthread': 'nbproc' (line {nbProcLine}) already sets the number of workers; keep one of them");
                else
                {
                    _nbThreadLine = n;
                    settings = settings with { NbProc = threads };
                }
                return true;
            case "master-worker":
                if (w.Count > 2 || (w.Count == 2 && w[1] != "no-exit-on-failure"))
                    diag.Error(n, $"'master-worker': unexpected {ConfigDiagnostics.Quote(w[^1])}, expected 'master-worker [no-exit-on-failure]'");
                return true;
            case "uid":
                if (LineChecks.Exactly(diag, line, 1, "uid NUMBER") && LineChecks.TryInt(diag, n, "uid", w[1], 0, int.MaxValue, out _))
                    settings = settings with { User = w[1] };
                return true;
            case "gid":
                if (LineChecks.Exactly(diag, line, 1, "gid NUMBER") && LineChecks.TryInt(diag, n, "gid", w[1], 0, int.MaxValue, out _))
                    settings = settings with { Group = w[1] };
                return true;
            case "setenv" or "presetenv":
                LineChecks.Exactly(diag, line, 2, $"{line.Keyword} NAME VALUE");
                return true;                   // applied by the tokenizer (EnvironmentOverlay), for the lines below
            case "unsetenv":
                if (w.Count < 2) diag.Error(n, "'unsetenv': missing argument, expected 'unsetenv NAME...'");
                return true;
            case "resetenv":
                return true;
            case "node" or "description":
                // 3.1: several words are one text (HAProxy joins them, as `description`'s doc says).
                if (w.Count < 2) diag.Error(n, $"'{line.Keyword}': missing argument");
                else if (line.Keyword == "node") settings = settings with { Node = string.Join(' ', w.Skip(1)) };
                else settings = settings with { Description = string.Join(' ', w.Skip(1)) };
                return true;
            case "maxconnrate" or "maxsessrate":
                // 3.2 "maxconnrate", "maxsessrate": per second, 0 (the default) for no limit.
                if (LineChecks.Exactly(diag, line, 1, $"{line.Keyword} NUMBER")
                    && LineChecks.TryInt(diag, n, line.Keyword, w[1], 0, int.MaxValue, out int rate))
                    settings = line.Keyword == "maxconnrate" ? settings with { MaxConnRate = rate } : settings with { MaxSessRate = rate };
                return true;
            case "spread-checks":
                // 3.2 "spread-checks <0..50, in percent>": each check interval is moved by up to this share either way.
                if (LineChecks.Exactly(diag, line, 1, "spread-checks PERCENT")
                    && LineChecks.TryInt(diag, n, line.Keyword, w[1], 0, 50, out int spread))
                    settings = settings with { SpreadChecks = spread };
                return true;
            case "quiet":
                if (LineChecks.Exactly(diag, line, 0, "quiet")) settings = settings with { Quiet = true };
                return true;
            case "zero-warning":
                if (LineChecks.Exactly(diag, line, 0, "zero-warning"))
                {
                    settings = settings with { ZeroWarning = true };
                    ZeroWarningLine = n;
                }
                return true;
            case "log-tag":
                if (LineChecks.Exactly(diag, line, 1, "log-tag STRING"))
                    settings = settings with { LogTag = w[1] };
                return true;
            case "ulimit-n":
                // 3.1: the supervisor's RLIMIT_NOFILE, which its workers inherit (supervisor/FileDescriptorLimit.cs).
                if (LineChecks.Exactly(diag, line, 1, "ulimit-n NUMBER")
                    && LineChecks.TryInt(diag, n, "ulimit-n", w[1], 1, int.MaxValue, out int files))
                    settings = settings with { UlimitN = files };
                return true;
            case "default-path":
                // 3.1: the directory relative file names of the lines below resolve from (DefaultPath).
                if (CheckNoEffectArguments(line)) DefaultPath.Set(w[1], w.Count == 3 ? w[2] : null, diag.At(n).File);
                return true;
            case "log-send-hostname":
                if (w.Count > 2)
                    diag.Error(n, $"'log-send-hostname': unexpected {ConfigDiagnostics.Quote(w[2])}, expected 'log-send-hostname [NAME]'");
                else
                    settings = settings with { LogHostname = w.Count == 2 ? w[1] : Environment.MachineName };
                return true;
        }
        if (!NoEffect.TryGetValue(line.Keyword, out var reason)) return false;
        if (CheckNoEffectArguments(line))
            diag.Warning(n, $"'{line.Keyword}' has no effect here: {reason}");
        return true;
    }

    /// <summary>The line of `zero-warning` (0: none), where the error it raises is reported.</summary>
    public int ZeroWarningLine { get; private set; }

    /// <summary>The line's number of the `nbthread` read so far (0: none), for `nbproc` to refuse both.</summary>
    public int NbThreadLine => _nbThreadLine;

    /// <summary>The arguments HAProxy requires, so a line HAProxy refuses is refused here too.</summary>
    private bool CheckNoEffectArguments(ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        switch (line.Keyword)
        {
            case "node" or "description":
                if (w.Count >= 2) return true;
                diag.Error(n, $"'{line.Keyword}': missing argument");
                return false;
            case "server-state-file":
                return LineChecks.Exactly(diag, line, 1, "server-state-file PATH");
            case "default-path":
                if (w.Count == 2 && w[1] is "current" or "config" or "parent") return true;
                if (w.Count == 3 && w[1] == "origin") return true;
                diag.Error(n, "'default-path': expected 'default-path current|config|parent|origin PATH'");
                return false;
            case "noreuseport" or "insecure-fork-wanted" or "insecure-setuid-wanted":
                return LineChecks.Exactly(diag, line, 0, line.Keyword);
            case "tune.idle-pool.shared":
                if (!LineChecks.Exactly(diag, line, 1, "tune.idle-pool.shared on|off")) return false;
                if (w[1] is "on" or "off") return true;
                diag.Error(n, $"'tune.idle-pool.shared': expected on or off, got {ConfigDiagnostics.Quote(w[1])}");
                return false;
            case "tune.fd.edge-triggered" or "tune.sched.low-latency" or "tune.listener.multi-queue":
                if (!LineChecks.Exactly(diag, line, 1, $"{line.Keyword} on|off")) return false;
                if (w[1] is "on" or "off") return true;
                diag.Error(n, $"'{line.Keyword}': expected on or off, got {ConfigDiagnostics.Quote(w[1])}");
                return false;
            default:
                // A number or a size: `spread-checks 5`, `tune.pipesize 64k`, `ulimit-n 65536`.
                if (!LineChecks.Exactly(diag, line, 1, $"{line.Keyword} NUMBER")) return false;
                if (SizeValue.TryParse(w[1], out _)) return true;
                diag.Error(n, $"'{line.Keyword}': expected a number, got {ConfigDiagnostics.Quote(w[1])}");
                return false;
        }
    }
}
