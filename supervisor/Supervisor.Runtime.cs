using Proxy.Shared.Config;
using Proxy.Shared.Control;

namespace Proxy.Supervisor;

// Run-time changes the runtime API and the stats page's admin form ask for: each is sent to every worker of the
// current generation and kept for the workers started later (respawns, and the next generation until a reload).
public sealed partial class Supervisor
{
    // Moves the runtime settings kept for generation `from` to generation `to` (caller holds _gate).
    private void CarryRuntimeSettings(int from, int to)
    {
        if (_runtimeGeneration == from) _runtimeGeneration = to;
        if (_compressionRate is { } rate && rate.Generation == from) _compressionRate = (to, rate.BytesPerSecond);
    }

    /// <summary>
    /// Changes a server's admin state and/or weight in every worker of the current generation, and keeps the
    /// setting for workers started later. Returns null, or the error in HAProxy's words.
    /// </summary>
    public async Task<string?> SetServerAsync(string target, string? state, int? weight,
        System.Net.IPEndPoint? address = null, int? checkPort = null, int? maxConn = null, ServerSettings.AgentTarget? agent = null)
    {
        // One change at a time, each sent to every worker before the next: an agent check's answers (`drain`, then
        // `ready`) arrive as separate messages handled on separate tasks, and two broadcasts interleaving reached the
        // workers in different orders, leaving one DRAIN while the checking worker, READY, never sent the change again.
        await _serverChanges.WaitAsync();
        try
        {
            return await SetServerOnceAsync(target, state, weight, address, checkPort, maxConn, agent);
        }
        finally
        {
            _serverChanges.Release();
        }
    }

    private readonly SemaphoreSlim _serverChanges = new(1, 1);

    private async Task<string?> SetServerOnceAsync(string target, string? state, int? weight,
        System.Net.IPEndPoint? address, int? checkPort, int? maxConn, ServerSettings.AgentTarget? agent)
    {
        var (setting, error) = Servers.Set(Config, target, state, weight, address, checkPort, maxConn, agent);
        if (setting is null) return error;
        await BroadcastAsync(setting.ToMessage());
        // Answered once every running worker has applied it, as HAProxy answers `set server` after the change: a client
        // sending a request right after `set server ... addr` must reach the new address (a fresh-clone CI run saw a 503
        // from a worker that had not read the change yet). A worker that does not answer within 2 s is not waited for.
        await _sessionQueries.AskAsync(RunningWorkers(), WorkerMessages.Sync);
        Log.Info($"server {target}: state {setting.State ?? "as configured"}, weight {setting.Weight?.ToString() ?? "as configured"}" +
                 $"{(setting.Address is { } a ? $", address {a}" : "")}{(setting.CheckPort is { } p ? $", check port {p}" : "")}" +
                 $"{(setting.MaxConn is { } m ? $", maxconn {m}" : "")}");
        return null;
    }

    private readonly SessionQueries _sessionQueries = new();

    /// <summary>`show sess`: every running worker's live sessions (a draining worker no longer reads its channel).</summary>
    public Task<List<string>> ShowSessionsAsync() => _sessionQueries.AskAsync(RunningWorkers());

    /// <summary>`show errors`: every running worker's captured events (ProxyEngine.DescribeErrors lines).</summary>
    public Task<List<string>> ShowErrorsAsync() => _sessionQueries.AskAsync(RunningWorkers(), WorkerMessages.ShowErrors);

    private List<WorkerProcess> RunningWorkers()
    {
        lock (_gate) return _workers.FindAll(w => w.State == WorkerState.Running);
    }

    /// <summary>Sends <paramref name="line"/> to every worker of the current generation (the runtime API's changes).</summary>
    private async Task BroadcastAsync(string line)
    {
        List<WorkerProcess> current;
        lock (_gate) current = _workers.FindAll(w => w.Generation == _generation && w.State is WorkerState.Running or WorkerState.Starting);
        foreach (var w in current) await w.SendAsync(line);
    }

    /// <summary>
    /// `set server BE/SRV health up|down`: every worker takes the state now, as if the checking worker had reported it,
    /// and a worker started later starts with it; the next check result (if the server is checked) applies again.
    /// </summary>
    /// <summary>`shutdown sessions server BE/SRV`: every worker closes its sessions on the server.</summary>
    public Task ShutdownServerSessionsAsync(string target)
    {
        int slash = target.IndexOf('/');
        return BroadcastAsync($"{WorkerMessages.ShutdownSessions} {target[..slash]} {target[(slash + 1)..]}");
    }

    /// <summary>
    /// `enable|disable health|agent`, `set server ... agent up|down`: to the checking worker (slot 1 of the current
    /// generation), which owns the server's checks; its verdicts then reach every worker as usual. Not kept for a
    /// respawned or reloaded checker, which starts with its checks enabled.
    /// </summary>
    public async Task ControlChecksAsync(string target, string action)
    {
        int slash = target.IndexOf('/');
        WorkerProcess? checker;
        lock (_gate)
            checker = _workers.Find(w => w.Slot == 0 && w.Generation == _generation && w.State is WorkerState.Running or WorkerState.Starting);
        if (checker is not null) await checker.SendAsync($"{WorkerMessages.CheckControl} {target[..slash]} {target[(slash + 1)..]} {action}");
    }

    /// <summary>`set server BE/SRV health up|stopping|down`: <paramref name="state"/> is the `health` message's up, nolb or down.</summary>
    public async Task ForceHealthAsync(string target, string state)
    {
        int slash = target.IndexOf('/');
        lock (_gate)
        {
            _health[target] = state != "down";
            if (state == "nolb") _nolb.Add(target);
            else _nolb.Remove(target);
        }
        await BroadcastAsync($"{WorkerMessages.Health} {target[..slash]} {target[(slash + 1)..]} {state}");
        Log.Info($"server {target}: health forced {state}");
    }

    // Runtime API settings other than servers' (`set maxconn`), by what they set, for the generation they were made in:
    // a reload starts again from the config, as HAProxy's does.
    private readonly Dictionary<string, string> _runtimeLines = new(StringComparer.Ordinal);
    private int _runtimeGeneration;

    /// <summary>
    /// Sends a runtime setting (a worker channel line) to every worker of the current generation and keeps it, under
    /// <paramref name="key"/> (a later one replaces it), for the workers started later in that generation.
    /// </summary>
    public async Task ApplyRuntimeSettingAsync(string key, string line)
    {
        lock (_gate)
        {
            if (_runtimeGeneration != _generation) _runtimeLines.Clear();
            _runtimeGeneration = _generation;
            _runtimeLines[key] = line;
        }
        await BroadcastAsync(line);
        Log.Info($"runtime setting: {line}");
    }

    /// <summary>The runtime setting kept under <paramref name="key"/> in the current generation, or null.</summary>
    public string? RuntimeSetting(string key)
    {
        lock (_gate) return _runtimeGeneration == _generation ? _runtimeLines.GetValueOrDefault(key) : null;
    }

    private string[] RuntimeLines()
    {
        lock (_gate) return _runtimeGeneration == _generation ? [.. _runtimeLines.Values] : [];
    }

    // `set rate-limit http-compression global`: kept for the generation it was set in (a reload goes back to `maxcomprate`).
    private (int Generation, long BytesPerSecond)? _compressionRate;

    /// <summary>`set rate-limit http-compression global KB`: every worker of the current generation takes its share.</summary>
    public async Task SetCompressionRateAsync(long bytesPerSecond)
    {
        lock (_gate) _compressionRate = (_generation, bytesPerSecond);
        await BroadcastAsync($"{WorkerMessages.CompressionRate} {bytesPerSecond}");
        Log.Info($"compression rate limit: {bytesPerSecond / 1024} kB/s");
    }
}
