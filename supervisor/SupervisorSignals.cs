using System.Runtime.InteropServices;
using NLog;
using Proxy.Shared.Interop;

namespace Proxy.Supervisor;

/// <summary>
/// The supervisor's signal handlers, installed before anything else runs (config parsing, binding, starting workers),
/// so a signal during start-up is never the runtime's default (SIGTERM would kill the supervisor with status 143 and
/// leave its workers to find out alone). SIGTERM, SIGINT and SIGQUIT ask for a graceful stop, whenever they come, and
/// so does SIGUSR1 (HAProxy's soft stop, which a process started with `haproxy -sf PID` sends to PID);
/// SIGHUP and SIGUSR2 (HAProxy's master) reload the config file, and one that comes while starting is queued: it runs
/// once every worker serves, so a file edited during start-up is not missed.
/// </summary>
public sealed class SupervisorSignals : IDisposable
{
    private static readonly Logger Log = LogManager.GetLogger("supervisor");

    private readonly object _gate = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly TaskCompletionSource<TimeSpan> _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<Task>? _reload;      // null while starting
    private bool _reloadQueued;

    public SupervisorSignals()
    {
        // Started under `nohup` (SIGHUP ignored) or by a parent that ignores these, the handlers would never run:
        // HAProxy's master reloads on SIGHUP/SIGUSR2 whatever it inherited, and so does this supervisor.
        foreach (int signal in new[] { Posix.SIGHUP, Posix.SIGUSR2, Posix.SIGTERM, Posix.SIGINT, Posix.SIGQUIT, Posix.SIGUSR1 })
            Posix.RestoreDefaultAction(signal);
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT, (PosixSignal)Posix.SIGUSR1 })
            _registrations.Add(PosixSignalRegistration.Create(signal, OnStop));
        foreach (var signal in new[] { PosixSignal.SIGHUP, (PosixSignal)Posix.SIGUSR2 })
            _registrations.Add(PosixSignalRegistration.Create(signal, OnReload));
    }

    /// <summary>How long a signalled stop lets connections finish: `hard-stop-after`, else 30 s (set once the config is read).</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Completes with the drain timeout when a stop signal came (or <see cref="RequestStop"/> was called).</summary>
    public Task<TimeSpan> StopRequested => _stop.Task;

    public bool IsStopRequested => _stop.Task.IsCompleted;

    public void RequestStop(TimeSpan timeout) => _stop.TrySetResult(timeout);

    /// <summary>Start-up is over: reload signals now run <paramref name="reload"/>, and one queued meanwhile runs now.</summary>
    public void Serving(Func<Task> reload)
    {
        bool queued;
        lock (_gate)
        {
            _reload = reload;
            queued = _reloadQueued;
            _reloadQueued = false;
        }
        if (!queued) return;
        Log.Info("running the reload requested during start-up");
        _ = Task.Run(reload);
    }

    private void OnStop(PosixSignalContext context)
    {
        context.Cancel = true; // the graceful stop is ours to run; the runtime must not exit first
        if (_stop.Task.IsCompleted) return;
        Log.Info($"{SignalName(context.Signal)}: stopping{(Started ? "" : " (received during start-up)")}");
        _stop.TrySetResult(StopTimeout);
    }

    private void OnReload(PosixSignalContext context)
    {
        context.Cancel = true;
        Func<Task>? reload;
        lock (_gate)
        {
            reload = _reload;
            if (reload is null) _reloadQueued = true;
        }
        if (reload is null)
        {
            Log.Warn($"{SignalName(context.Signal)}: reload requested while the instance is starting; queued, it runs once every worker serves");
            return;
        }
        _ = Task.Run(reload);
    }

    private bool Started
    {
        get { lock (_gate) return _reload is not null; }
    }

    private static string SignalName(PosixSignal signal) => (int)signal == Posix.SIGUSR2 ? "SIGUSR2" : signal.ToString();

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
