using System.Net;
using System.Net.Sockets;

namespace Proxy.Shared.Config;

/// <summary>Resolves a host name to one address, or returns null when it cannot.</summary>
internal delegate IPAddress? HostResolver(string host, AddressFamily? family);

/// <summary>
/// Addresses of `bind` and `server` lines (doc/configuration.txt 11 "Address formats"):
/// `[ipv4@|ipv6@]HOST:PORT`, IPv6 as `[::1]:80` or `::1:80` (the last colon separates the port),
/// `*:80` or `:80` for any IPv4 address, `fd@N` for an inherited descriptor (bind only), and for
/// `bind` a port range `:8000-8002` giving one listener per port, `unix@PATH`, `/PATH` and `abns@NAME` (UnixAddress),
/// and for `server` an address without a port (or with `+N`/`-N`): the port the client connected to (plus N).
/// Host names are resolved once, at parse time, as HAProxy's libc resolution does (`init-addr libc`).
/// </summary>
internal static class AddressParser
{
    // Families HAProxy knows that this proxy does not implement yet: rejected by name, never misread.
    private static readonly HashSet<string> UnsupportedPrefixes =
        ["abnsz", "sockpair", "udp", "udp4", "udp6", "quic4", "quic6", "uxst", "uxdg", "rhttp", "tcp", "tcp4", "tcp6", "mptcp", "mptcp4", "mptcp6"];

    /// <summary>
    /// What a server's resolver returns for `init-addr none` (and an SRV name before its first answer): 0.0.0.0, this
    /// very instance, so it is not refused as the wildcard. The server starts without an address, in maintenance.
    /// </summary>
    internal static readonly IPAddress Unresolved = new([0, 0, 0, 0]);

    /// <summary>The resolver used outside tests: `localhost` is always 127.0.0.1 (::1 for ipv6@), then the system's.</summary>
    public static IPAddress? SystemResolver(string host, AddressFamily? family)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            return family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        try
        {
            var all = Dns.GetHostAddresses(host);
            return all.FirstOrDefault(a => a.AddressFamily == (family ?? AddressFamily.InterNetwork))
                ?? (family is null ? all.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6) : null);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// Parses one comma-separated `bind` address word into listeners; returns them, or reports through
    /// <paramref name="error"/> and returns what was valid.
    /// </summary>
    public static List<BindAddress> ParseBind(string word, SourceLocation location, HostResolver resolve, Action<string> error)
    {
        var result = new List<BindAddress>();
        foreach (var item in word.Split(','))
        {
            if (UnixAddress.TryParse("bind", item, error, out var unixPath))
            {
                if (unixPath is not null) result.Add(new BindAddress(null, null, location) { UnixPath = unixPath });
                continue;
            }
            if (item.StartsWith("fd@", StringComparison.Ordinal))
            {
                if (IntValue.TryParse(item[3..], out int fd))
                    result.Add(new BindAddress(null, fd, location));
                else
                    error($"'bind': expected a file descriptor number after 'fd@', got {ConfigDiagnostics.Quote(item)}");
                continue;
            }
            if (!TrySplit("bind", item, resolve, error, out var address, out var portText))
                continue;
            int dash = portText.IndexOf('-');
            var firstText = dash < 0 ? portText : portText[..dash];
            var lastText = dash < 0 ? portText : portText[(dash + 1)..];
            if (!TryPort("bind", firstText, error, out int first) || !TryPort("bind", lastText, error, out int last))
                continue;
            if (last < first)
            {
                error($"'bind': invalid port range {first}-{last}: the first port must not be above the last");
                continue;
            }
            for (int port = first; port <= last; port++)
                result.Add(new BindAddress(new IPEndPoint(address, port), null, location));
        }
        return result;
    }

    /// <summary>Parses a `server` address `HOST:PORT`; returns null after reporting through <paramref name="error"/>.</summary>
    public static IPEndPoint? ParseServer(string word, HostResolver resolve, Action<string> error)
    {
        if (word.StartsWith("fd@", StringComparison.Ordinal))
        {
            error($"'server': 'fd@' addresses are only valid on 'bind', got {ConfigDiagnostics.Quote(word)}");
            return null;
        }
        if (!TrySplit("server", word, resolve, error, out var address, out var portText))
            return null;
        if (portText.StartsWith('+') || portText.StartsWith('-'))
        {
            error($"'server': relative ports ({ConfigDiagnostics.Quote(portText)}) are not supported yet");
            return null;
        }
        if (!ReferenceEquals(address, Unresolved) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
        {
            error($"'server': expected a destination address, got the wildcard in {ConfigDiagnostics.Quote(word)}");
            return null;
        }
        return TryPort("server", portText, error, out int port) ? new IPEndPoint(address, port) : null;
    }

    /// <summary>
    /// Parses a `server` address: `HOST:PORT`, a UNIX one, or `HOST`, `HOST:+N`, `HOST:-N` whose port is the one the
    /// client connected to (plus or minus N; HAProxy's port mapping, 5.2 "server ... <address>"). Null after an error.
    /// </summary>
    public static ServerAddress? ParseServerAddress(string word, HostResolver resolve, Action<string> error)
    {
        if (UnixAddress.TryParse("server", word, error, out var unixPath))
            return unixPath is null ? null : new ServerAddress(new IPEndPoint(IPAddress.None, 0), unixPath, false, 0);
        if (word.StartsWith("fd@", StringComparison.Ordinal))
            return ParseServer(word, resolve, error) is { } never ? new ServerAddress(never, null, false, 0) : null;
        if (!TrySplit("server", word, resolve, error, out var address, out var portText, allowNoPort: true))
            return null;
        if (portText.Length > 0 && portText[0] is not ('+' or '-'))
            return ParseServer(word, resolve, error) is { } fixedPort ? new ServerAddress(fixedPort, null, false, 0) : null;
        int offset = 0;
        if (portText.Length > 0 && (!IntValue.TryParse(portText[1..], out offset) || offset > 65535))
        {
            error($"'server': expected a port offset +N or -N (0-65535), got {ConfigDiagnostics.Quote(portText)}");
            return null;
        }
        if (!ReferenceEquals(address, Unresolved) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
        {
            error($"'server': expected a destination address, got the wildcard in {ConfigDiagnostics.Quote(word)}");
            return null;
        }
        return new ServerAddress(new IPEndPoint(address, 0), null, true, portText.StartsWith('-') ? -offset : offset);
    }

    /// <summary>Splits `[family@]HOST:PORT` and resolves HOST; the port text is returned unparsed (empty only with <paramref name="allowNoPort"/>).</summary>
    private static bool TrySplit(string keyword, string item, HostResolver resolve, Action<string> error,
        out IPAddress address, out string portText, bool allowNoPort = false)
    {
        address = IPAddress.None;
        portText = "";
        AddressFamily? family = null;
        var rest = item;
        int at = item.IndexOf('@');
        if (at >= 0)
        {
            var prefix = item[..at];
            if (prefix == "ipv4") family = AddressFamily.InterNetwork;
            else if (prefix == "ipv6") family = AddressFamily.InterNetworkV6;
            else
            {
                error(UnsupportedPrefixes.Contains(prefix)
                    ? $"'{keyword}': '{prefix}@' addresses are not supported yet"
                    : $"'{keyword}': unknown address family {ConfigDiagnostics.Quote(prefix + "@")} in {ConfigDiagnostics.Quote(item)}");
                return false;
            }
            rest = item[(at + 1)..];
        }
        if (rest.StartsWith('/'))
        {
            error($"'{keyword}': expected an IP address, got the UNIX socket path {ConfigDiagnostics.Quote(item)}");
            return false;
        }

        string host;
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf(']');
            if (close < 0 || close + 1 >= rest.Length || rest[close + 1] != ':')
            {
                error($"'{keyword}': expected [IPv6]:PORT, got {ConfigDiagnostics.Quote(item)}");
                return false;
            }
            host = rest[1..close];
            portText = rest[(close + 2)..];
            family ??= AddressFamily.InterNetworkV6;
        }
        else
        {
            int colon = rest.LastIndexOf(':');
            if (colon < 0 && allowNoPort && !rest.Contains(':'))
            {
                colon = rest.Length;
                rest += ":";
            }
            if (colon < 0)
            {
                error($"'{keyword}': missing port in {ConfigDiagnostics.Quote(item)} (expected ADDRESS:PORT)");
                return false;
            }
            host = rest[..colon];
            portText = rest[(colon + 1)..];
        }
        if (portText.Length == 0 && !allowNoPort)
        {
            error($"'{keyword}': missing port in {ConfigDiagnostics.Quote(item)} (expected ADDRESS:PORT)");
            return false;
        }

        if (host is "" or "*")
        {
            // HAProxy: an empty or `*` address means every IPv4 address (every IPv6 one with ipv6@).
            address = family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
            return true;
        }
        if (TryParseLiteral(host, out var literal))
        {
            if (family is { } f && literal.AddressFamily != f)
            {
                error($"'{keyword}': {ConfigDiagnostics.Quote(host)} is not an {(f == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address");
                return false;
            }
            address = literal;
            return true;
        }
        if (!IsHostName(host))
        {
            error($"'{keyword}': invalid address {ConfigDiagnostics.Quote(host)} in {ConfigDiagnostics.Quote(item)}");
            return false;
        }
        var resolved = resolve(host, family);
        if (resolved is null)
        {
            error($"'{keyword}': cannot resolve host name {ConfigDiagnostics.Quote(host)}");
            return false;
        }
        address = resolved;
        return true;
    }

    /// <summary>
    /// A literal as inet_pton(3) reads it: dotted-quad IPv4 only (IPAddress.TryParse would also accept
    /// `1` or `0x7f.1`, which HAProxy would try to resolve as names), or any IPv6 form.
    /// </summary>
    private static bool TryParseLiteral(string host, out IPAddress address)
    {
        address = IPAddress.None;
        if (host.Contains(':'))
            return IPAddress.TryParse(host, out address!) && address.AddressFamily == AddressFamily.InterNetworkV6;
        var parts = host.Split('.');
        if (parts.Length != 4) return false;
        foreach (var p in parts)
            if (p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit) || int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) > 255)
                return false;
        return IPAddress.TryParse(host, out address!);
    }

    /// <summary>RFC 1123 host name: dot-separated labels of letters, digits and hyphens (underscore tolerated).</summary>
    private static bool IsHostName(string host)
    {
        if (host.Length is 0 or > 253) return false;
        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label.StartsWith('-') || label.EndsWith('-')) return false;
            foreach (var c in label)
                if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_') return false;
        }
        return !host.All(c => char.IsAsciiDigit(c) || c == '.');   // `1.2.3` is a bad literal, not a name
    }

    private static bool TryPort(string keyword, string text, Action<string> error, out int port)
    {
        if (!IntValue.TryParse(text, out port))
        {
            error($"'{keyword}': expected a port number, got {ConfigDiagnostics.Quote(text)}");
            return false;
        }
        if (port is < 1 or > 65535)
        {
            error($"'{keyword}': invalid port {port} (expected 1-65535)");
            return false;
        }
        return true;
    }
}

/// <summary>
/// A parsed `server` address: an IP end point (port 0 when <paramref name="ClientPort"/>), or a UNIX socket
/// (<paramref name="UnixPath"/>, UnixAddress's form; the end point is then 255.255.255.255:0, never connected to).
/// </summary>
internal sealed record ServerAddress(IPEndPoint EndPoint, string? UnixPath, bool ClientPort, int PortOffset);
