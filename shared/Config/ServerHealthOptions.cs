namespace Proxy.Shared.Config;

/// <summary>
/// The server options of the health-check family beyond `check` (doc/configuration.txt 5.2): `agent-check`,
/// `no-agent-check`, `agent-port`, `agent-inter`, `agent-send`, `agent-addr`, `slowstart`, `on-marked-down`,
/// `on-marked-up`. Each returns the settings with the option applied, or null after an error at the line.
/// </summary>
internal static class ServerHealthOptions
{
    public static bool IsOption(string option) => option is "agent-check" or "no-agent-check" or "agent-port" or "agent-inter"
        or "agent-send" or "agent-addr" or "slowstart" or "on-marked-down" or "on-marked-up" or "track";

    /// <summary>Parses <paramref name="i"/>'s option (and its value, advancing <paramref name="i"/>).</summary>
    public static ServerCheckSettings? Parse(ConfigDiagnostics diag, HostResolver resolver, ConfigLine line, string keyword,
        ref int i, ServerCheckSettings c)
    {
        var w = line.Words;
        int n = line.Number;
        string option = w[i];
        var agent = c.Agent;
        if (option == "agent-check") return c with { Agent = agent with { Enabled = true } };
        if (option == "no-agent-check") return c with { Agent = agent with { Enabled = false } };
        if (i + 1 >= w.Count)
        {
            diag.Error(n, $"'{keyword}': option '{option}' needs a value");
            return null;
        }
        string value = w[++i];
        string name = $"{keyword} {option}";
        switch (option)
        {
            case "agent-port":
                return LineChecks.TryInt(diag, n, name, value, 1, 65535, out int port) ? c with { Agent = agent with { Port = port } } : null;
            case "agent-inter":
                if (!LineChecks.TryTime(diag, n, name, value, out var inter)) return null;
                if (inter <= TimeSpan.Zero)
                {
                    diag.Error(n, $"'{name}': the interval must be above zero");
                    return null;
                }
                return c with { Agent = agent with { Inter = inter } };
            case "agent-send":
                return c with { Agent = agent with { Send = value } };
            case "agent-addr":
            {
                // 5.2 "agent-addr": an IP or a host name, resolved (once, here, as `addr` is).
                var address = System.Net.IPAddress.TryParse(value.Trim('[', ']'), out var literal) ? literal
                    : value.Length > 0 && !value.Contains(':') ? resolver(value, null) : null;
                if (address is null)
                {
                    diag.Error(n, $"'{name}': expected an IP address or a host name, got {ConfigDiagnostics.Quote(value)}");
                    return null;
                }
                return c with { Agent = agent with { Address = address } };
            }
            case "track":
                // 5.2 "track [<backend>/]<server>": checked against the other servers once all sections are read.
                return c with { Track = value };
            case "slowstart":
                // A negative or bad time is an error; 0 disables it (HAProxy: "slowstart 0").
                return LineChecks.TryTime(diag, n, name, value, out var slow) ? c with { SlowStart = slow } : null;
            case "on-marked-down":
                if (value == "shutdown-sessions") return c with { ShutdownSessionsOnDown = true };
                diag.Error(n, $"'{name}': expected 'shutdown-sessions' (the one action of HAProxy 2.6), got {ConfigDiagnostics.Quote(value)}");
                return null;
            default: // on-marked-up
                if (value == "shutdown-backup-sessions") return c with { ShutdownBackupSessionsOnUp = true };
                diag.Error(n, $"'{name}': expected 'shutdown-backup-sessions' (the one action of HAProxy 2.6), got {ConfigDiagnostics.Quote(value)}");
                return null;
        }
    }

    /// <summary>HAProxy refuses a server whose `agent-check` has no `agent-port` ("server X does not have agent port").</summary>
    public static bool Validate(ConfigDiagnostics diag, int line, string keyword, string? name, ServerCheckSettings c)
    {
        if (keyword == "default-server" || !c.Agent.Enabled || c.Agent.Port is not null) return true;
        diag.Error(line, $"'{keyword}': 'agent-check' on server '{name}' needs 'agent-port' (the agent's TCP port)");
        return false;
    }
}
