using NLog;
using NLog.Config;
using NLog.Targets;
using Proxy.Shared.Config;

namespace Proxy.Shared.Logging;

/// <summary>
/// Configures NLog for a process from the config's `log` lines (HAProxy: `log stdout|stderr|ADDRESS|PATH FACILITY`).
/// Console output is always on for the supervisor's own start-up errors; syslog targets (and plain files) add to it.
/// </summary>
public static class LogSetup
{
    /// <summary>The supervisor's own log: timestamped console lines named by logger, plus the config's syslog targets.</summary>
    /// <param name="fileOwner">the workers' `user`/`group`, given a log file the supervisor creates (FileLogTarget)</param>
    public static void ConfigureSupervisor(IReadOnlyList<LogTarget> logs, (uint Uid, uint Gid)? fileOwner = null)
        => Configure("${date:format=yyyy-MM-dd HH\\:mm\\:ss.fff} [${logger}] ", logs, fileOwner);

    /// <summary>
    /// A worker's log: bare `LEVEL: message` lines on stderr, which the supervisor relays into its own log
    /// (<see cref="RelayedLine"/>), so a daemonized instance has one log stream.
    /// </summary>
    public static void ConfigureWorker() => Configure("", [], null);

    /// <summary>Splits a relayed worker line `LEVEL: message` into its level and message.</summary>
    public static (LogLevel Level, string Message) RelayedLine(string line)
    {
        int colon = line.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && colon <= 5)
        {
            try
            {
                return (LogLevel.FromString(line[..colon]), line[(colon + 2)..]);
            }
            catch (ArgumentException)
            {
                // not a level: relay the whole line
            }
        }
        return (LogLevel.Info, line);
    }

    private static void Configure(string linePrefix, IReadOnlyList<LogTarget> logs, (uint Uid, uint Gid)? fileOwner)
    {
        var config = new LoggingConfiguration();
        var console = new ConsoleTarget("console")
        {
            Layout = linePrefix + "${level:uppercase=true}: ${message}${onexception:inner= ${exception:format=tostring}}",
            StdErr = true,
            AutoFlush = true,
        };
        config.AddRule(LogLevel.Info, LogLevel.Fatal, console);
        foreach (var log in logs)
        {
            if (log.Target is "stdout" or "stderr") continue; // the console target already writes there
            Target target = LogFile.IsFileTarget(log.Target)
                ? new FileLogTarget(log.Target, fileOwner) : new SyslogTarget(log.Target, log.Facility);
            config.AddRule(ParseLevel(log.Level), LogLevel.Fatal, target);
        }
        LogManager.Configuration = config;
    }

    private static LogLevel ParseLevel(string? level) => level switch
    {
        "emerg" or "alert" or "crit" => LogLevel.Fatal,
        "err" => LogLevel.Error,
        "warning" => LogLevel.Warn,
        "notice" or "info" => LogLevel.Info,
        "debug" => LogLevel.Debug,
        _ => LogLevel.Info,
    };
}
