using System.Net;
using Proxy.Shared.Config;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Balancing;

/// <summary>
/// The balancing of one backend: chooses which servers are usable (every usable active server, or, when none is
/// left, the first usable `backup` server, or every usable backup with `option allbackups`: HAProxy's rule), hands
/// that set to the `balance` algorithm's <see cref="IBalancer"/> whenever it changes, and picks a server for each
/// connection or request. The backend's state (usable counts, check figures) stays on <see cref="BackendRuntime"/>.
/// </summary>
internal sealed class ServerPicker
{
    private readonly BackendRuntime _be;
    private readonly Lock _rebuildLock = new();     // health-check path only, never per connection
    private readonly IBalancer _balancer;
    private readonly RequestHashKey? _requestKey;   // `balance uri|url_param|hdr` only
    private readonly byte[]? _rdpCookie;            // `balance rdp-cookie(NAME)` only
    private bool _rebuilt;                          // the first rebuild sets the initial state: not a transition

    public ServerPicker(BackendRuntime be)
    {
        _be = be;
        _balancer = CreateBalancer(be.Config);
        if (RequestHashKey.IsNeeded(be.Config.Balance)) _requestKey = new RequestHashKey(be.Config.Balance, be.Config.BalanceOptions);
        if (be.Config.Balance == BalanceAlgorithm.RdpCookie) _rdpCookie = System.Text.Encoding.ASCII.GetBytes(be.Config.BalanceOptions.RdpCookie ?? "mstshash");
    }

    /// <summary>Returns the balancer of <paramref name="config"/>'s `balance` line; throws NotSupportedException for an unknown one.</summary>
    public static IBalancer CreateBalancer(BackendConfig config) => config.Balance switch
    {
        BalanceAlgorithm.RoundRobin => new RoundRobinBalancer(),
        BalanceAlgorithm.StaticRoundRobin => new StaticRoundRobinBalancer(),
        BalanceAlgorithm.LeastConn => new LeastConnBalancer(),
        BalanceAlgorithm.First => new FirstBalancer(),
        BalanceAlgorithm.Source => new SourceBalancer(config.BalanceOptions.HashMethod, config.BalanceOptions.HashBalanceFactor),
        BalanceAlgorithm.Random => new RandomBalancer(config.BalanceOptions.RandomDraws),
        BalanceAlgorithm.Uri or BalanceAlgorithm.UrlParam or BalanceAlgorithm.Header or BalanceAlgorithm.RdpCookie
            => new RequestHashBalancer(config.BalanceOptions),
        _ => throw new NotSupportedException($"balance algorithm '{config.Balance}' is not supported by the engine"),
    };

    /// <summary>Picks a server for a new connection (null when none is usable) and counts lbtot.</summary>
    public ServerRuntime? Pick(IPEndPoint? client, ServerRuntime? exclude) => Count(_balancer.Pick(new PickContext(client), exclude));

    /// <summary>
    /// Picks a server for the HTTP <paramref name="request"/> (null when none is usable) and counts lbtot:
    /// `balance uri|url_param|hdr` hash the request's key, found in the parsed head without copying it.
    /// </summary>
    public ServerRuntime? Pick(IPEndPoint? client, Http.HttpHead? request, ServerRuntime? exclude)
    {
        if (_requestKey is null || request is null) return Pick(client, exclude);
        bool hasKey = _requestKey.TryGet(request, out var key);
        return Count(_balancer.Pick(new PickContext(client, key, hasKey), exclude));
    }

    /// <summary>
    /// A pick that may hash the client's first bytes: `balance rdp-cookie` (4.2) hashes the RDP cookie of
    /// <paramref name="payload"/> (what `tcp-request inspect-delay` buffered); without one, round robin (HAProxy's
    /// get_server_rch returns no server and the caller falls back). Other algorithms: <see cref="Pick(IPEndPoint?, Http.HttpHead?, ServerRuntime?)"/>.
    /// </summary>
    public ServerRuntime? Pick(IPEndPoint? client, Http.HttpHead? request, ReadOnlySpan<byte> payload, ServerRuntime? exclude)
    {
        if (_rdpCookie is null) return Pick(client, request, exclude);
        bool hasKey = Samples.RdpCookie.Find(payload, _rdpCookie, out var key) == Samples.RdpCookie.Result.Found && key.Length > 0;
        return Count(_balancer.Pick(new PickContext(client, key, hasKey), exclude));
    }

    private ServerRuntime? Count(ServerRuntime? s)
    {
        if (s is not null)
        {
            ProxyCounters.Increment(ref s.Counters.lbtot);
            ProxyCounters.Increment(ref _be.Counters.lbtot);
        }
        return s;
    }

    /// <summary>
    /// Recomputes the usable set and hands it to the balancer; called at start and on health changes.
    /// <paramref name="restored"/>: a state known from before this process (a respawn), not a transition to count.
    /// </summary>
    public void Rebuild(bool restored = false)
    {
        lock (_rebuildLock)
        {
            int active = 0, backup = 0;
            ServerRuntime? firstBackup = null;
            foreach (var s in _be.Servers)
            {
                if (!s.IsUsable) continue;
                if (s.Config.Backup) { backup++; firstBackup ??= s; }
                else active++;
            }
            ServerRuntime[] usable;
            if (active > 0)
            {
                usable = new ServerRuntime[active];
                int k = 0;
                foreach (var s in _be.Servers)
                    if (s.IsUsable && !s.Config.Backup) usable[k++] = s;
            }
            else if (_be.Config.AllBackups && backup > 1)
            {
                usable = new ServerRuntime[backup];
                int k = 0;
                foreach (var s in _be.Servers)
                    if (s.IsUsable && s.Config.Backup) usable[k++] = s;
            }
            else
            {
                usable = firstBackup is null ? [] : [firstBackup];
            }
            // The backend is DOWN while no server is usable; HAProxy counts those transitions, not the servers'.
            bool wasUp = _rebuilt && _be.ActiveUsable + _be.BackupUsable > 0, isUp = active + backup > 0;
            if (_rebuilt && wasUp != isUp)
            {
                if (restored) _be.CheckStats.Restored(isUp);
                else _be.CheckStats.Changed(isUp);
            }
            _rebuilt = true;
            _be.ActiveUsable = active;
            _be.BackupUsable = backup;
            _balancer.Rebuild(usable);
        }
        // A server that came up (or back from drain/maint, or got a weight) may take queued requests now.
        _be.Queue.Dispatch(null);
    }
}
