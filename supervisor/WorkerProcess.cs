using System.Diagnostics;
using System.Net.Sockets;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;

namespace Proxy.Supervisor;

public enum WorkerState { Starting, Running, Draining, Exited }

/// <summary>
/// One worker process of one slot and generation: the process, its channel, and what it last reported.
/// Created by <see cref="WorkerSpawner"/>; the supervisor owns its lifetime.
/// </summary>
public sealed class WorkerProcess
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _channel;

    public WorkerProcess(int slot, int generation, int[] cpus, Process process, int boardSlot)
    {
        BoardSlot = boardSlot;
        Slot = slot;
        Generation = generation;
        Cpus = cpus;
        Process = process;
        Pid = process.Id;
        StartedAt = DateTimeOffset.UtcNow;
    }

    public int Slot { get; }
    /// <summary>The stats board slot this worker writes (not the worker slot: a reload's two generations coexist).</summary>
    public int BoardSlot { get; }
    public int Generation { get; }
    public int[] Cpus { get; }
    public Process Process { get; }
    public int Pid { get; }
    public DateTimeOffset StartedAt { get; }
    public volatile WorkerState State;
    public long CurrentConnections;
    public long TotalConnections;
    public int? ExitCode { get; private set; }

    /// <summary>Set by the watchdog while the worker's heartbeat is overdue (`stalled` in `status` and `show proc`).</summary>
    public volatile bool Stalled;

    /// <summary>The watchdog's view (under the supervisor's lock): the heartbeat stamp last seen, and the
    /// <see cref="Environment.TickCount64"/> at which it last changed (0: not looked at yet).</summary>
    internal long LastHeartbeat;
    internal long HeartbeatChangedAt;

    /// <summary>Set (under the supervisor's lock) once the supervisor handled its exit.</summary>
    internal bool Reaped;

    /// <summary>What `status` prints: the state, or `stalled` while the watchdog sees no heartbeat.</summary>
    public string StateName => Stalled && State != WorkerState.Exited ? "stalled" : State.ToString().ToLowerInvariant();

    /// <summary>Completes when the worker reports `ready`; faults if it exits first.</summary>
    public Task Ready => _ready.Task;

    internal void AttachChannel(Socket channel) => _channel = channel;

    internal void OnReady()
    {
        State = WorkerState.Running;
        _ready.TrySetResult();
    }

    internal void OnExited(int exitCode)
    {
        ExitCode = exitCode;
        State = WorkerState.Exited;
        _ready.TrySetException(new InvalidOperationException($"worker for slot {Slot + 1} (pid {Pid}) exited with status {exitCode} before it was ready"));
        _channel?.Dispose();
    }

    /// <summary>Asks the worker to stop accepting and exit once its connections end or <paramref name="timeout"/> passes.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        if (State == WorkerState.Exited) return;
        State = WorkerState.Draining;
        if (_channel is null) { Kill(); return; }
        try
        {
            await WorkerChannel.SendLineAsync(_channel, $"{WorkerMessages.Drain} {(long)timeout.TotalMilliseconds}", CancellationToken.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Kill();
        }
    }

    /// <summary>Sends one channel message; a worker that is gone is simply skipped (its successor gets the state at start).</summary>
    public async Task SendAsync(string line)
    {
        if (_channel is null || State == WorkerState.Exited) return;
        try
        {
            await WorkerChannel.SendLineAsync(_channel, line, CancellationToken.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // exited meanwhile
        }
    }

    public void Kill()
    {
        if (State != WorkerState.Exited) Posix.Signal(Pid, Posix.SIGKILL);
    }
}
