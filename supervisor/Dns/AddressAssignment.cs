using System.Net;
using Proxy.Shared.Config;

namespace Proxy.Supervisor.Dns;

/// <summary>
/// Gives the servers that share one name (a `server` line, or the servers of one `server-template`) their addresses
/// from the current answers, as HAProxy's snr_update_srv_status / snr_resolution_cb do: a server whose address is
/// still among the answers keeps it (so a `set server addr` to one of them stays, and traffic does not move for
/// nothing); the others take the first answers no other server holds (`resolve-opts allow-dup-ip` lets them share);
/// a server left without one gets 0.0.0.0, resolution maintenance. Answers in a `resolve-net` network come first.
/// </summary>
public static class AddressAssignment
{
    /// <summary>
    /// <paramref name="current"/>: each server's address now (0.0.0.0: none). Returns each server's new address, and
    /// for SRV answers its weight (HAProxy: SRV weight / 256 + 1), null when the answer carried none.
    /// </summary>
    public static (IPEndPoint Address, int? Weight)[] Assign(IReadOnlyList<IPEndPoint> current, IReadOnlyList<ResolvedTarget> answers,
        ServerResolution resolution)
    {
        var ordered = Order(answers, resolution.PreferredNetworks);
        bool allowDup = (resolution.Options & ResolveOptions.AllowDupIp) != 0;
        var result = new (IPEndPoint Address, int? Weight)[current.Count];
        var filled = new bool[current.Count];
        // What one server takes: its address, and for an SRV answer its record (one server per record).
        var taken = new HashSet<string>(StringComparer.Ordinal);
        bool Take(ResolvedTarget a, IPEndPoint ep)
        {
            if (allowDup) return true;
            string address = ep.ToString(), record = a.Host is null ? address : $"{a.Host}:{ep.Port}";
            if (taken.Contains(address) || taken.Contains(record)) return false;
            taken.Add(address);
            taken.Add(record);
            return true;
        }
        // Pass 1: servers whose address is still answered keep it.
        for (int i = 0; i < current.Count; i++)
        {
            var cur = current[i];
            if (cur.Address.Equals(IPAddress.Any)) continue;
            foreach (var a in ordered)
            {
                var ep = EndPointOf(a, cur.Port);
                if (!ep.Equals(cur) || !Take(a, ep)) continue;
                result[i] = (ep, WeightOf(a));
                filled[i] = true;
                break;
            }
        }
        // Pass 2: the others take the first answer nobody holds.
        for (int i = 0; i < current.Count; i++)
        {
            if (filled[i]) continue;
            result[i] = (new IPEndPoint(IPAddress.Any, current[i].Port), null);
            foreach (var a in ordered)
            {
                var ep = EndPointOf(a, current[i].Port);
                if (!Take(a, ep)) continue;
                result[i] = (ep, WeightOf(a));
                break;
            }
        }
        return result;
    }

    private static IPEndPoint EndPointOf(ResolvedTarget a, int port) => new(a.Address, a.Port ?? port);

    private static int? WeightOf(ResolvedTarget a) => a.Weight is { } w ? Math.Min(w / 256 + 1, 256) : null;

    private static List<ResolvedTarget> Order(IReadOnlyList<ResolvedTarget> answers, IReadOnlyList<IPNetwork> networks)
    {
        var list = new List<ResolvedTarget>(answers.Count);
        if (networks.Count > 0)
            foreach (var a in answers)
                if (networks.Any(n => n.Contains(a.Address))) list.Add(a);
        foreach (var a in answers)
            if (!list.Contains(a)) list.Add(a);
        return list;
    }
}
