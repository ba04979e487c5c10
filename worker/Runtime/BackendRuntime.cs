using Proxy.Shared.Config;
using Proxy.Worker.Balancing;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Runtime;

/// <summary>
/// Run-time state of one `backend`: its servers, its counters, its `maxconn` queue and its balancing state
/// (<see cref="Picker"/>, which decides which servers are usable and picks one).
/// </summary>
internal sealed class BackendRuntime
{
    /// <summary>
    /// <paramref name="counts"/>: the instance's `maxconn` counts file (null: this process only), <paramref name="row"/>
    /// this worker's row in it, <paramref name="firstServerCount"/> the count of the first server (SharedCountIndex).
    /// </summary>
    public BackendRuntime(BackendConfig config, Proxy.Shared.Limits.SharedCounts? counts = null, int row = 0, int firstServerCount = 0,
        int loadCount = 0)
    {
        Config = config;
        NameBytes = System.Text.Encoding.UTF8.GetBytes(config.Name);
        Counters = new ProxyCounters(CounterKind.Backend, config.Name);
        var servers = new ServerRuntime[config.Servers.Count];
        bool dynamicLimits = false;
        for (int i = 0; i < servers.Length; i++)
        {
            servers[i] = new ServerRuntime(this, config.Servers[i], i, counts, row, firstServerCount + i);
            dynamicLimits |= servers[i].MinConn < servers[i].MaxConn;
        }
        Servers = servers;
        // beconn is counted only where a server's limit reads it (`minconn` below `maxconn`): no cost elsewhere.
        if (dynamicLimits) Load = new SharedCount(counts, row, loadCount, 0);
        Queue = new BackendQueue(this);
        Picker = new ServerPicker(this);
        Picker.Rebuild();
        Persistence = Worker.Persistence.BackendPersistence.Create(this);
        StickRules = Worker.Persistence.StickRules.Create(this);
        RdpPersistence = config.PersistRdpCookie is { } rdp ? new Worker.Persistence.RdpCookiePersistence(this, rdp) : null;
        Http = new Http.HttpProxyRuntime(config.Http, config.Name);
        StatsPage = config.StatsPage is { } stats ? new Http.StatsPageRuntime(stats) : null;
        TcpResponse = config.TcpResponseRules.Count > 0 ? new TcpResponseRuntime(config) : null;
        TcpContent = config.TcpContentRules.Count > 0 ? new TcpContentRuntime(config) : null;
        ConnectTimeoutMs = Milliseconds.From(config.Timeouts.Connect);
        ServerTimeoutMs = Milliseconds.From(config.Timeouts.Server);
        TunnelTimeoutMs = Milliseconds.From(config.Timeouts.Tunnel);
        HttpRequestTimeoutMs = Milliseconds.From(config.Timeouts.HttpRequest);
    }

    /// <summary>
    /// HAProxy's beconn across workers: the requests (mode http) or connections (mode tcp) in the backend, queued
    /// ones included, which `minconn`/`fullconn` scale a server's limit by; null when no server's limit is dynamic.
    /// </summary>
    internal SharedCount? Load { get; }

    /// <summary>A request or connection enters the backend (HAProxy's stream_set_backend): scur, smax, stot, and the load.</summary>
    public void Enter()
    {
        Counters.OpenSession();
        Load?.Enter();
    }

    /// <summary>It leaves the backend: the counts <see cref="Enter"/> took are given back.</summary>
    public void Leave()
    {
        Counters.CloseSession();
        Load?.Leave();
    }

    /// <summary>`mode http` settings: connection mode, forwardfor, header rules, errorfiles.</summary>
    public Http.HttpProxyRuntime Http { get; }
    /// <summary>`stats ...`: the statistics page answered for requests reaching this backend; null: none.</summary>
    public Http.StatsPageRuntime? StatsPage { get; }
    /// <summary>
    /// Whether this backend is <paramref name="fe"/> itself (a `listen` section): one proxy, whose http rules run once,
    /// as the frontend's (HAProxy runs a backend's rules only when it is not the frontend).
    /// </summary>
    public bool IsSectionOf(FrontendRuntime fe) => Config.Location == fe.Config.Location && Config.Name == fe.Config.Name;

    /// <summary>`tcp-response content` rules (mode tcp); null: none.</summary>
    public TcpResponseRuntime? TcpResponse { get; }

    /// <summary>The backend's `tcp-request content` rules (4.2); null: none. Not run for its own listen section's traffic (its frontend's ran them).</summary>
    public TcpContentRuntime? TcpContent { get; }
    /// <summary>`cookie`, `use-server` and their rules (worker/Persistence); null: the balancer alone chooses.</summary>
    public Worker.Persistence.BackendPersistence? Persistence { get; }
    /// <summary>`stick on|match|store-request|store-response` (worker/Persistence/StickRules.cs); null: none.</summary>
    public Worker.Persistence.StickRules? StickRules { get; }
    /// <summary>`persist rdp-cookie` (worker/Persistence/RdpCookiePersistence.cs); null: none.</summary>
    public Worker.Persistence.RdpCookiePersistence? RdpPersistence { get; }
    public long ConnectTimeoutMs { get; }
    public long ServerTimeoutMs { get; }
    /// <summary>`timeout tunnel`: replaces client and server timeouts once a connection is upgraded (WebSocket).</summary>
    public long TunnelTimeoutMs { get; }

    /// <summary>
    /// `timeout http-request` of this backend (0: none set): what a backend's `option http-buffer-request` waits with,
    /// as HAProxy's http_wait_for_request_body uses s->be->timeout.httpreq once the backend is set.
    /// </summary>
    public long HttpRequestTimeoutMs { get; }

    public BackendConfig Config { get; }

    /// <summary>The last response head refused here (`show errors`), replaced whole on the error path.</summary>
    public ErrorSnapshot? LastResponseError;
    /// <summary>Server `maxconn` permits and the queue of requests waiting for one (`timeout queue`).</summary>
    public BackendQueue Queue { get; }
    /// <summary>The usable servers and the `balance` algorithm over them (Balancing/ServerPicker.cs).</summary>
    public ServerPicker Picker { get; }
    public ProxyCounters Counters { get; }
    public ServerRuntime[] Servers { get; }
    public string Name => Config.Name;
    /// <summary>The name in UTF-8, encoded once (the `be_name` fetch and logs read it per request).</summary>
    public byte[] NameBytes { get; }

    /// <summary>chkdown, lastchg and downtime of the backend: transitions to and from having no usable server (HAProxy's backend figures).</summary>
    public Health.CheckStats CheckStats { get; } = new();

    /// <summary>Usable active servers, then usable backup servers, as counted by the picker's last rebuild.</summary>
    public int ActiveUsable { get; internal set; }
    public int BackupUsable { get; internal set; }
}
