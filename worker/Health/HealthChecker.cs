using System.Diagnostics;
using System.Net.Sockets;
using Proxy.Worker.Balancing;

namespace Proxy.Worker.Health;

/// <summary>
/// Layer 4 active checks of the servers with `check`: a TCP connect every `inter`, `rise` consecutive successes
/// to go UP and `fall` consecutive failures to go DOWN, transitions logged with HAProxy's wording. One loop per
/// checked server; the per-connection path only reads the resulting <see cref="ServerRuntime.IsUsable"/>.
/// </summary>
internal sealed class HealthChecker
{
    private static readonly TimeSpan DefaultInter = TimeSpan.FromSeconds(2);

    private readonly ServerRuntime _server;
    private readonly NLog.ILogger _log;
    private readonly Action<string, string, bool>? _changed;
    private int _successes;
    private int _failures;

    /// <param name="changed">told of each transition (backend, server, up), so the worker can share it</param>
    public HealthChecker(ServerRuntime server, NLog.ILogger log, Action<string, string, bool>? changed = null)
    {
        _server = server;
        _log = log;
        _changed = changed;
    }

    /// <summary>Runs checks until <paramref name="stop"/> is cancelled; never throws.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var config = _server.Config;
        var inter = config.Inter > TimeSpan.Zero ? config.Inter : DefaultInter;
        // The check's connect timeout: `timeout check` if set, else `timeout connect`, never above `inter`.
        var timeouts = _server.Backend.Config.Timeouts;
        var timeout = timeouts.Check ?? timeouts.Connect ?? inter;
        if (timeout > inter) timeout = inter;
        // Spread the first checks over one interval, as HAProxy does, so servers are not probed in bursts.
        var first = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * inter.TotalMilliseconds);
        try
        {
            await Task.Delay(first, stop).ConfigureAwait(false);
            while (!stop.IsCancellationRequested)
            {
                await CheckOnceAsync(timeout, stop).ConfigureAwait(false);
                await Task.Delay(inter, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // engine stopping
        }
    }

    /// <summary>One probe; updates the rise/fall counters and the server state.</summary>
    internal async Task CheckOnceAsync(TimeSpan timeout, CancellationToken stop)
    {
        var watch = Stopwatch.StartNew();
        string? reason = null, info = null;
        using (var cts = CancellationTokenSource.CreateLinkedTokenSource(stop))
        using (var socket = new Socket(_server.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp))
        {
            cts.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(_server.EndPoint, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                stop.ThrowIfCancellationRequested();
                reason = "Layer4 timeout";
            }
            catch (SocketException e)
            {
                reason = "Layer4 connection problem";
                info = e.Message;
            }
        }
        long duration = watch.ElapsedMilliseconds;
        int rise = Math.Max(1, _server.Config.Rise), fall = Math.Max(1, _server.Config.Fall);
        if (reason is null)
        {
            _failures = 0;
            if (!_server.IsUp && ++_successes >= rise)
            {
                _successes = 0;
                if (_server.SetUp(true)) LogChange(true, "Layer4 check passed", null, duration);
            }
        }
        else
        {
            _successes = 0;
            if (_server.IsUp && ++_failures >= fall)
            {
                _failures = 0;
                if (_server.SetUp(false)) LogChange(false, reason, info, duration);
            }
        }
    }

    private void LogChange(bool up, string reason, string? info, long durationMs)
    {
        var be = _server.Backend;
        _changed?.Invoke(be.Name, _server.Name, up);
        string infoPart = info is null ? "" : $", info: \"{info}\"";
        if (up)
        {
            _log.Warn($"Server {be.Name}/{_server.Name} is UP, reason: {reason}{infoPart}, check duration: {durationMs}ms. "
                + $"{be.ActiveUsable} active and {be.BackupUsable} backup servers online.");
        }
        else
        {
            _log.Warn($"Server {be.Name}/{_server.Name} is DOWN, reason: {reason}{infoPart}, check duration: {durationMs}ms. "
                + $"{be.ActiveUsable} active and {be.BackupUsable} backup servers left.");
            if (be.ActiveUsable == 0 && be.BackupUsable == 0) _log.Error($"backend {be.Name} has no server available!");
        }
    }
}
