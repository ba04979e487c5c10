using System.Net;
using System.Net.Sockets;
using Proxy.Shared.Config;

namespace Proxy.Supervisor.Dns;

/// <summary>How a resolution ended, by the names of `hold STATUS` (5.3.2) and `show resolvers`.</summary>
public enum ResolutionStatus { Valid, Nx, Refused, Timeout, Other }

/// <summary>
/// One usable answer: an address, and for SRV records the port, the weight and the target host whose address it is
/// (one server per SRV record, whichever of the target's addresses it has).
/// </summary>
public readonly record struct ResolvedTarget(IPAddress Address, int? Port, int? Weight, string? Host = null);

/// <summary>
/// Asks one `resolvers` section's name servers about one name (HAProxy's resolv_resolution): A or AAAA records in the
/// preferred family first, then the other family when the first has none; SRV records with their targets' addresses
/// from the additional section (RFC 2782), or asked for when the server left them out. Each try goes to every name
/// server in turn and waits `timeout retry`; `resolve_retries` tries end in a timeout.
/// </summary>
public sealed class NameResolution(ResolversConfig section, IReadOnlyList<NameserverClient> clients)
{
    public ResolversConfig Section { get; } = section;
    public IReadOnlyList<NameserverClient> Clients { get; } = clients;

    /// <summary>Resolves <paramref name="fqdn"/>; the answers are in preference order (the caller still applies resolve-net).</summary>
    public async Task<(ResolutionStatus Status, List<ResolvedTarget> Targets, NameserverClient? From)> ResolveAsync(
        string fqdn, bool srv, AddressFamily prefer, CancellationToken stop)
    {
        if (srv)
        {
            var (status, response, from) = await QueryAsync(fqdn, DnsType.Srv, stop).ConfigureAwait(false);
            var targets = new List<ResolvedTarget>();
            if (status != ResolutionStatus.Valid) return (status, targets, from);
            var records = response!.Answers.Where(r => r.Type == DnsType.Srv).OrderBy(r => r.Priority).ToList();
            foreach (var r in records)
            {
                var addresses = Additional(response.Additional, r.Target!, prefer);
                if (addresses.Count == 0)
                    addresses = (await AddressesAsync(r.Target!, prefer, stop).ConfigureAwait(false)).Targets.Select(t => t.Address).ToList();
                foreach (var address in addresses) targets.Add(new ResolvedTarget(address, r.Port, r.Weight, r.Target));
            }
            return (records.Count == 0 ? ResolutionStatus.Other : ResolutionStatus.Valid, targets, from);
        }
        return await AddressesAsync(fqdn, prefer, stop).ConfigureAwait(false);
    }

    private async Task<(ResolutionStatus Status, List<ResolvedTarget> Targets, NameserverClient? From)> AddressesAsync(
        string fqdn, AddressFamily prefer, CancellationToken stop)
    {
        var first = prefer == AddressFamily.InterNetwork ? DnsType.A : DnsType.Aaaa;
        var second = first == DnsType.A ? DnsType.Aaaa : DnsType.A;
        var (status, response, from) = await QueryAsync(fqdn, first, stop).ConfigureAwait(false);
        var targets = Addresses(response, first);
        if (targets.Count == 0 && status is ResolutionStatus.Valid or ResolutionStatus.Other)
        {
            // No record of the preferred family: the other one (HAProxy's resolve-prefer falls back the same way).
            var (status2, response2, from2) = await QueryAsync(fqdn, second, stop).ConfigureAwait(false);
            targets = Addresses(response2, second);
            if (targets.Count > 0 || status2 != ResolutionStatus.Valid) (status, from) = (status2, from2);
        }
        // A valid answer without any address counts as HAProxy's "no expected record": `hold other`.
        if (status == ResolutionStatus.Valid && targets.Count == 0) status = ResolutionStatus.Other;
        return (status, targets, from);
    }

    private static List<ResolvedTarget> Addresses(DnsResponse? response, DnsType type)
    {
        var list = new List<ResolvedTarget>();
        if (response is null) return list;
        foreach (var r in response.Answers)
            if (r.Type == type && r.Address is { } a && !list.Exists(t => t.Address.Equals(a))) list.Add(new ResolvedTarget(a, null, null));
        return list;
    }

    /// <summary>The target's addresses given in the additional section, the preferred family first.</summary>
    private static List<IPAddress> Additional(IReadOnlyList<DnsRecord> records, string name, AddressFamily prefer)
    {
        var list = new List<IPAddress>();
        foreach (var r in records)
            if (r.Address is { } a && r.Name == name && !list.Contains(a)) list.Add(a);
        return [.. list.OrderBy(a => a.AddressFamily == prefer ? 0 : 1)];
    }

    /// <summary>One question, asked of each name server in turn, for up to `resolve_retries` rounds.</summary>
    private async Task<(ResolutionStatus, DnsResponse?, NameserverClient?)> QueryAsync(string name, DnsType type, CancellationToken stop)
    {
        for (int attempt = 0; attempt < Section.ResolveRetries; attempt++)
        {
            foreach (var client in Clients)
            {
                var response = await client.QueryAsync(name, type, Section.AcceptedPayloadSize, Section.RetryTimeout, stop).ConfigureAwait(false);
                if (response is null) continue;
                var c = client.Counters;
                if (response.Answers.Any(r => r.Type == DnsType.Cname)) Interlocked.Increment(ref c.Cname);
                switch (response.Rcode)
                {
                    case DnsRcode.NoError:
                        Interlocked.Increment(ref c.Valid);
                        return (ResolutionStatus.Valid, response, client);
                    case DnsRcode.NxDomain:
                        Interlocked.Increment(ref c.Nx);
                        Interlocked.Increment(ref c.AnyErr);
                        return (ResolutionStatus.Nx, response, client);
                    case DnsRcode.Refused:
                        Interlocked.Increment(ref c.Refused);
                        Interlocked.Increment(ref c.AnyErr);
                        return (ResolutionStatus.Refused, response, client);
                    default:
                        Interlocked.Increment(ref c.Other);
                        Interlocked.Increment(ref c.AnyErr);
                        return (ResolutionStatus.Other, response, client);
                }
            }
        }
        return (ResolutionStatus.Timeout, null, null);
    }
}
