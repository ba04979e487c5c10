using NLog;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;

namespace Proxy.Supervisor;

/// <summary>
/// The master process: holds the listeners and the config, keeps one worker per slot alive (respawning
/// a crashed one into the same slot with back-off), and stops them gracefully. It does no proxying.
/// </summary>
public sealed class Supervisor : IAsyncDisposable
{
    private static readonly Logger Log = LogManager.GetLogger("supervisor");
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(15);

    private readonly object _gate = new(); // supervisor bookkeeping only; never on a request path
    private readonly WorkerSpawner _spawner = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int[][] _cpuPlan;
    private readonly CrashBackoff[] _backoff;
    private readonly List<WorkerProcess> _workers = [];
    private ListenerSet _listeners;
    private int _generation = 1;
    private volatile bool _stopping;

    public Supervisor(ProxyConfig config, string configText, ListenerSet listeners, int[][] cpuPlan)
    {
        Config = config;
        ConfigText = configText;
        _listeners = listeners;
        _cpuPlan = cpuPlan;
        _backoff = new CrashBackoff[cpuPlan.Length];
        for (int i = 0; i < _backoff.Length; i++) _backoff[i] = new CrashBackoff();
        StartedAt = DateTimeOffset.UtcNow;
    }

    public ProxyConfig Config { get; private set; }
    public string ConfigText { get; private set; }
    public DateTimeOffset StartedAt { get; }
    public int Generation => _generation;
    public int SlotCount => _cpuPlan.Length;
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
        var started = new List<WorkerProcess>();
        for (int slot = 0; slot < _cpuPlan.Length; slot++) started.Add(SpawnSlot(slot));
        var all = Task.WhenAll(started.Select(w => w.Ready));
        if (await Task.WhenAny(all, Task.Delay(ReadyTimeout)) != all)
            throw new TimeoutException($"workers did not report ready within {ReadyTimeout.TotalSeconds:0}s");
        await all; // surfaces the first worker that exited before ready
        Log.Info($"{started.Count} worker(s) serving, generation {_generation}");
    }

    private WorkerProcess SpawnSlot(int slot)
    {
        var (fds, refs) = _listeners.ForSlot(slot);
        var init = new WorkerInit(slot, _generation, _cpuPlan[slot], Config.SourcePath, ConfigText, refs);
        var worker = _spawner.Spawn(slot, _generation, _cpuPlan[slot], init, fds, OnWorkerMessage, OnWorkerExit);
        lock (_gate) _workers.Add(worker);
        Log.Info($"started worker slot {slot + 1} pid {worker.Pid} on CPU {string.Join(",", _cpuPlan[slot])}");
        return worker;
    }

    private void OnWorkerMessage(WorkerProcess worker, string line)
    {
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
            _workers.Remove(worker);
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
        _ = RespawnAfterAsync(worker.Slot, delay);
    }

    private async Task RespawnAfterAsync(int slot, TimeSpan delay)
    {
        if (delay > TimeSpan.Zero) await Task.Delay(delay);
        if (_stopping) return;
        try
        {
            var worker = SpawnSlot(slot);
            await worker.Ready;
        }
        catch (Exception e)
        {
            Log.Error($"respawning slot {slot + 1} failed: {e.Message}");
        }
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
            workers = [.. _workers];
            if (workers.Count == 0) _stopped.TrySetResult();
        }
        Log.Info($"stopping: draining {workers.Count} worker(s), timeout {timeout.TotalSeconds:0.#}s");
        foreach (var w in workers) await w.DrainAsync(timeout);
        // The supervisor's copies are no longer needed: closing them lets the port go once workers close theirs.
        _listeners.Dispose();
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
        if (!_stopping) await StopAsync(TimeSpan.FromSeconds(5));
        _spawner.Dispose();
        _listeners.Dispose();
    }
}
