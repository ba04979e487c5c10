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
