namespace Proxy.Shared.Config;

/// <summary>
/// `bind` options (doc/configuration.txt 5.1) that real configurations carry and that this proxy accepts with a warning
/// at FILE:LINE saying why each has no effect here (README, "bind options"); `accept-proxy` is ProxySectionParser's.
/// </summary>
internal static class BindExtras
{
    /// <summary>Option -> (whether it takes a value, why it has no effect here; null: it holds here as written).</summary>
    public static readonly Dictionary<string, (bool HasValue, string? NoEffect)> Options = new(StringComparer.Ordinal)
    {
        ["v6only"] = (false, null),            // IPv6 listeners here are IPv6-only already (.NET opens them with IPV6_V6ONLY)
        ["v4v6"] = (false, "IPv6 listeners here accept IPv6 only: add a `bind` on the IPv4 address for IPv4 clients"),
        ["transparent"] = (false, "listeners are not opened with IP_TRANSPARENT: a foreign address fails to bind"),
        ["defer-accept"] = (false, "connections are accepted as soon as the handshake completes"),
        ["tfo"] = (false, "TCP Fast Open is not enabled on listeners"),
        ["interface"] = (true, "listeners are not bound to an interface (SO_BINDTODEVICE)"),
        ["mss"] = (true, "listeners keep the kernel's MSS"),
        ["backlog"] = (true, null),           // ProxySectionParser.ParseBind: the listen(2) queue
        ["maxconn"] = (true, "the frontend's `maxconn` bounds its connections, not each listener's"),
        ["name"] = (true, "listeners are not shown by name on the stats board"),
        ["id"] = (true, "listeners are not numbered on the stats board"),
        ["process"] = (true, "every worker accepts on every listener"),
        ["thread"] = (true, "every worker accepts on every listener"),
    };

    /// <summary>
    /// Handles the option at <paramref name="i"/> of a `bind` line (and its value, moving <paramref name="i"/> past it);
    /// false when it is not one of <see cref="Options"/>.
    /// </summary>
    public static bool TryParse(ConfigDiagnostics diag, ConfigLine line, ref int i)
    {
        var w = line.Words;
        if (!Options.TryGetValue(w[i], out var option)) return false;
        var name = w[i];
        if (option.HasValue)
        {
            if (i + 1 >= w.Count)
            {
                diag.Error(line.Number, $"'bind': option '{name}' needs a value");
                return true;
            }
            i++;
            if (name is "backlog" or "maxconn" or "mss" or "id"
                && !LineChecks.TryInt(diag, line.Number, "bind " + name, w[i], 0, int.MaxValue, out _)) return true;
        }
        if (option.NoEffect is { } reason)
            diag.Warning(line.Number, $"'bind': option '{name}' has no effect here: {reason}");
        return true;
    }
}
