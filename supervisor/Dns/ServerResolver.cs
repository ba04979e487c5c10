using System.Net;
using NLog;
using Proxy.Shared.Config;

namespace Proxy.Supervisor.Dns;

/// <summary>
/// Service discovery in one place (doc/configuration.txt 5.3): the supervisor resolves every name of every server
/// that has `resolvers`, every `timeout resolve`, re-asking a name once its last resolution is `hold valid` old
/// (HAProxy's resolvers task), and pushes each address change to every worker at once, as `set server BE/SRV addr`
/// does (ServerSettings, the `server` channel message), so a new or respawned worker starts with it too. After a
/// failed resolution the last valid answers keep serving for `hold nx|refused|timeout|other`; an address missing
/// from a valid answer stays for `hold obsolete`. The config in force is re-read at each round, so a reload is
/// followed; the answers held for a name that is still there are kept.
/// </summary>
public sealed class ServerResolver : IAsyncDisposable
{
    private static readonly Logger Log = LogManager.GetLogger("resolvers");
    private static readonly TimeSpan IdleRound = TimeSpan.FromSeconds(1);

    private readonly Supervisor _supervisor;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, NameResolution> _sections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NameState> _names = new(StringComparer.Ordinal);
    private ProxyConfig? _config;
    private Task _loop = Task.CompletedTask;

    public ServerResolver(Supervisor supervisor) => _supervisor = supervisor;

    /// <summary>The name servers of each `resolvers` section in force, with their counters (`show resolvers`).</summary>
    public IReadOnlyList<NameResolution> Sections
    {
        get { lock (_sections) return [.. _sections.Values]; }
    }

    public void Start() => _loop = Task.Run(RunAsync);

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var round = IdleRound;
            try
            {
                Sync(_supervisor.Config);
                var due = new List<Task>();
                long now = Environment.TickCount64;
                foreach (var name in _names.Values)
                {
                    if (name.Section.Section.ResolveInterval < round) round = name.Section.Section.ResolveInterval;
                    if (name.ResolvedAt is { } at && now - at < (long)name.Section.Section.Hold.Valid.TotalMilliseconds) continue;
                    due.Add(ResolveAsync(name));
                }
                await Task.WhenAll(due).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.Error($"resolution round failed: {e.Message}");
            }
            try
            {
                await Task.Delay(round, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Follows the config in force: its sections (counters kept for a name server still there) and its names.</summary>
    private void Sync(ProxyConfig config)
    {
        if (ReferenceEquals(config, _config)) return;
        _config = config;
        lock (_sections)
        {
            var old = new Dictionary<string, NameResolution>(_sections, StringComparer.Ordinal);
            _sections.Clear();
            foreach (var r in config.Resolvers)
            {
                var clients = new List<NameserverClient>();
                foreach (var ns in r.Nameservers)
                {
                    var kept = old.TryGetValue(r.Name, out var o) ? o.Clients.FirstOrDefault(c => c.Config.Name == ns.Name && c.Config.EndPoint.Equals(ns.EndPoint) && c.Config.Tcp == ns.Tcp) : null;
                    clients.Add(new NameserverClient(ns, kept?.Counters));
                }
                _sections[r.Name] = new NameResolution(r, clients);
            }
        }
        var names = new Dictionary<string, NameState>(StringComparer.Ordinal);
        foreach (var be in config.Backends)
        {
            foreach (var s in be.Servers)
            {
                if (s.Resolution is not { } res || !_sections.TryGetValue(res.Resolvers, out var section)) continue;
                string key = $"{be.Name}/{res.Template ?? s.Name} {res.Resolvers} {res.Fqdn}";
                if (!names.TryGetValue(key, out var state))
                {
                    state = new NameState(key, be.Name, res, section);
                    if (_names.TryGetValue(key, out var previous)) state.KeepFrom(previous);
                    names[key] = state;
                }
                state.Servers.Add(s);
            }
        }
        _names.Clear();
        foreach (var (k, v) in names) _names[k] = v;
    }

    /// <summary>One resolution of one name, the hold rules, then the servers' new addresses pushed to the workers.</summary>
    private async Task ResolveAsync(NameState name)
    {
        var res = name.Resolution;
        var (status, targets, from) = await name.Section.ResolveAsync(res.Fqdn, res.IsSrv, res.Prefer, _stop.Token).ConfigureAwait(false);
        long now = Environment.TickCount64;
        name.ResolvedAt = now;
        name.Status = status;
        var hold = name.Section.Section.Hold;
        if (status == ResolutionStatus.Valid)
        {
            name.ValidAt = now;
            foreach (var t in targets) name.Seen[t] = now;
            long obsolete = (long)hold.Obsolete.TotalMilliseconds;
            foreach (var t in name.Seen.Keys.ToList())
                if (name.Seen[t] < now && now - name.Seen[t] >= obsolete) name.Seen.Remove(t);
        }
        else
        {
            var period = status switch
            {
                ResolutionStatus.Nx => hold.Nx,
                ResolutionStatus.Refused => hold.Refused,
                ResolutionStatus.Timeout => hold.Timeout,
                _ => hold.Other,
            };
            if (name.ValidAt is not { } valid || now - valid >= (long)period.TotalMilliseconds) name.Seen.Clear();
        }
        // The freshest answers first, in their order; then those kept by `hold obsolete`.
        var answers = targets.Where(name.Seen.ContainsKey).Concat(name.Seen.Keys.Where(t => !targets.Contains(t))).ToList();

        var current = new List<IPEndPoint>(name.Servers.Count);
        foreach (var s in name.Servers)
            current.Add(_supervisor.Servers.Get($"{name.Backend}/{s.Name}")?.Address ?? s.EndPoint);
        var next = AddressAssignment.Assign(current, answers, res);
        for (int i = 0; i < next.Length; i++)
        {
            var s = name.Servers[i];
            string target = $"{name.Backend}/{s.Name}";
            int? weight = (res.Options & ResolveOptions.IgnoreWeight) == 0 ? next[i].Weight : null;
            int currentWeight = _supervisor.Servers.Get(target)?.Weight ?? s.Weight;
            if (next[i].Address.Equals(current[i]) && (weight is null || weight == currentWeight)) continue;
            if (!next[i].Address.Equals(current[i]))
                Log.Info(next[i].Address.Address.Equals(IPAddress.Any)
                    ? $"{target} is going into maintenance (no address from DNS: {status})"
                    : $"{target} changed its IP from {current[i].Address} to {next[i].Address.Address} by DNS ({res.Fqdn})");
            if (from is not null) Interlocked.Increment(ref from.Counters.Update);
            if (await _supervisor.SetServerAsync(target, null, weight, address: next[i].Address).ConfigureAwait(false) is { } error)
                Log.Warn($"{target}: DNS change not applied: {error}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    /// <summary>What the resolver holds for one name: its servers, and the answers still in force with when each was last seen.</summary>
    private sealed class NameState(string key, string backend, ServerResolution resolution, NameResolution section)
    {
        public string Key { get; } = key;
        public string Backend { get; } = backend;
        public ServerResolution Resolution { get; } = resolution;
        public NameResolution Section { get; } = section;
        public List<ServerConfig> Servers { get; } = [];
        public Dictionary<ResolvedTarget, long> Seen { get; private set; } = [];
        public long? ResolvedAt { get; set; }
        public long? ValidAt { get; set; }
        public ResolutionStatus? Status { get; set; }

        public void KeepFrom(NameState previous)
        {
            Seen = previous.Seen;
            ValidAt = previous.ValidAt;
            Status = previous.Status;
        }
    }
}
