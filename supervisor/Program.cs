using NLog;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Shared.Logging;
using Proxy.Shared.Stats;
using Proxy.Supervisor;

// proxy-supervisor -f FILE|DIR [-f FILE|DIR]... [--daemon] [--pidfile PATH] [--sd-notify] [--finish PID]... [--terminate PID]...
// Started by `proxyctl start` (or systemd, or `haproxy`, cli/HaproxyFront.cs). With --daemon it detaches from the
// terminal once every worker serves: it prints `READY <pid>` on stdout for proxyctl, then points its stdio at
// /dev/null. Several -f are read as one configuration (ConfigFiles). --pidfile is HAProxy's `-p` (it wins over
// `pidfile`); --sd-notify tells systemd READY=1 once every worker serves (HAProxy's `-Ws`, for Type=notify units).

var configPaths = new List<string>();
bool daemon = false, sdNotify = false;
string? pidFileArgument = null;
// `haproxy -sf|-st PID...` whose PIDs are another process (an older instance, HAProxy itself): their listeners are
// shared (SO_REUSEPORT) rather than refused, and once every worker serves they get SIGUSR1 (-sf: finish and exit) or
// SIGTERM (-st), as HAProxy's new process signals the old ones (doc/management.txt 3 "-sf", "-st").
var takeOver = new List<(int Pid, int Signal)>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "-f" when i + 1 < args.Length: configPaths.Add(args[++i]); break;
        case "--daemon": daemon = true; break;
        case "--pidfile" when i + 1 < args.Length: pidFileArgument = args[++i]; break;
        case "--sd-notify": sdNotify = true; break;
        case "--finish" or "--terminate" when i + 1 < args.Length && int.TryParse(args[i + 1], out int oldPid) && oldPid > 0:
            takeOver.Add((oldPid, args[i] == "--finish" ? Posix.SIGUSR1 : Posix.SIGTERM));
            i++;
            break;
        default:
            Console.Error.WriteLine($"proxy-supervisor: unknown argument '{args[i]}'\nusage: proxy-supervisor -f FILE [--daemon] [--pidfile PATH] [--sd-notify]");
            return 2;
    }
}
if (configPaths.Count == 0)
{
    Console.Error.WriteLine("usage: proxy-supervisor -f FILE [--daemon] [--pidfile PATH] [--sd-notify]");
    return 2;
}

LogSetup.ConfigureSupervisor([]);
var log = LogManager.GetLogger("supervisor");
// First of all: a stop or reload signal during start-up is handled, never the runtime's default (exit 143).
using var signals = new SupervisorSignals();

var result = configPaths.Count == 1 && !Directory.Exists(configPaths[0])
    ? ConfigLoader.Load(Path.GetFullPath(configPaths[0]))
    : ConfigFiles.Load(configPaths.ConvertAll(Path.GetFullPath));
foreach (var notice in result.Notices) log.Info(notice.ToString());
// `quiet` (3.1): no start-up message; errors are still printed, as HAProxy prints its alerts.
if (result.Config?.Global.Quiet != true)
    foreach (var warning in result.Warnings) log.Warn(warning.ToString());
if (!result.IsValid)
{
    foreach (var error in result.Errors) Console.Error.WriteLine(error.ToString());
    return 1;
}
// Read, parsed and resolved once: workers receive this model and never open the file (WorkerInit.Config).
var config = result.Config!;
if (pidFileArgument is not null) config = config with { Global = config.Global with { PidFile = pidFileArgument } };
// A log file the supervisor creates goes to the workers' `user`/`group`, who append to it too.
(uint Uid, uint Gid)? logFileOwner = Privileges.Resolve(config.Global.User, config.Global.Group, out uint? ownerUid, out uint? ownerGid) is null
    && ownerUid is { } ownerU && ownerGid is { } ownerG ? (ownerU, ownerG) : null;
LogSetup.ConfigureSupervisor(config.Global.Logs, logFileOwner);

FileDescriptorLimit.Apply(config.Global.UlimitN, log);

if (StartupChecks.Run(config) is { Count: > 0 } problems)
{
    foreach (var p in problems) Console.Error.WriteLine(p);
    return 1;
}

signals.StopTimeout = config.Global.HardStopAfter ?? TimeSpan.FromSeconds(30);
if (signals.IsStopRequested)
{
    log.Info("stopped during start-up, before any worker started");
    return 0;
}

if (daemon) Posix.CreateSession();
WorkerSpawner.ForwardStdout = !daemon;

int[][] cpuPlan = CpuPlan.Compute(config.Global, CpuAffinity.AllowedCpus());
var (listeners, bindErrors) = ListenerSet.Bind(config, cpuPlan.Length, shareWithOthers: takeOver.Count > 0);
if (bindErrors.Count > 0)
{
    foreach (var e in bindErrors) Console.Error.WriteLine(e);
    return 1;
}

// The stats board: totals a previous run left there carry over (they survive restarts too).
StatsBoard board;
string boardPath = InstancePaths.StatsBoard(config);
try
{
    board = StatsBoard.OpenOrCreate(boardPath, StatObjects.FromConfig(config), StatsBoard.DefaultSlotCount(cpuPlan.Length));
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine($"cannot create the stats board {boardPath}: {e.Message}");
    listeners.Dispose();
    return 1;
}

await using var supervisor = new Supervisor(config, listeners, cpuPlan, board);
Task RequestStop(TimeSpan timeout)
{
    signals.RequestStop(timeout);
    return Task.CompletedTask;
}

ControlServer control;
string controlPath = InstancePaths.ControlSocket(config);
try
{
    control = ControlServer.Open(config, new ControlCommands(supervisor, RequestStop), replaceLiveSockets: takeOver.Count > 0);
}
catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"cannot open control socket {controlPath}: {e.Message}");
    return 1;
}
using var _control = control;

try
{
    await supervisor.StartAsync();
}
catch (Exception e) when (e is TimeoutException or InvalidOperationException or System.ComponentModel.Win32Exception)
{
    Console.Error.WriteLine($"cannot start workers: {e.Message}");
    await supervisor.StopAsync(TimeSpan.FromSeconds(2));
    return 1;
}

if (signals.IsStopRequested)
{
    // A stop signal came while the workers started: they served for no one; stop them as asked, say so, exit 0.
    log.Info("stop requested during start-up: stopping the workers just started");
    await supervisor.StopAsync(await signals.StopRequested);
    log.Info("supervisor exiting");
    LogManager.Shutdown();
    return 0;
}

if (config.Global.PidFile is { } pidFile) File.WriteAllText(pidFile, Environment.ProcessId + "\n");

// SIGHUP and SIGUSR2 reload the config file from now on (one received while starting runs now).
signals.Serving(async () =>
{
    var r = await supervisor.ReloadFromFileAsync();
    if (r.Ok) log.Info(r.Message.TrimEnd()); else log.Error("reload failed: " + r.Message);
});

foreach (var (oldPid, signal) in takeOver)
    if (oldPid != Environment.ProcessId && !Posix.Signal(oldPid, signal))
        log.Warn($"cannot signal the old process {oldPid} (gone already, or not ours)");

if (sdNotify) SystemdNotify.Send($"READY=1\nMAINPID={Environment.ProcessId}");
if (daemon)
{
    // The line `proxyctl start` waits for; then the terminal is let go.
    Console.Out.WriteLine($"READY {Environment.ProcessId}");
    Console.Out.Flush();
    Posix.RedirectStdioToDevNull();
}

TimeSpan stopTimeout = await signals.StopRequested;
await supervisor.StopAsync(stopTimeout);
if (config.Global.PidFile is { } pf) try { File.Delete(pf); } catch (IOException) { }
log.Info("supervisor exiting");
LogManager.Shutdown();
return 0;
