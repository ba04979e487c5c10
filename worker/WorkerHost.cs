using System.Net.Sockets;
using System.Runtime.InteropServices;
using NLog;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Shared.Limits;
using Proxy.Shared.Stats;
using Proxy.Worker.Balancing;
using Proxy.Worker.Health;
using Proxy.Worker.Stats;

namespace Proxy.Worker;

/// <summary>
/// A worker's life: read from the inherited channel the listening sockets the supervisor passes, adopt them, pin to the slot's
/// CPUs, serve, report, and drain when told (or when the supervisor is gone: no orphans).
/// </summary>
public sealed class WorkerHost
{
    private static readonly Logger Log = LogManager.GetLogger("worker");
    private static readonly TimeSpan StatusInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan OrphanDrain = TimeSpan.FromSeconds(10);

    /// <summary>Runs the worker until it has drained; returns the process exit code.</summary>
    public static async Task<int> RunAsync(Socket channel)
    {
        var fds = FdPassing.Receive(channel, FdPassing.MaxFdsPerMessage);
        var init = WorkerChannel.ReceiveInit(channel);

        int pinError = CpuAffinity.PinProcess(init.Cpus);
        if (pinError != 0) Log.Warn($"cannot pin to CPU {string.Join(",", init.Cpus)} (errno {pinError}); running unpinned");

        // The supervisor's model, resolved there once: this process never opens the config file nor asks DNS.
        var config = init.Config;
        // Before the listeners: their TLS contexts are configured as they are built (ticket keys, session cache).
        Tls.TlsContexts.Setup(config.Global.Tls, init.TicketKeys ?? []);   // null from an older supervisor
        var listeners = AdoptListeners(config, init, fds);
        // The board is opened before dropping privileges: it belongs to the supervisor's user.
        using var board = StatsBoard.Open(init.BoardPath);
        var boardSlot = board.Slot(init.BoardSlot);
        boardSlot.SetPid(Environment.ProcessId);
        // Built before dropping privileges too: its log files are opened now, while `chroot` still shows their paths.
        // The generation's `maxconn` counts, shared by its workers: limits hold for the instance, not per worker.
        using var counts = init.CountsPath is { } countsPath ? SharedCounts.Open(countsPath) : null;
        counts?.KeepMappedUntilExit();   // counting threads hold pointers into the mapping
        if (counts is not null && counts.CountCount < SharedCountIndex.CountOf(config))
        {
            // The file was sized by a supervisor that read this configuration differently: counting past its end would fault.
            Log.Error($"{init.CountsPath}: {counts.CountCount} maxconn counts per worker, the configuration needs {SharedCountIndex.CountOf(config)}");
            return 1;
        }
        // Stick tables (shared/Tables): the supervisor's files beside the board; this worker's conn_cur cells are its board slot's.
        Tables.StickTables.Open(config, init.BoardPath, init.BoardSlot, Log);
        Samples.GlobalVariables.Apply(config.Global.Variables);   // `global set-var` (3.1): before any rule runs
        await using var engine = new ProxyEngine(config, listeners, Log, counts, init.Slot);
        if (!DropPrivileges(config.Global)) return 1;

        engine.SetAcceptRates(config.Global.MaxConnRate, config.Global.MaxSessRate, init.Workers);
        engine.SetTlsLimits(config.Global.Tls.MaxSslConn, config.Global.Tls.MaxSslRate, init.Workers);
        if (init.CompressionRate is { } compressionRate) engine.Compression.SetRateLimit(compressionRate);
        foreach (var message in init.RuntimeMessages ?? []) ApplyRuntimeSetting(engine, message); // null from an older supervisor
        foreach (var change in init.ServerOverrides)
            if (ServerOverrides.Apply(engine, change) is { } problem) Log.Warn($"server setting not applied: {problem}");
        // One worker checks; the supervisor relays its verdicts, so all workers agree on every server's health.
        foreach (var key in init.DownServers)
        {
            int slash = key.IndexOf('/');
            if (slash > 0) ServerHealth.Apply(engine, key[..slash], key[(slash + 1)..], up: false, restored: true);
        }
        foreach (var key in init.NolbServers)
        {
            int slash = key.IndexOf('/');
            if (slash > 0) ServerHealth.Apply(engine, key[..slash], key[(slash + 1)..], "nolb");
        }
        engine.RunsHealthChecks = init.RunsHealthChecks;
        engine.HealthChanged = (backend, server, up) => _ = WorkerChannel.SendLineAsync(
            channel, $"{WorkerMessages.Health} {backend} {server} {(up ? "up" : "down")}", CancellationToken.None);
        // `http-check disable-on-404`: NOLB and back go the same way ("up" leaves NOLB, "down" leaves it too).
        engine.StoppingChanged = (backend, server, stopping) => _ = WorkerChannel.SendLineAsync(
            channel, $"{WorkerMessages.Health} {backend} {server} {(stopping ? "nolb" : "up")}", CancellationToken.None);
        // Passive errors seen here go to the checking worker through the supervisor (see ProxyEngine.PassiveErrorLimit).
        engine.PassiveErrorLimit = (backend, server, last) => _ = WorkerChannel.SendLineAsync(
            channel, $"{WorkerMessages.Observe} {backend} {server} {last}", CancellationToken.None);
        // An agent's weight and state go the same way: the supervisor sets them in every worker.
        engine.ServerSettingChanged = change => _ = WorkerChannel.SendLineAsync(
            channel, change.ToMessage(WorkerMessages.SetServer), CancellationToken.None);
        // `stats admin` changes go to the supervisor, which applies them in every worker (as `proxyctl server`).
        engine.StatsSource = new StatsPageSource(board, change => _ = WorkerChannel.SendLineAsync(
            channel, change.ToMessage(WorkerMessages.SetServer), CancellationToken.None));
        var publisher = new BoardPublisher(engine, board, boardSlot, config);
        engine.Start();
        // Server states and rates on the board before `ready`: the supervisor answers a reload or an `add server` once
        // every new worker is ready, and a `show stat` right after must see this generation's states (a fresh-clone CI
        // run read a just-added server's row as "no check", not MAINT: `ready` had gone out before the first publish).
        publisher.Publish();
        boardSlot.SetState(WorkerSlotState.Running);
        // The supervisor's watchdog starts counting at `ready`: beat first, so a slow start is not taken for a stall.
        boardSlot.Heartbeat();
        await WorkerChannel.SendLineAsync(channel, WorkerMessages.Ready, CancellationToken.None);

        using var statusStop = new CancellationTokenSource();
        var status = ReportStatusAsync(channel, engine, publisher, statusStop.Token);

        // The order to drain comes from the supervisor, or from the channel closing (the supervisor died),
        // or from a SIGTERM sent to this worker. SIGINT is ignored: Ctrl-C in a terminal reaches the whole
        // process group, and the supervisor, which gets it too, drains the workers in order.
        var drainOrder = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            drainOrder.TrySetResult(OrphanDrainTimeout(config));
        });
        _ = Task.Run(async () => drainOrder.TrySetResult(await WaitForDrainOrderAsync(channel, config, engine, init.Slot)));
        TimeSpan drainTimeout = await drainOrder.Task;
        boardSlot.SetState(WorkerSlotState.Draining);
        bool clean = await engine.DrainAsync(drainTimeout);
        statusStop.Cancel();
        await status;
        publisher.Publish(); // the last rates and states (counts are on the board already), before the supervisor folds this slot
        try
        {
            await WorkerChannel.SendLineAsync(channel, WorkerMessages.Drained, CancellationToken.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The supervisor is gone; nobody to tell.
        }
        if (!clean) Log.Warn($"drain timeout: closed {engine.ActiveConnections} connection(s) still open");
        return 0;
    }

    /// <summary>`user`/`group`/`chroot`: applied once the sockets are held; false when it must not go on.</summary>
    private static bool DropPrivileges(GlobalSettings global)
    {
        if (global.User is null && global.Group is null && global.Chroot is null) return true;
        if (Posix.GetEffectiveUid() != 0)
        {
            Log.Warn("not started as root: 'user', 'group' and 'chroot' are ignored");
            return true;
        }
        string? error = Privileges.Drop(global.User, global.Group, global.Chroot);
        if (error is null) return true;
        Log.Error($"cannot drop privileges: {error}");
        return false;
    }

    private static List<BoundListener> AdoptListeners(ProxyConfig config, WorkerInit init, int[] fds)
    {
        if (fds.Length != init.Listeners.Length)
            throw new IOException($"received {fds.Length} sockets for {init.Listeners.Length} listeners");
        var result = new List<BoundListener>(fds.Length);
        for (int i = 0; i < fds.Length; i++)
        {
            var reference = init.Listeners[i];
            var socket = new Socket(new SafeSocketHandle(fds[i], ownsHandle: true));
            var (frontend, bind) = Find(config, reference);
            result.Add(new BoundListener(frontend, bind, socket));
        }
        return result;
    }

    private static (FrontendConfig, BindAddress) Find(ProxyConfig config, ListenerRef reference)
    {
        foreach (var fe in config.Frontends)
        {
            if (fe.Name != reference.Frontend) continue;
            foreach (var bind in fe.Binds)
                if (bind.Key == reference.Bind) return (fe, bind);
        }
        throw new IOException($"listener {reference.Frontend}/{reference.Bind} is not in the configuration");
    }

    /// <summary>
    /// Reads the supervisor's messages: applies `server` settings as they come, and returns at `drain MS`
    /// (or at end-of-file: the supervisor died, so drain on our own).
    /// </summary>
    private static async Task<TimeSpan> WaitForDrainOrderAsync(Socket channel, ProxyConfig config, ProxyEngine engine, int slot)
    {
        var reader = new ChannelLineReader(channel, MaxSupervisorLine);
        while (true)
        {
            string? message;
            try
            {
                message = await reader.ReadLineAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is SocketException or InvalidDataException)
            {
                message = null;
            }
            if (message is null)
            {
                Log.Warn("supervisor is gone; draining and exiting");
                return OrphanDrainTimeout(config);
            }
            if (message.StartsWith(WorkerMessages.Drain + " ", StringComparison.Ordinal)
                && long.TryParse(message.AsSpan(WorkerMessages.Drain.Length + 1), out long ms))
            {
                Log.Info($"draining: stopped accepting, waiting up to {ms / 1000.0:0.#}s for connections to end");
                return TimeSpan.FromMilliseconds(ms);
            }
            if (message.StartsWith(WorkerMessages.Health + " ", StringComparison.Ordinal)
                && message.Split(' ') is [_, var backend, var server, var state])
                ServerHealth.Apply(engine, backend, server, state);
            else if (message.StartsWith(WorkerMessages.Observe + " ", StringComparison.Ordinal)
                && message.Split(' ') is [_, var obsBackend, var obsServer, var last])
                ServerHealth.ApplyPassive(engine, obsBackend, obsServer, last);
            else if (message.StartsWith(WorkerMessages.CheckControl + " ", StringComparison.Ordinal)
                && message.Split(' ') is [_, var ctlBackend, var ctlServer, var action])
                ServerHealth.Control(engine, ctlBackend, ctlServer, action);
            else if (message.StartsWith(WorkerMessages.ShutdownSessions + " ", StringComparison.Ordinal)
                && message.Split(' ') is [_, var killBackend, var killServer])
                ServerHealth.ShutdownSessions(engine, killBackend, killServer);
            else if (message.StartsWith(WorkerMessages.CompressionRate + " ", StringComparison.Ordinal)
                && long.TryParse(message.AsSpan(WorkerMessages.CompressionRate.Length + 1), out long compRate))
                engine.Compression.SetRateLimit(compRate);
            else if (message.StartsWith(WorkerMessages.MaxConn + " ", StringComparison.Ordinal)
                || message.StartsWith(WorkerMessages.Frontend + " ", StringComparison.Ordinal)
                || message.StartsWith(WorkerMessages.RateLimit + " ", StringComparison.Ordinal))
                ApplyRuntimeSetting(engine, message);
            else if (message.StartsWith(WorkerMessages.ShowSess + " ", StringComparison.Ordinal))
                _ = ReplyLinesAsync(channel, engine.DescribeSessions(slot), message[(WorkerMessages.ShowSess.Length + 1)..]);
            else if (message.StartsWith(WorkerMessages.ShowErrors + " ", StringComparison.Ordinal))
                _ = ReplyLinesAsync(channel, engine.DescribeErrors(), message[(WorkerMessages.ShowErrors.Length + 1)..]);
            else if (message.StartsWith(WorkerMessages.Sync + " ", StringComparison.Ordinal))
                _ = ReplyLinesAsync(channel, [], message[(WorkerMessages.Sync.Length + 1)..]);   // everything before it is applied
            else if (ServerOverride.FromMessage(message) is { } change
                && ServerOverrides.Apply(engine, change) is { } problem)
                Log.Warn($"server setting not applied: {problem}");
        }
    }

    /// <summary>A `show sess` or `show errors` query's answer: one `sess ID LINE` each, then `sess-end ID`, sent as one write.</summary>
    private static async Task ReplyLinesAsync(Socket channel, List<string> lines, string id)
    {
        var reply = new System.Text.StringBuilder();
        foreach (var line in lines)
            reply.Append(WorkerMessages.Sess).Append(' ').Append(id).Append(' ').Append(line).Append('\n');
        reply.Append(WorkerMessages.SessEnd).Append(' ').Append(id);
        try
        {
            await WorkerChannel.SendLineAsync(channel, reply.ToString(), CancellationToken.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The supervisor is gone; nobody asked any more.
        }
    }

    /// <summary>`maxconn global N`, `maxconn frontend NAME N` (`set maxconn`) and `frontend NAME disable|enable`.</summary>
    private static void ApplyRuntimeSetting(ProxyEngine engine, string message)
    {
        string? problem = message.Split(' ') switch
        {
            [WorkerMessages.Frontend, var name, ("disable" or "enable") and var action] => engine.SetFrontendPaused(name, action == "disable"),
            [WorkerMessages.RateLimit, var which, var n] when long.TryParse(n, out long v) => engine.SetAcceptRate(which, v),
            [_, "global", var n] when long.TryParse(n, out long v) => engine.SetMaxConn(null, v),
            [_, "frontend", var name, var n] when long.TryParse(n, out long v) => engine.SetMaxConn(name, v),
            _ => "malformed",
        };
        if (problem is not null) Log.Warn($"'{message}' not applied: {problem}");
    }

    /// <summary>The supervisor's longest line (a `server` setting names a backend and a server); generous on purpose.</summary>
    private const int MaxSupervisorLine = 64 * 1024;

    /// <summary>How long a worker drains without the supervisor's order (it is gone, or a SIGTERM came): <see cref="OrphanDrain"/>, or `hard-stop-after` when shorter.</summary>
    private static TimeSpan OrphanDrainTimeout(ProxyConfig config)
        => config.Global.HardStopAfter is { } h && h < OrphanDrain ? h : OrphanDrain;

    /// <summary>Every <see cref="StatusInterval"/>: counters to the board, connection counts to the supervisor.</summary>
    private static async Task ReportStatusAsync(Socket channel, ProxyEngine engine, BoardPublisher publisher, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(StatusInterval);
        try
        {
            do
            {
                publisher.Publish();
                await WorkerChannel.SendLineAsync(channel, $"{WorkerMessages.Status} {engine.ActiveConnections} {engine.TotalConnections}", ct);
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped on purpose, or the supervisor is gone (the drain wait notices that).
        }
    }
}
