using System.Net;
using System.Net.Sockets;

namespace Proxy.Shared.Config;

/// <summary>A server line's DNS options while parsing (a `default-server` line sets them for the lines after it).</summary>
internal sealed record ServerResolutionDraft(string? Resolvers, IReadOnlyList<string> InitAddr, AddressFamily Prefer,
    IReadOnlyList<IPNetwork> Networks, ResolveOptions Options)
{
    /// <summary>HAProxy's defaults: `init-addr last,libc`, `resolve-prefer ipv6`, no resolvers.</summary>
    public static ServerResolutionDraft Default { get; } = new(null, ["last", "libc"], AddressFamily.InterNetworkV6, [], ResolveOptions.None);
}

/// <summary>
/// The server options of service discovery (doc/configuration.txt 5.2): `resolvers NAME`, `resolve-prefer ipv4|ipv6`,
/// `resolve-net NET[,NET...]`, `resolve-opts allow-dup-ip|ignore-weight|prevent-dup-ip[,...]` and
/// `init-addr METHOD[,METHOD...]` with the methods `last` (the server-state-file's address: there is none here, so
/// it finds nothing and the next method runs, as in HAProxy without `server-state-file`), `libc` (resolve now, in
/// the supervisor), `none` (start without an address, in maintenance) and an IP address.
/// </summary>
internal static class ServerResolutionOptions
{
    public static bool IsOption(string option) => option is "resolvers" or "resolve-prefer" or "resolve-net" or "resolve-opts" or "init-addr";

    /// <summary>Applies one option; null after reporting an error.</summary>
    public static ServerResolutionDraft? Parse(ConfigDiagnostics diag, int n, string keyword, string option, string value, ServerResolutionDraft d)
    {
        var name = $"{keyword} {option}";
        switch (option)
        {
            case "resolvers":
                return d with { Resolvers = value };
            case "resolve-prefer":
                if (value == "ipv4") return d with { Prefer = AddressFamily.InterNetwork };
                if (value == "ipv6") return d with { Prefer = AddressFamily.InterNetworkV6 };
                diag.Error(n, $"'{name}': expected ipv4 or ipv6, got {ConfigDiagnostics.Quote(value)}");
                return null;
            case "resolve-net":
            {
                var nets = new List<IPNetwork>();
                foreach (var item in value.Split(','))
                {
                    if (!IPNetwork.TryParse(item, out var net))
                    {
                        diag.Error(n, $"'{name}': expected networks like 10.0.0.0/8, got {ConfigDiagnostics.Quote(item)}");
                        return null;
                    }
                    nets.Add(net);
                }
                return d with { Networks = nets };
            }
            case "resolve-opts":
            {
                var opts = ResolveOptions.None;
                foreach (var item in value.Split(','))
                {
                    switch (item)
                    {
                        case "allow-dup-ip": opts |= ResolveOptions.AllowDupIp; break;
                        case "ignore-weight": opts |= ResolveOptions.IgnoreWeight; break;
                        case "prevent-dup-ip": opts |= ResolveOptions.PreventDupIp; break;
                        default:
                            diag.Error(n, $"'{name}': expected allow-dup-ip, ignore-weight or prevent-dup-ip, got {ConfigDiagnostics.Quote(item)}");
                            return null;
                    }
                }
                return d with { Options = opts };
            }
            default: // init-addr
            {
                var methods = value.Split(',');
                foreach (var m in methods)
                {
                    if (m is "last" or "libc" or "none" || IPAddress.TryParse(m, out _)) continue;
                    diag.Error(n, $"'{name}': expected last, libc, none or an IP address, got {ConfigDiagnostics.Quote(m)}");
                    return null;
                }
                return d with { InitAddr = methods };
            }
        }
    }

    /// <summary>
    /// The resolver a server line's host goes through: `init-addr`'s methods in order; `none` gives
    /// <see cref="AddressParser.Unresolved"/>. An SRV name has no address before its first answer (HAProxy resolves
    /// SRV records only through `resolvers`).
    /// </summary>
    public static HostResolver InitialResolver(ServerResolutionDraft d, HostResolver libc) => (host, family) =>
    {
        if (d.Resolvers is not null && host.StartsWith('_')) return AddressParser.Unresolved;
        foreach (var m in d.InitAddr)
        {
            switch (m)
            {
                case "last": continue;                    // no server-state-file here: nothing to take
                case "libc":
                    if (libc(host, family) is { } found) return found;
                    continue;
                case "none": return AddressParser.Unresolved;
                default: return IPAddress.Parse(m);
            }
        }
        return null;
    };

    /// <summary>What the server asks of DNS at run time, or null when it has a fixed address (no `resolvers`, or a literal).</summary>
    public static ServerResolution? Build(ConfigDiagnostics diag, int n, ServerResolutionDraft d, string host, string? template)
    {
        if (d.Resolvers is null) return null;
        if (IPAddress.TryParse(host, out _))
        {
            diag.Warning(n, $"'resolvers {d.Resolvers}' has no effect on a server whose address is the literal {ConfigDiagnostics.Quote(host)}");
            return null;
        }
        return new ServerResolution(d.Resolvers, host)
        {
            Prefer = d.Prefer,
            PreferredNetworks = d.Networks,
            Options = d.Options,
            Template = template,
        };
    }

    /// <summary>Every `resolvers NAME` on a server line names a `resolvers` section of the file.</summary>
    public static void CheckReferences(ConfigDiagnostics diag, ProxyConfig? config)
    {
        if (config is null) return;
        foreach (var be in config.Backends)
            foreach (var s in be.Servers)
                if (s.Resolution is { } r && !config.Resolvers.Any(x => x.Name == r.Resolvers))
                    diag.Error(s.Location, $"'server {s.Name}': no resolvers section named {ConfigDiagnostics.Quote(r.Resolvers)}");
    }
}
