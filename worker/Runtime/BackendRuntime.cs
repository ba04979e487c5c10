using System.Net.Sockets;
using Proxy.Shared.Config;
using Proxy.Worker.Balancing;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Runtime;

/// <summary>
/// Run-time state of one `backend`: its servers, its counters and its balancer. Chooses which servers are
/// usable: every usable active server, or, when none is left, the first usable `backup` server, or every usable
/// backup with `option allbackups` (HAProxy's rule).
/// </summary>
internal sealed class BackendRuntime
{
    private readonly Lock _rebuildLock = new();   // health-check path only, never per connection
    private readonly IBalancer _balancer;
    private readonly RequestHashKey? _requestKey;   // `balance uri|url_param|hdr` only
    private bool _rebuilt;                        // the first rebuild sets the initial state: not a transition

    /// <summary><paramref name="workerCount"/>: how many workers share each server's `maxconn` (ServerRuntime.MaxConn).</summary>
    public BackendRuntime(BackendConfig config, int workerCount = 1)
    {
        Config = config;
        Counters = new ProxyCounters(CounterKind.Backend, config.Name);
        _balancer = CreateBalancer(config);
        if (RequestHashKey.IsNeeded(config.Balance)) _requestKey = new RequestHashKey(config.Balance, config.BalanceOptions);
        var servers = new ServerRuntime[config.Servers.Count];
        for (int i = 0; i < servers.Length; i++) servers[i] = new ServerRuntime(this, config.Servers[i], i, workerCount);
        Servers = servers;
        Queue = new BackendQueue(this);
        Rebuild();
        Http = new Http.HttpProxyRuntime(config.Http);
        ConnectTimeoutMs = Milliseconds.From(config.Timeouts.Connect);
        ServerTimeoutMs = Milliseconds.From(config.Timeouts.Server);
        TunnelTimeoutMs = Milliseconds.From(config.Timeouts.Tunnel);
    }

    /// <summary>`mode http` settings: connection mode, forwardfor, header rules, errorfiles.</summary>
    public Http.HttpProxyRuntime Http { get; }
    public long ConnectTimeoutMs { get; }
    public long ServerTimeoutMs { get; }
    /// <summary>`timeout tunnel`: replaces client and server timeouts once a connection is upgraded (WebSocket).</summary>
    public long TunnelTimeoutMs { get; }

    public BackendConfig Config { get; }
    /// <summary>Server `maxconn` permits and the queue of requests waiting for one (`timeout queue`).</summary>
    public BackendQueue Queue { get; }
    public ProxyCounters Counters { get; }
    public ServerRuntime[] Servers { get; }
    public string Name => Config.Name;

    /// <summary>chkdown, lastchg and downtime of the backend: transitions to and from having no usable server (HAProxy's backend figures).</summary>
    public Health.CheckStats CheckStats { get; } = new();

    /// <summary>Usable active servers, then usable backup servers, as counted by the last rebuild.</summary>
    public int ActiveUsable { get; private set; }
    public int BackupUsable { get; private set; }

    /// <summary>Returns the balancer of <paramref name="config"/>'s `balance` line; throws NotSupportedException for an unknown one.</summary>
    public static IBalancer CreateBalancer(BackendConfig config) => config.Balance switch
    {
        BalanceAlgorithm.RoundRobin => new RoundRobinBalancer(),
        BalanceAlgorithm.StaticRoundRobin => new StaticRoundRobinBalancer(),
        BalanceAlgorithm.LeastConn => new LeastConnBalancer(),
        BalanceAlgorithm.First => new FirstBalancer(),
        BalanceAlgorithm.Source => new SourceBalancer(config.BalanceOptions.HashMethod),
        BalanceAlgorithm.Random => new RandomBalancer(config.BalanceOptions.RandomDraws),
        BalanceAlgorithm.Uri or BalanceAlgorithm.UrlParam or BalanceAlgorithm.Header => new RequestHashBalancer(config.BalanceOptions),
        _ => throw new NotSupportedException($"balance algorithm '{config.Balance}' is not supported by the engine"),
    };

    /// <summary>Picks a server for a new connection (null when none is usable) and counts lbtot.</summary>
    public ServerRuntime? Pick(Socket client, ServerRuntime? exclude) => Count(_balancer.Pick(new PickContext(client), exclude));

    /// <summary>
    /// Picks a server for the HTTP <paramref name="request"/> (null when none is usable) and counts lbtot:
    /// `balance uri|url_param|hdr` hash the request's key, found in the parsed head without copying it.
    /// </summary>
    public ServerRuntime? Pick(Socket client, Http.HttpHead? request, ServerRuntime? exclude)
    {
        if (_requestKey is null || request is null) return Pick(client, exclude);
        bool hasKey = _requestKey.TryGet(request, out var key);
        return Count(_balancer.Pick(new PickContext(client, key, hasKey), exclude));
    }

    private ServerRuntime? Count(ServerRuntime? s)
    {
        if (s is not null)
        {
            ProxyCounters.Increment(ref s.Counters.lbtot);
            ProxyCounters.Increment(ref Counters.lbtot);
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
            foreach (var s in Servers)
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
                foreach (var s in Servers)
                    if (s.IsUsable && !s.Config.Backup) usable[k++] = s;
            }
            else if (Config.AllBackups && backup > 1)
            {
                usable = new ServerRuntime[backup];
                int k = 0;
                foreach (var s in Servers)
                    if (s.IsUsable && s.Config.Backup) usable[k++] = s;
            }
            else
            {
                usable = firstBackup is null ? [] : [firstBackup];
            }
            // The backend is DOWN while no server is usable; HAProxy counts those transitions, not the servers'.
            bool wasUp = _rebuilt && ActiveUsable + BackupUsable > 0, isUp = active + backup > 0;
            if (_rebuilt && wasUp != isUp)
            {
                if (restored) CheckStats.Restored(isUp);
                else CheckStats.Changed(isUp);
            }
            _rebuilt = true;
            ActiveUsable = active;
            BackupUsable = backup;
            _balancer.Rebuild(usable);
        }
        // A server that came up (or back from drain/maint, or got a weight) may take queued requests now.
        Queue.Dispatch(null);
    }
}
