using System.Net;
using System.Net.Sockets;

namespace Proxy.Shared.Config;

// Service discovery by DNS (doc/configuration.txt 5.3 "Server IP address resolution using DNS"): the `resolvers`
// sections, and what a `server` or `server-template` line asks of them. The supervisor alone queries the name
// servers (supervisor/Dns) and pushes each address change to every worker.

/// <summary>One `nameserver ID [udp@|tcp@]ADDRESS[:PORT]` line (5.3.2); the port defaults to 53.</summary>
public sealed record NameserverConfig(string Name, IPEndPoint EndPoint, bool Tcp, SourceLocation Location);

/// <summary>
/// `hold STATUS PERIOD` (5.3.2): how long the last valid answer keeps serving after a query ends in that status
/// (nx, other, refused, timeout), how long a valid answer is reused (valid), and how long an address missing from
/// a valid answer is kept (obsolete). HAProxy 2.6's defaults: 30s, 10s and 0s.
/// </summary>
public sealed record ResolversHold(TimeSpan Nx, TimeSpan Other, TimeSpan Refused, TimeSpan Timeout, TimeSpan Valid, TimeSpan Obsolete)
{
    public static ResolversHold Default { get; } = new(
        TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30),
        TimeSpan.FromSeconds(10), TimeSpan.Zero);
}

/// <summary>One `resolvers NAME` section (5.3.2).</summary>
public sealed record ResolversConfig(string Name, SourceLocation Location)
{
    public IReadOnlyList<NameserverConfig> Nameservers { get; init; } = [];
    /// <summary>`resolve_retries N`: queries sent before the resolution counts as timed out (default 3).</summary>
    public int ResolveRetries { get; init; } = 3;
    /// <summary>`timeout resolve T`: the time between two resolutions of a name (default 1s).</summary>
    public TimeSpan ResolveInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>`timeout retry T`: how long one query waits for its answer before the next try (default 1s).</summary>
    public TimeSpan RetryTimeout { get; init; } = TimeSpan.FromSeconds(1);
    public ResolversHold Hold { get; init; } = ResolversHold.Default;
    /// <summary>`accepted_payload_size N` (512-65535): the EDNS0 UDP payload size announced (RFC 6891 6.2.3); 512: no EDNS0.</summary>
    public int AcceptedPayloadSize { get; init; } = 512;
}

/// <summary>`resolve-opts` (5.2): duplicate addresses and SRV weights.</summary>
[Flags]
public enum ResolveOptions { None = 0, AllowDupIp = 1, IgnoreWeight = 2, PreventDupIp = 4 }

/// <summary>
/// What a server line asks of DNS at run time: `resolvers NAME` with the host name written on the line (`_svc._proto.name`
/// asks for SRV records), `resolve-prefer`, `resolve-net`, `resolve-opts`. A `server-template` slot also carries its
/// template's prefix, so the servers sharing one answer are found again.
/// </summary>
public sealed record ServerResolution(string Resolvers, string Fqdn)
{
    /// <summary>`resolve-prefer ipv4|ipv6`: the family queried first (HAProxy's default is ipv6).</summary>
    public AddressFamily Prefer { get; init; } = AddressFamily.InterNetworkV6;
    /// <summary>`resolve-net NET,...`: among the answers, addresses in these networks come first.</summary>
    public IReadOnlyList<IPNetwork> PreferredNetworks { get; init; } = [];
    public ResolveOptions Options { get; init; }
    /// <summary>The `server-template` this server was made from; null for a `server` line.</summary>
    public string? Template { get; init; }
    /// <summary>An SRV name (`_service._proto.name`, RFC 2782): answers give the port and the weight too.</summary>
    public bool IsSrv => Fqdn.StartsWith('_');
}
