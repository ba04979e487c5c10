namespace Proxy.Shared.Config;

/// <summary>
/// `log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]` (doc/configuration.txt 3.1 "log", 4.2 "log"),
/// in `global` and in proxies, where `log global` means "the global log lines too".
/// </summary>
internal static class LogLineParser
{
    // syslog facilities and levels, in HAProxy's spelling (log.c: log_facilities, log_levels).
    private static readonly HashSet<string> Facilities =
    [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp", "ntp",
        "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];
    private static readonly HashSet<string> Levels = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
    private static readonly HashSet<string> Formats = ["local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw"];

    /// <summary>Parses a `log` line other than `log global`; returns null after reporting an error.</summary>
    public static LogTarget? Parse(ConfigDiagnostics diag, ConfigLine line)
    {
        var w = line.Words;
        const string usage = "log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]";
        if (w.Count < 3)
        {
            diag.Error(line.Number, $"'log': missing argument, expected '{usage}'");
            return null;
        }
        var target = w[1];
        if (target.Length == 0 || target.StartsWith("ring@", StringComparison.Ordinal))
        {
            diag.Error(line.Number, target.Length == 0 ? "'log': empty target" : "'log': 'ring@' targets are not supported yet");
            return null;
        }
        int? length = null;
        string format = "rfc3164";
        int i = 2;
        while (i < w.Count && w[i] is "len" or "format" or "sample" or "profile")
        {
            if (w[i] is "sample" or "profile")
            {
                diag.Error(line.Number, $"'log': '{w[i]}' is not supported yet");
                return null;
            }
            if (i + 1 >= w.Count)
            {
                diag.Error(line.Number, $"'log': '{w[i]}' needs a value");
                return null;
            }
            if (w[i] == "len")
            {
                if (!LineChecks.TryInt(diag, line.Number, "log len", w[i + 1], 80, 65535, out int len))
                    return null;
                length = len;
            }
            else
            {
                if (!Formats.Contains(w[i + 1]))
                {
                    diag.Error(line.Number, $"'log': unknown format {ConfigDiagnostics.Quote(w[i + 1])} (expected one of {string.Join(", ", Formats)})");
                    return null;
                }
                format = w[i + 1];
            }
            i += 2;
        }
        if (i >= w.Count)
        {
            diag.Error(line.Number, $"'log': missing facility, expected '{usage}'");
            return null;
        }
        if (!Facilities.Contains(w[i]))
        {
            diag.Error(line.Number, $"'log': unknown facility {ConfigDiagnostics.Quote(w[i])} (expected kern, user, daemon, local0-local7...)");
            return null;
        }
        var facility = w[i++];
        string? level = null, minLevel = null;
        if (i < w.Count)
        {
            if (!Levels.Contains(w[i]))
            {
                diag.Error(line.Number, $"'log': unknown level {ConfigDiagnostics.Quote(w[i])} (expected one of {string.Join(", ", Levels)})");
                return null;
            }
            level = w[i++];
        }
        if (i < w.Count)
        {
            if (!Levels.Contains(w[i]))
            {
                diag.Error(line.Number, $"'log': unknown minimum level {ConfigDiagnostics.Quote(w[i])} (expected one of {string.Join(", ", Levels)})");
                return null;
            }
            minLevel = w[i++];
        }
        if (i < w.Count)
        {
            diag.Error(line.Number, $"'log': unexpected {ConfigDiagnostics.Quote(w[i])}, expected '{usage}'");
            return null;
        }
        return new LogTarget(target, facility, level, format) { MaxLength = length, MinLevel = minLevel };
    }
}
