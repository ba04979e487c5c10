using System.Globalization;
using System.Net;

namespace Proxy.Shared.Config;

/// <summary>
/// The global `stats` keywords (doc/configuration.txt 3.1): `stats socket ADDRESS [param*]` (several lines, each its
/// own socket and level), `stats timeout`, `stats maxconn`, and the deprecated `stats bind-process`.
/// </summary>
internal static class StatsSocketParser
{
    private const string Usage = "stats socket PATH|ipv4@ADDR:PORT|fd@N [mode OCTAL] [level LEVEL] [uid N] [gid N] [user NAME] [group NAME] [expose-fd listeners]";

    /// <summary>Applies one `stats ...` line to <paramref name="settings"/>; errors and warnings go to <paramref name="diag"/>.</summary>
    public static GlobalSettings Parse(ConfigDiagnostics diag, ConfigLine line, GlobalSettings settings)
    {
        var w = line.Words;
        int n = line.Number;
        switch (w.Count < 2 ? "" : w[1])
        {
            case "socket":
                return ParseSocket(diag, line, settings);
            case "timeout":
                if (LineChecks.Exactly(diag, line, 1, "stats timeout TIME", keywordWords: 2)
                    && LineChecks.TryTime(diag, n, "stats timeout", w[2], out TimeSpan timeout))
                {
                    if (timeout <= TimeSpan.Zero) diag.Error(n, "'stats timeout': the timeout must be greater than zero");
                    else return settings with { StatsTimeout = timeout };
                }
                return settings;
            case "maxconn":
                if (LineChecks.Exactly(diag, line, 1, "stats maxconn NUMBER", keywordWords: 2)
                    && LineChecks.TryInt(diag, n, "stats maxconn", w[2], 1, 65535, out int maxConn))
                    return settings with { StatsMaxConn = maxConn };
                return settings;
            case "bind-process":
                // HAProxy 2.6: deprecated, "the default and only accepted value is 1 (along with all and odd)". The runtime
                // API is served by the supervisor alone here, so those values change nothing; any other is an error there too.
                if (w.Count == 3 && w[2] is ("1" or "all" or "odd"))
                    diag.Warning(n, "'stats bind-process' is deprecated and has no effect: the supervisor alone serves the stats socket");
                else
                    diag.Error(n, "'stats bind-process': the only accepted values are 1, all and odd (HAProxy 2.6)");
                return settings;
            case "":
                diag.Error(n, $"'stats': missing argument, expected '{Usage}'");
                return settings;
            default:
                diag.Error(n, $"'stats {w[1]}' is not supported in the global section (expected socket, timeout, maxconn or bind-process)");
                return settings;
        }
    }

    private static GlobalSettings ParseSocket(ConfigDiagnostics diag, ConfigLine line, GlobalSettings settings)
    {
        var w = line.Words;
        int n = line.Number;
        if (w.Count < 3 || w[2].Length == 0)
        {
            diag.Error(n, "'stats socket': missing the socket path");
            return settings;
        }
        string address = w[2];
        var socket = Address(diag, n, address);
        if (socket is null) return settings;
        bool ok = true;
        for (int i = 3; i < w.Count && ok; i += 2)
        {
            string option = w[i];
            if (option is not ("mode" or "level" or "uid" or "gid" or "user" or "group" or "expose-fd"))
            {
                diag.Error(n, KnownKeywords.BindOptions.Contains(option)
                    ? $"'stats socket': option '{option}' is not supported yet"
                    : $"'stats socket': unknown option {ConfigDiagnostics.Quote(option)} (expected mode, level, uid, gid, user, group or expose-fd)");
                return settings;
            }
            if (i + 1 >= w.Count)
            {
                diag.Error(n, $"'stats socket': '{option}' needs a value");
                return settings;
            }
            string value = w[i + 1];
            switch (option)
            {
                case "mode" when value.Length is > 0 and <= 4 && value.All(c => c is >= '0' and <= '7'):
                    socket = socket with { Mode = Convert.ToInt32(value, 8) };
                    break;
                case "mode":
                    ok = Fail(diag, n, $"'stats socket': 'mode' expects an octal permission like 600, got {ConfigDiagnostics.Quote(value)}");
                    break;
                case "level" when value is "user" or "operator" or "admin":
                    socket = socket with { Level = value };
                    break;
                case "level":
                    ok = Fail(diag, n, $"'stats socket': 'level' expects user, operator or admin, got {ConfigDiagnostics.Quote(value)}");
                    break;
                case "uid" or "gid" when !uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _):
                    ok = Fail(diag, n, $"'stats socket': '{option}' expects a number, got {ConfigDiagnostics.Quote(value)}");
                    break;
                case "uid":
                    socket = socket with { Uid = uint.Parse(value, CultureInfo.InvariantCulture) };
                    break;
                case "gid":
                    socket = socket with { Gid = uint.Parse(value, CultureInfo.InvariantCulture) };
                    break;
                case "user" or "group" when value.Length == 0:
                    ok = Fail(diag, n, $"'stats socket': '{option}' must not be empty");
                    break;
                case "user":
                    socket = socket with { User = value };
                    break;
                case "group":
                    socket = socket with { Group = value };
                    break;
                case "expose-fd" when value == "listeners":
                    // HAProxy passes listening sockets to a new process (-x); here the supervisor keeps them and hands
                    // them to the next generation itself on reload, so the option is accepted and needs nothing more.
                    socket = socket with { ExposeFdListeners = true };
                    break;
                default: // expose-fd with another value
                    ok = Fail(diag, n, $"'stats socket': 'expose-fd' expects 'listeners', got {ConfigDiagnostics.Quote(value)}");
                    break;
            }
        }
        if (!ok) return settings;
        if (!socket.IsUnix && (socket.Uid is not null || socket.Gid is not null || socket.User is not null || socket.Group is not null))
            diag.Warning(n, "'stats socket': uid, gid, user and group apply to a Unix socket file only; ignored for this address");
        var all = new List<StatsSocketConfig>(settings.StatsSockets) { socket };
        // The first Unix socket is the control socket proxyctl talks to (InstancePaths).
        return settings with { StatsSockets = all, StatsSocket = settings.StatsSocket ?? (socket.IsUnix ? socket : null) };
    }

    private static bool Fail(ConfigDiagnostics diag, int line, string message)
    {
        diag.Error(line, message);
        return false;
    }

    /// <summary>
    /// HAProxy's address forms for a socket: a path (or `unix@PATH`), `ipv4@A:P`, `ipv6@[A]:P`, `A:P`, or `fd@N`.
    /// The default level is operator, the default file mode 0600 (this socket changes the running proxy).
    /// </summary>
    private static StatsSocketConfig? Address(ConfigDiagnostics diag, int n, string address)
    {
        int mode = Convert.ToInt32("600", 8);
        const string level = "operator"; // HAProxy's default access level (cli.c: ACCESS_LVL_OPER)
        if (address.StartsWith("unix@", StringComparison.Ordinal)) address = address[5..];
        if (address.StartsWith('/') || (!address.Contains('@') && !address.Contains(':')))
            return address.Length > 0 ? new StatsSocketConfig(address, mode, level) : Bad(diag, n, address);
        if (address.StartsWith("fd@", StringComparison.Ordinal))
            return int.TryParse(address.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out int fd) && fd > 2
                ? new StatsSocketConfig(address, mode, level) { InheritedFd = fd }
                : Bad(diag, n, address);
        string host = address;
        int at = address.IndexOf('@');
        if (at >= 0)
        {
            string family = address[..at];
            if (family is not ("ipv4" or "ipv6" or "tcp" or "tcp4" or "tcp6")) return Bad(diag, n, address);
            host = address[(at + 1)..];
        }
        if (!IPEndPoint.TryParse(host, out var endPoint) || endPoint.Port == 0 || !host.Contains(':')) return Bad(diag, n, address);
        return new StatsSocketConfig(address, mode, level) { TcpEndPoint = endPoint };
    }

    private static StatsSocketConfig? Bad(ConfigDiagnostics diag, int n, string address)
    {
        diag.Error(n, $"'stats socket': cannot parse address {ConfigDiagnostics.Quote(address)} (expected a path, unix@PATH, ipv4@ADDR:PORT, ipv6@[ADDR]:PORT or fd@N)");
        return null;
    }
}
