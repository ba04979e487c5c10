using NLog;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Shared.Stats;
using Proxy.Shared.Threading;

namespace Proxy.Supervisor;

/// <summary>
/// The master process: holds the listeners and the config, keeps one worker per slot alive (respawning
/// a crashed one into the same slot with back-off), and stops them gracefully. It does no proxying.
/// </summary>
public sealed partial class Supervisor : IAsyncDisposable
{
    private static readonly Logger Log = LogManager.GetLogger("supervisor");
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(15);

    private readonly object _gate = new(); // supervisor bookkeeping only; never on a request path
    private readonly WorkerSpawner _spawner = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _reloadGate = new(1, 1); // one reload at a time
    private int[][] _cpuPlan;
    private CrashBackoff[] _backoff;
    private readonly List<WorkerProcess> _workers = [];
    private ListenerSet _listeners;
    private StatsBoard _board;
    private readonly GenerationCounts _counts = new();   // instance-wide `maxconn` counts, one file per generation
    private readonly StickTableStore _tables = new();    // stick tables in shared memory, kept over reloads
    private readonly TickThread _housekeeping;   // every WorkerWatchdog.Interval: see Supervisor.Housekeeping.cs
    private long _watchdogCheckedAt = Environment.TickCount64; // the watchdog's previous check (monotonic ms)
    private int _generation = 1;
    private readonly TicketKeyRing _ticketKeys = new();
    private volatile bool _stopping;
    private TimeSpan _stopDrain;   // the drain time of the stop in progress (set with _stopping)
    private volatile bool _serving; // the first generation is up: reloads may start

    public Supervisor(ProxyConfig config, ListenerSet listeners, int[][] cpuPlan, StatsBoard board)
    {
        _board = board;
        Config = config;
        _listeners = listeners;
        _cpuPlan = cpuPlan;
        _backoff = new CrashBackoff[cpuPlan.Length];
        for (int i = 0; i < _backoff.Length; i++) _backoff[i] = new CrashBackoff();
        StartedAt = DateTimeOffset.UtcNow;
        Resolver = new Dns.ServerResolver(this);
        _housekeeping = new TickThread("housekeeping", WorkerWatchdog.Interval, Housekeep);   // last: its ticks read the fields above
    }

    /// <summary>The current generation's model: parsed, checked and resolved once here, shipped whole to its workers.</summary>
    public ProxyConfig Config { get; private set; }

    /// <summary>The current stats board (replaced on reload).</summary>
    public StatsBoard Board
    {
        get { lock (_gate) return _board; }
    }
    public DateTimeOffset StartedAt { get; }

    /// <summary>The stick tables (`show table`, `clear table`, `set table`).</summary>
    internal StickTableStore Tables => _tables;
    public int Generation => _generation;
    public int SlotCount => _cpuPlan.Length;
    public int ReloadCount { get; private set; }

    /// <summary>Run-time server settings (`set server`, `set weight`), kept across respawns and reloads.</summary>
    public ServerSettings Servers { get; } = new();

    /// <summary>The `resolvers` sections at work: server names resolved here, changes pushed to every worker (Dns/).</summary>
    public Dns.ServerResolver Resolver { get; }
    public bool Stopping => _stopping;

    /// <summary>Completes when the supervisor has stopped every worker.</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>A copy of the worker list, for status and stats.</summary>
    public List<WorkerProcess> Workers()
    {
        lock (_gate) return [.. _workers];
    }

    /// <summary>Starts one worker per slot and waits until every one reports ready; throws with the reason otherwise.</summary>
    public async Task StartAsync()
    {
        lock (_gate) _tables.Apply(Config, _board.Path, _board.SlotCount, starting: true);
        await StartGenerationAsync(_generation);
        _serving = true;
        Resolver.Start();
        Log.Info($"{_cpuPlan.Length} worker(s) serving, generation {_generation}");
    }

    /// <summary>Starts one worker per slot for <paramref name="generation"/> and waits until all are ready.</summary>
    private async Task<List<WorkerProcess>> StartGenerationAsync(int generation)
    {
        var started = new List<WorkerProcess>();
        lock (_gate) _counts.Create(_board.Path, generation, Config, _cpuPlan.Length);
        try
        {
            for (int slot = 0; slot < _cpuPlan.Length; slot++) started.Add(SpawnSlot(slot, generation));
        }
        catch
        {
            // A half-started generation must not keep serving beside the one a failed reload keeps.
            foreach (var w in started) w.Kill();
            throw;
        }
        var all = Task.WhenAll(started.Select(w => w.Ready));
        if (await Task.WhenAny(all, Task.Delay(ReadyTimeout)) != all)
        {
            foreach (var w in started) w.Kill();
            throw new TimeoutException($"workers did not report ready within {ReadyTimeout.TotalSeconds:0}s");
        }
        try
        {
            await all; // surfaces the first worker that exited before ready
        }
        catch (InvalidOperationException)
        {
            foreach (var w in started) w.Kill();
            throw;
        }
        return started;
    }

    private WorkerProcess SpawnSlot(int slot, int generation)
    {
        var (fds, refs) = _listeners.ForSlot(slot);
        StatsSlot boardSlot;
        string? countsPath;
        lock (_gate)
        {
            boardSlot = _board.ClaimFreeSlot(generation, pid: 0, cpu: _cpuPlan[slot][0]);
            countsPath = _counts.PathOf(generation);
        }
        var init = new WorkerInit(slot, generation, _cpuPlan[slot], Config, refs, _board.Path, boardSlot.Index,
            Servers.For(Config), RunsHealthChecks: slot == 0, DownServers: DownServers())
        {
            NolbServers = NolbServers(),
            Workers = _cpuPlan.Length,
            CountsPath = countsPath,
            CompressionRate = _compressionRate is { } rate && rate.Generation == generation ? rate.BytesPerSecond : null,
            RuntimeMessages = RuntimeLines(),
            TicketKeys = _ticketKeys.For(generation),
        };
        var worker = _spawner.Spawn(slot, generation, _cpuPlan[slot], init, fds, OnWorkerMessage, OnWorkerExit);
        bool stopStarted;
        lock (_gate)
        {
            stopStarted = _stopping;
            _workers.Add(worker);
            _counts.Attach(worker.Pid, generation);
            // Its exit is watched from inside Spawn: one that died at once was reaped before it was listed here,
            // so it is taken off again (else StopAsync waits for it and its counts file is never deleted).
            if (worker.Reaped)
            {
                _workers.Remove(worker);
                _counts.Retire(worker.Pid, worker.Slot, _generation);
            }
        }
        Log.Info($"started worker slot {slot + 1} pid {worker.Pid} on CPU {string.Join(",", _cpuPlan[slot])}");
        // A stop that began while this worker was being started (a reload or a respawn in flight) drained the workers
        // it saw; this one is drained too, or the supervisor would wait for it forever.
        if (stopStarted) _ = worker.DrainAsync(_stopDrain);
        return worker;
    }

    /// <summary>
    /// Server health as the checking worker (slot 1 of the current generation) last reported it. Checks run in
    /// one process only, so every worker of a backend sees the same servers up, and a server is probed once per
    /// `inter`, not once per worker; a respawned or reloaded worker starts from this state.
    /// </summary>
    private readonly Dictionary<string, bool> _health = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nolb = new(StringComparer.Ordinal);   // `http-check disable-on-404`: UP but stopping

    private string[] DownServers()
    {
        lock (_gate)
        {
            var down = new List<string>();
            foreach (var (key, up) in _health)
                if (!up && ServerSettings.Configured(Config, key) is not null) down.Add(key);
            return [.. down];
        }
    }

    private string[] NolbServers()
    {
        lock (_gate)
            return [.. _nolb];
    }

    private void OnHealth(WorkerProcess from, string line)
    {
        if (line.Split(' ') is not [_, var backend, var server, var state] || state is not ("up" or "down" or "nolb") || from.Slot != 0) return;
        List<WorkerProcess> others;
        lock (_gate)
        {
            if (from.Generation != _generation) return; // a draining generation's checks are not authoritative
            _health[$"{backend}/{server}"] = state != "down";
            if (state == "nolb") _nolb.Add($"{backend}/{server}");
            else _nolb.Remove($"{backend}/{server}");
            others = _workers.FindAll(w => w != from && w.Generation == _generation && w.State is WorkerState.Running or WorkerState.Starting);
        }
        foreach (var w in others) _ = w.SendAsync(line);
    }

    /// <summary>
    /// `observe BACKEND SERVER EVENT` from a worker that saw `error-limit` passive errors: forwarded to the checking
    /// worker (slot 1 of the current generation), which owns the server's health counter and applies `on-error`.
    /// Routing every verdict through that one state machine keeps all workers agreeing (its `health` message then
    /// reaches everyone); the cost is one relay hop, and a report made while the checker respawns is lost.
    /// </summary>
    private void OnObserve(WorkerProcess from, string line)
    {
        if (line.Split(' ') is not [_, _, _, _]) return;
        WorkerProcess? checker;
        lock (_gate)
        {
            if (from.Generation != _generation) return;
            checker = _workers.Find(w => w.Slot == 0 && w.Generation == _generation && w.State is WorkerState.Running or WorkerState.Starting);
        }
        if (checker is not null) _ = checker.SendAsync(line);
    }

    private void OnWorkerMessage(WorkerProcess worker, string line)
    {
        if (_sessionQueries.OnMessage(line)) return;
        if (line.StartsWith(WorkerMessages.Observe + " ", StringComparison.Ordinal))
        {
            OnObserve(worker, line);
            return;
        }
        if (line.StartsWith(WorkerMessages.Health + " ", StringComparison.Ordinal))
        {
            OnHealth(worker, line);
            return;
        }
        // A `stats admin` form: the same change as `proxyctl server`, for every worker.
        if (ServerOverride.FromMessage(line, WorkerMessages.SetServer) is { } change)
        {
            _ = Task.Run(async () =>
            {
                if (await SetServerAsync(change.Key, change.State, change.Weight, maxConn: change.MaxConn) is { } error)
                    Log.Warn($"server {change.Key} not changed (stats page or agent check): {error.Trim()}");
            });
            return;
        }
        if (line.StartsWith(WorkerMessages.Status + " ", StringComparison.Ordinal))
        {
            var parts = line.Split(' ');
            if (parts.Length >= 3 && long.TryParse(parts[1], out long cur) && long.TryParse(parts[2], out long tot))
            {
                Interlocked.Exchange(ref worker.CurrentConnections, cur);
                Interlocked.Exchange(ref worker.TotalConnections, tot);
            }
        }
    }

    private void OnWorkerExit(WorkerProcess worker)
    {
        bool respawn;
        lock (_gate)
        {
            worker.Reaped = true;
            _workers.Remove(worker);
            // Reaped: its gauges stop now and its counters fold into the retired totals, so totals
            // survive crashes and reloads; the slot is free for the next worker.
            _board.MarkExited(worker.BoardSlot);
            _board.RetireSlot(worker.BoardSlot);
            // Its `maxconn` reservations go back before a respawn takes the slot; an old generation's file goes with its last worker.
            _counts.Retire(worker.Pid, worker.Slot, _generation);
            _tables.WorkerReaped(worker.BoardSlot);   // its conn_cur cells go back before the board slot is claimed again
            // Respawn only the current generation's worker of that slot, and only when nobody asked it to go.
            respawn = !_stopping && worker.Generation == _generation && worker.State != WorkerState.Draining
                      && !_workers.Exists(w => w.Slot == worker.Slot && w.Generation == _generation);
            if (_stopping && _workers.Count == 0) _stopped.TrySetResult();
        }
        if (!respawn)
        {
            Log.Info($"worker slot {worker.Slot + 1} pid {worker.Pid} exited with status {worker.ExitCode}");
            return;
        }
        TimeSpan delay = _backoff[worker.Slot].NextDelay(worker.StartedAt);
        Log.Warn($"worker slot {worker.Slot + 1} pid {worker.Pid} exited unexpectedly with status {worker.ExitCode}; respawning in {delay.TotalMilliseconds:0} ms (its listeners stay open)");
        _ = RespawnAfterAsync(worker.Slot, worker.Generation, delay);
    }

    private async Task RespawnAfterAsync(int slot, int generation, TimeSpan delay)
    {
        if (delay > TimeSpan.Zero) await Task.Delay(delay);
        // A reload during the back-off started a newer generation in this slot; this one's model is gone.
        if (_stopping || generation != _generation) return;
        try
        {
            var worker = SpawnSlot(slot, generation);
            await worker.Ready;
        }
        catch (Exception e)
        {
            Log.Error($"respawning slot {slot + 1} failed: {e.Message}");
        }
    }

    /// <summary>
    /// Hot reload (design card, "Reload"): check the new config, keep the listeners both configs share,
    /// bind new ones, start generation G+1 on the same slots and sockets, and only once all of it serves,
    /// drain generation G. Any failure rolls back: G keeps serving and the reason is returned.
    /// </summary>
    public async Task<ReloadResult> ReloadAsync(ProxyConfig newConfig, int[][] newCpuPlan)
    {
        await _reloadGate.WaitAsync();
        try
        {
            return await ReplaceGenerationAsync(newConfig, newCpuPlan, runtimeChange: false);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>
    /// `add server` / `del server`: <paramref name="change"/> gets the current model (under the reload gate, so two
    /// changes never race) and returns the next one, or HAProxy's error. The next model is served by a new generation,
    /// as a reload starts one, but from this model rather than the file: the board grows or shrinks by the server's row
    /// (StatsBoard.Reconfigure), every worker gets the server set in its init, and the runtime settings made so far
    /// (`set maxconn`, `set rate-limit`, `disable frontend`) carry over. Connections in progress finish on the old
    /// workers. A `reload` reads the file again, so dynamic servers are lost then, as in HAProxy.
    /// </summary>
    public async Task<string?> ChangeServersAsync(Func<ProxyConfig, (ProxyConfig? Next, string? Error)> change)
    {
        await _reloadGate.WaitAsync();
        try
        {
            if (!_serving) return "the instance is still starting; retry once it serves";
            var (next, error) = change(Config);
            if (next is null) return error;
            var result = await ReplaceGenerationAsync(next, _cpuPlan, runtimeChange: true);
            return result.Ok ? null : result.Message.TrimEnd();
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>Starts a generation on <paramref name="newConfig"/> and drains the current one; the caller holds the reload gate.</summary>
    private async Task<ReloadResult> ReplaceGenerationAsync(ProxyConfig newConfig, int[][] newCpuPlan, bool runtimeChange)
    {
        {
            if (_stopping) return ReloadResult.Failed("the instance is stopping");
            var (newListeners, errors) = ListenerSet.Bind(newConfig, newCpuPlan.Length, _listeners);
            if (errors.Count > 0) return ReloadResult.Failed(string.Join("\n", errors));

            var old = (Config, _listeners, _cpuPlan, _backoff, _generation);
            var changes = ConfigChanges.Describe(Config, newConfig);
            List<WorkerProcess> oldWorkers;
            lock (_gate)
            {
                oldWorkers = _workers.FindAll(w => w.Generation == _generation);
                // The new generation needs free slots beside every live worker's.
                int needed = _workers.Count + newCpuPlan.Length;
                int slots = Math.Max(_board.SlotCount, Math.Max(needed, StatsBoard.DefaultSlotCount(newCpuPlan.Length)));
                _board = _board.Reconfigure(StatObjects.FromConfig(newConfig), slots, _generation + 1);
                _tables.Apply(newConfig, _board.Path, _board.SlotCount);
                (Config, _listeners, _cpuPlan) = (newConfig, newListeners, newCpuPlan);
                _backoff = new CrashBackoff[newCpuPlan.Length];
                for (int i = 0; i < _backoff.Length; i++) _backoff[i] = new CrashBackoff();
                _generation++;
                // A server added or deleted at run time is no reload: what the runtime API set stays in force.
                if (runtimeChange) CarryRuntimeSettings(old._generation, _generation);
            }
            FileDescriptorLimit.Apply(newConfig.Global.UlimitN, Log);   // the new workers inherit it
            try
            {
                await StartGenerationAsync(_generation);
            }
            catch (Exception e)
            {
                // Any failure (spawn, counts file, socket pair, ready timeout) rolls back: the old generation keeps serving.
                Log.Error(e, "starting the new generation failed");
                lock (_gate)
                {
                    if (runtimeChange) CarryRuntimeSettings(_generation, old._generation);
                    (Config, _listeners, _cpuPlan, _backoff, _generation) = old;
                    _board = _board.Reconfigure(StatObjects.FromConfig(old.Config), generation: old._generation);
                }
                newListeners.DisposeExcept(old._listeners);
                Log.Error($"reload failed, generation {old._generation} keeps serving: {e.Message}");
                return ReloadResult.Failed($"new workers failed: {e.Message}");
            }
            if (!runtimeChange) ReloadCount++;
            Servers.KeepOnly(newConfig);
            TimeSpan drain = newConfig.Global.HardStopAfter ?? DefaultDrainTimeout;
            foreach (var w in oldWorkers) await w.DrainAsync(drain);
            // The old set keeps only sockets the new config dropped; they close once the old workers exit.
            var retired = old._listeners;
            retired.HandOverTo(newListeners);
            _ = CloseWhenGoneAsync(oldWorkers, retired);
            Log.Info($"{(runtimeChange ? "servers changed at run time" : "reloaded")}: generation {_generation} serving, {oldWorkers.Count} old worker(s) draining");
            return ReloadResult.Succeeded(changes, oldWorkers.Count, _generation);
        }
    }

    /// <summary>
    /// Reads the instance's config file again and reloads with it; a file with errors changes nothing. The file is
    /// read, parsed and resolved here, once: the new generation's workers receive this model.
    /// </summary>
    public async Task<ReloadResult> ReloadFromFileAsync()
    {
        // A reload while the first workers start would race them for the slots; the signal path queues it instead.
        if (!_serving) return ReloadResult.Failed("the instance is still starting: reload refused, nothing changed; retry once it serves");
        string path = Config.SourcePath;
        var parsed = Config.SourcePaths.Count > 0 ? ConfigFiles.Load(Config.SourcePaths) : ConfigLoader.Load(path);
        if (!parsed.IsValid)
            return ReloadResult.Failed("configuration has errors, nothing changed:\n" + string.Join("\n", parsed.Errors));
        if (StartupChecks.Run(parsed.Config!) is { Count: > 0 } problems)
            return ReloadResult.Failed(string.Join("\n", problems));
        var plan = CpuPlan.Compute(parsed.Config!.Global, CpuAffinity.AllowedCpus());
        return await ReloadAsync(parsed.Config!, plan);
    }

    /// <summary>HAProxy waits for old workers without limit unless hard-stop-after is set; we cap it.</summary>
    private static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromMinutes(5);

    private static async Task CloseWhenGoneAsync(List<WorkerProcess> workers, ListenerSet retired)
    {
        foreach (var w in workers) await w.Process.WaitForExitAsync();
        retired.Dispose();
    }

    /// <summary>
    /// Graceful stop: workers stop accepting and finish their connections within <paramref name="timeout"/>
    /// (then they are killed); the listeners close; <see cref="Stopped"/> completes.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        List<WorkerProcess> workers;
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            _stopDrain = timeout;
            workers = [.. _workers];
            if (workers.Count == 0) _stopped.TrySetResult();
        }
        Log.Info($"stopping: draining {workers.Count} worker(s), timeout {timeout.TotalSeconds:0.#}s");
        await Resolver.DisposeAsync();   // no DNS change is pushed to workers that are stopping
        foreach (var w in workers) await w.DrainAsync(timeout);
        // The supervisor's copies are no longer needed: closing them lets the port go once workers close theirs.
        lock (_gate) _listeners.Dispose();
        var done = await Task.WhenAny(Stopped, Task.Delay(timeout + TimeSpan.FromSeconds(2)));
        if (done != Stopped)
        {
            foreach (var w in Workers())
            {
                Log.Warn($"worker slot {w.Slot + 1} pid {w.Pid} did not stop in time; killing it");
                w.Kill();
            }
            await Task.WhenAny(Stopped, Task.Delay(TimeSpan.FromSeconds(5)));
        }
        Log.Info("all workers stopped");
    }

    public async ValueTask DisposeAsync()
    {
        await _housekeeping.DisposeAsync();
        await _tables.StopPurgeAsync();
        if (!_stopping) await StopAsync(TimeSpan.FromSeconds(5));
        _listeners.Dispose();
        lock (_gate)
        {
            _board.Dispose();
            _counts.Dispose();
            _tables.Dispose();
        }
    }
}
