using System.Net;

namespace Proxy.Shared.Config;

/// <summary>
/// The body of a `resolvers NAME` section (doc/configuration.txt 5.3.2): `nameserver ID [udp@|tcp@]ADDRESS[:PORT]`,
/// `parse-resolv-conf`, `resolve_retries N`, `timeout resolve|retry T`, `hold nx|other|refused|timeout|valid|obsolete T`
/// and `accepted_payload_size N`. Name server addresses are literals or names resolved once here, as HAProxy does.
/// </summary>
internal sealed class ResolversSectionParser(ConfigDiagnostics diag, HostResolver resolver)
{
    /// <summary>Where `parse-resolv-conf` reads the system's name servers (resolv.conf(5)).</summary>
    internal string ResolvConfPath { get; init; } = "/etc/resolv.conf";

    private readonly List<ResolversConfig> _sections = [];

    /// <summary>The sections read so far, in file order.</summary>
    public IReadOnlyList<ResolversConfig> Sections => _sections;

    /// <summary>`resolvers NAME`: starts a section; returns false when the header is wrong (its body is then skipped).</summary>
    public bool Start(ConfigLine line)
    {
        if (!LineChecks.Exactly(diag, line, 1, "resolvers NAME")) return false;
        var name = line.Words[1];
        foreach (var s in _sections)
        {
            if (s.Name != name) continue;
            diag.Error(line.Number, $"'resolvers': a resolvers section named '{name}' already exists at line {s.Location.Line}");
            return false;
        }
        _sections.Add(new ResolversConfig(name, diag.At(line.Number)));
        return true;
    }

    public void ParseLine(ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        var r = _sections[^1];
        switch (line.Keyword)
        {
            case "nameserver":
                if (!LineChecks.Exactly(diag, line, 2, "nameserver ID ADDRESS[:PORT]")) return;
                if (ParseNameserver(r, w[1], w[2], n) is { } ns) r = r with { Nameservers = [.. r.Nameservers, ns] };
                break;
            case "parse-resolv-conf":
                if (!LineChecks.Exactly(diag, line, 0, "parse-resolv-conf")) return;
                r = r with { Nameservers = [.. r.Nameservers, .. ReadResolvConf(r, n)] };
                break;
            case "resolve_retries":
                if (LineChecks.Exactly(diag, line, 1, "resolve_retries N") && LineChecks.TryInt(diag, n, "resolve_retries", w[1], 1, 1000, out int retries))
                    r = r with { ResolveRetries = retries };
                break;
            case "accepted_payload_size":
                if (LineChecks.Exactly(diag, line, 1, "accepted_payload_size N")
                    && LineChecks.TryInt(diag, n, "accepted_payload_size", w[1], 512, 65535, out int size))
                    r = r with { AcceptedPayloadSize = size };
                break;
            case "timeout":
                if (!LineChecks.Exactly(diag, line, 2, "timeout resolve|retry TIME")) return;
                if (w[1] is not ("resolve" or "retry"))
                {
                    diag.Error(n, $"'timeout': expected 'resolve' or 'retry' in a resolvers section, got {ConfigDiagnostics.Quote(w[1])}");
                    return;
                }
                if (!PositiveTime(n, $"timeout {w[1]}", w[2], out var t)) return;
                r = w[1] == "resolve" ? r with { ResolveInterval = t } : r with { RetryTimeout = t };
                break;
            case "hold":
                if (!LineChecks.Exactly(diag, line, 2, "hold STATUS PERIOD")) return;
                if (!LineChecks.TryTime(diag, n, $"hold {w[1]}", w[2], out var period)) return;
                var h = r.Hold;
                switch (w[1])
                {
                    case "nx": h = h with { Nx = period }; break;
                    case "other": h = h with { Other = period }; break;
                    case "refused": h = h with { Refused = period }; break;
                    case "timeout": h = h with { Timeout = period }; break;
                    case "valid": h = h with { Valid = period }; break;
                    case "obsolete": h = h with { Obsolete = period }; break;
                    default:
                        diag.Error(n, $"'hold': expected nx, other, refused, timeout, valid or obsolete, got {ConfigDiagnostics.Quote(w[1])}");
                        return;
                }
                r = r with { Hold = h };
                break;
            default:
                diag.Error(n, $"unknown keyword {ConfigDiagnostics.Quote(line.Keyword)} in resolvers section '{r.Name}' (expected nameserver, parse-resolv-conf, resolve_retries, timeout, hold or accepted_payload_size)");
                return;
        }
        _sections[^1] = r;
    }

    /// <summary>Reports a section without any name server (HAProxy refuses it too: nothing could be asked).</summary>
    public void Finish()
    {
        foreach (var r in _sections)
            if (r.Nameservers.Count == 0)
                diag.Error(r.Location, $"'resolvers {r.Name}': no 'nameserver' (nor 'parse-resolv-conf') in this section");
    }

    private bool PositiveTime(int n, string keyword, string text, out TimeSpan value)
    {
        if (!LineChecks.TryTime(diag, n, keyword, text, out value)) return false;
        if (value > TimeSpan.Zero) return true;
        diag.Error(n, $"'{keyword}': the time must be above zero");
        return false;
    }

    /// <summary>`[udp@|tcp@][ipv4@|ipv6@]ADDRESS[:PORT]`: UDP unless `tcp@` (HAProxy 2.6 accepts both), port 53 by default.</summary>
    private NameserverConfig? ParseNameserver(ResolversConfig r, string id, string text, int n)
    {
        foreach (var existing in r.Nameservers)
        {
            if (existing.Name != id) continue;
            diag.Error(n, $"'nameserver': resolvers section '{r.Name}' already has a nameserver named '{id}'");
            return null;
        }
        bool tcp = false;
        var rest = text;
        if (rest.StartsWith("udp@", StringComparison.Ordinal)) rest = rest[4..];
        else if (rest.StartsWith("tcp@", StringComparison.Ordinal))
        {
            tcp = true;
            rest = rest[4..];
        }
        if (!HasPort(rest)) rest += ":53";
        var endPoint = AddressParser.ParseServer(rest, resolver, m => diag.Error(n, m.Replace("'server'", "'nameserver'", StringComparison.Ordinal)));
        return endPoint is null ? null : new NameserverConfig(id, endPoint, tcp, diag.At(n));
    }

    /// <summary>`1.2.3.4:53`, `[::1]:53`, `name:53` have a port; `1.2.3.4`, `::1`, `[::1]`, `name` do not.</summary>
    private static bool HasPort(string address)
    {
        var host = address.Contains('@') ? address[(address.IndexOf('@') + 1)..] : address;
        if (host.StartsWith('[')) return host.Contains("]:", StringComparison.Ordinal);
        return host.Count(c => c == ':') == 1;
    }

    /// <summary>`parse-resolv-conf`: every `nameserver ADDRESS` line of resolv.conf(5), on port 53, named by its address.</summary>
    private List<NameserverConfig> ReadResolvConf(ResolversConfig r, int n)
    {
        var result = new List<NameserverConfig>();
        string[] lines;
        try
        {
            lines = File.ReadAllLines(ResolvConfPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diag.Error(n, $"'parse-resolv-conf': cannot read {ResolvConfPath}: {e.Message}");
            return result;
        }
        foreach (var raw in lines)
        {
            var words = raw.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || words[0] != "nameserver") continue;
            if (!IPAddress.TryParse(words[1], out var address))
            {
                diag.Warning(n, $"'parse-resolv-conf': {ResolvConfPath}: ignoring nameserver {ConfigDiagnostics.Quote(words[1])}, not an IP address");
                continue;
            }
            // HAProxy names them by their address (parse-resolv-conf: "id" is the address as written).
            var id = words[1];
            if (r.Nameservers.Any(x => x.Name == id) || result.Exists(x => x.Name == id)) continue;
            result.Add(new NameserverConfig(id, new IPEndPoint(address, 53), false, diag.At(n)));
        }
        if (result.Count == 0)
            diag.Warning(n, $"'parse-resolv-conf': no nameserver found in {ResolvConfPath}");
        return result;
    }
}
