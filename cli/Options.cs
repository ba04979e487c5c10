using CommandLine;

namespace Proxy.Cli;

// proxyctl's verbs. Every verb that talks to an instance finds it through the config's `stats socket`
// (or the default path derived from the config file), unless -S names the control socket.

public abstract class InstanceOptions
{
    [Option('f', "file", Required = true, HelpText = "Configuration file (HAProxy syntax).")]
    public string File { get; set; } = "";

    [Option('S', "socket", HelpText = "Control socket path (default: the config's `stats socket`).")]
    public string? Socket { get; set; }
}

[Verb("check", HelpText = "Validate a configuration file; prints FILE:LINE: message for every error.")]
public sealed class CheckOptions
{
    [Option('f', "file", Required = true, HelpText = "Configuration file to check.")]
    public string File { get; set; } = "";
}

[Verb("start", HelpText = "Start an instance: the supervisor and one worker per CPU. Returns once every worker serves.")]
public sealed class StartOptions : InstanceOptions
{
    [Option("foreground", HelpText = "Stay attached and log to the console (what systemd runs).")]
    public bool Foreground { get; set; }
}

[Verb("stop", HelpText = "Stop gracefully: stop accepting, finish in-flight connections, then exit.")]
public sealed class StopOptions : InstanceOptions
{
    [Option("timeout", Default = 30.0, HelpText = "Seconds to wait for connections to end before closing them.")]
    public double Timeout { get; set; }
}

[Verb("status", HelpText = "Show the supervisor and its workers (slot, pid, CPU, generation, state, connections).")]
public sealed class StatusOptions : InstanceOptions;

[Verb("reload", HelpText = "Re-read the config: check it, start new workers, drain the old ones. A bad config changes nothing.")]
public sealed class ReloadOptions : InstanceOptions;

[Verb("stats", HelpText = "Counters per frontend, backend and server, read straight from the stats board (works while the supervisor is busy).")]
public sealed class StatsOptions : InstanceOptions
{
    [Option("csv", SetName = "format", HelpText = "HAProxy `show stat` CSV (per-process rows included).")]
    public bool Csv { get; set; }

    [Option("json", SetName = "format", HelpText = "JSON: {info, workers, stats} (per-process rows included).")]
    public bool Json { get; set; }

    [Option("prometheus", SetName = "format", HelpText = "Prometheus text format, HAProxy exporter's metric names (per-worker series included).")]
    public bool Prometheus { get; set; }

    [Option("per-process", HelpText = "Add one row per worker to the table.")]
    public bool PerProcess { get; set; }

    [Option("watch", HelpText = "Refresh the table in place every second until interrupted.")]
    public bool Watch { get; set; }

    [Option("board", HelpText = "Stats board file (default: beside the control socket, .stats).")]
    public string? Board { get; set; }
}

[Verb("server", HelpText = "Change a server at run time in every worker: enable | disable | drain | ready | maint | weight N.")]
public sealed class ServerOptions : InstanceOptions
{
    [Value(0, MetaName = "action", Required = true, HelpText = "enable, disable, drain, ready, maint or weight.")]
    public string Action { get; set; } = "";

    [Value(1, MetaName = "backend/server", Required = true, HelpText = "The server, as BACKEND/SERVER.")]
    public string Target { get; set; } = "";

    [Value(2, MetaName = "value", HelpText = "For weight: 0-256, or a percentage of the configured weight (50%).")]
    public string? Value { get; set; }
}

/// <summary>The runtime API commands proxyctl passes on as they are (HAProxy's syntax; see README, runtime API).</summary>
public abstract class RuntimeCommandOptions : InstanceOptions
{
    [Value(0, MetaName = "words", Min = 1, HelpText = "The command's words after the verb, as HAProxy's runtime API takes them.")]
    public IEnumerable<string> Words { get; set; } = [];
}

[Verb("cmd", HelpText = "Send any runtime API command (quote it; several separated by ';'), e.g. proxyctl cmd \"show stat -1 4 -1\" -f FILE.")]
public sealed class CmdOptions : RuntimeCommandOptions;

[Verb("show", HelpText = "Runtime API `show ...`: info [json|typed], stat [json|typed], servers state|conn [BE], backend, env, errors, activity, sess.")]
public sealed class ShowOptions : RuntimeCommandOptions;

[Verb("set", HelpText = "Runtime API `set ...`: server BE/SRV state|weight|addr|health|check-port ..., rate-limit ..., timeout cli N.")]
public sealed class SetOptions : RuntimeCommandOptions;

[Verb("enable", HelpText = "Runtime API `enable server BE/SRV` (and HAProxy's other enable commands).")]
public sealed class EnableOptions : RuntimeCommandOptions;

[Verb("disable", HelpText = "Runtime API `disable server BE/SRV` (and HAProxy's other disable commands).")]
public sealed class DisableOptions : RuntimeCommandOptions;

[Verb("clear", HelpText = "Runtime API `clear counters [all]`.")]
public sealed class ClearOptions : RuntimeCommandOptions;

[Verb("table", HelpText = "Stick tables: show [NAME [data.TYPE OP VALUE] [key KEY]] | clear NAME [data.TYPE OP VALUE] [key KEY] | set NAME key KEY data.TYPE VALUE.")]
public sealed class TableOptions : RuntimeCommandOptions;
