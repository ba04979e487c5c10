using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using NLog;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Shared.Logging;

namespace Proxy.Supervisor;

/// <summary>
/// Starts worker processes (fork+exec of proxy-worker: .NET cannot fork a running runtime) and hands each
/// its listening sockets. Each worker inherits one end of a socketpair made for it alone (its descriptor number
/// on the command line); over it the supervisor sends the listening sockets by SCM_RIGHTS and the
/// <see cref="WorkerInit"/>, then both sides exchange text messages. The channel has no name: no other process,
/// of any user, can connect to it (the former abstract socket could be flooded by any local user; SECURITY.md).
/// </summary>
public sealed class WorkerSpawner
{
    private static readonly Logger Log = LogManager.GetLogger("supervisor");

    /// <summary>The longest message line a worker may send (`health BACKEND SERVER up` and the like are far shorter).</summary>
    public const int MaxMessageLine = 4096;

    /// <summary>How long sending the listeners and the model to a new worker may take before the channel is dropped.</summary>
    private static readonly TimeSpan InitTimeout = TimeSpan.FromSeconds(15);

    // One spawn at a time: while the child's end is inheritable (between clearing its close-on-exec flag and closing
    // it here after the fork), another spawn would hand it to a second worker, which would then hold the first
    // worker's channel open (no end-of-file when it dies). The supervisor starts no other child process, and .NET
    // opens every descriptor close-on-exec, so this lock is the only thing that must cover the window.
    // Why Process.Start and not posix_spawn with a dup2 file action: Process keeps the stdout/stderr relays and the
    // asynchronous wait for exit (waitpid by the runtime's SIGCHLD handling; a second reaper would race it).
    private static readonly object SpawnGate = new();

    /// <summary>The worker executable, installed beside the supervisor's.</summary>
    public static string WorkerExecutable => Path.Combine(AppContext.BaseDirectory, "proxy-worker");

    /// <summary>
    /// Starts a worker for <paramref name="slot"/>. <paramref name="onMessage"/> receives each channel line
    /// after the handshake; <paramref name="onExit"/> runs once when the process has exited.
    /// </summary>
    public WorkerProcess Spawn(int slot, int generation, int[] cpus, WorkerInit init, int[] fds,
        Action<WorkerProcess, string> onMessage, Action<WorkerProcess> onExit)
    {
        var (channel, childFd) = SocketPair.Create();
        var psi = new ProcessStartInfo(WorkerExecutable)
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(WorkerChannel.FdArgument);
        psi.ArgumentList.Add(childFd.ToString(CultureInfo.InvariantCulture));
        psi.ArgumentList.Add("--slot");
        psi.ArgumentList.Add(slot.ToString(CultureInfo.InvariantCulture));
        WorkerRuntimeSettings.Apply(psi.Environment);

        Process process;
        try
        {
            lock (SpawnGate)
            {
                try
                {
                    int errno = SocketPair.SetInheritable(childFd, true);
                    if (errno != 0) throw new IOException($"fcntl(F_SETFD) on the worker channel failed: errno {errno}");
                    process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + WorkerExecutable);
                }
                finally
                {
                    SocketPair.Close(childFd); // the worker holds its copy now; ours must go so its death reads as EOF
                }
            }
        }
        catch
        {
            channel.Dispose();
            throw;
        }
        var worker = new WorkerProcess(slot, generation, cpus, process, init.BoardSlot);
        RelayOutput(process, worker);
        _ = RunChannelAsync(channel, worker, init, fds, onMessage);
        _ = WatchExitAsync(worker, channel, onExit);
        return worker;
    }

    /// <summary>
    /// Whether worker stdout lines (traffic logs of `log stdout`) are copied to the supervisor's stdout. Off for a
    /// daemon, whose stdout is first the READY line proxyctl waits for, then /dev/null (HAProxy's `-D` closes it too).
    /// </summary>
    public static bool ForwardStdout { get; set; }

    private static void RelayOutput(Process process, WorkerProcess worker)
    {
        // Workers log to stderr; the supervisor relays each line to its own log, so a daemonized instance keeps one
        // log stream and no worker writes into a terminal that went away. Their stdout carries only `log stdout`
        // traffic lines, copied as they are (a log collector reads the supervisor's stdout, as HAProxy's).
        var logger = LogManager.GetLogger($"worker {worker.Slot + 1} pid {worker.Pid}");
        DataReceivedEventHandler relay = (_, e) =>
        {
            if (e.Data is not { Length: > 0 } line) return;
            var (level, message) = LogSetup.RelayedLine(line);
            logger.Log(level, message);
        };
        DataReceivedEventHandler copy = (_, e) =>
        {
            if (e.Data is { Length: > 0 } line && ForwardStdout) Console.Out.WriteLine(line);
        };
        process.OutputDataReceived += copy;
        process.ErrorDataReceived += relay;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private static async Task WatchExitAsync(WorkerProcess worker, Socket channel, Action<WorkerProcess> onExit)
    {
        await worker.Process.WaitForExitAsync();
        worker.OnExited(worker.Process.ExitCode);
        channel.Dispose(); // ends a send or read still waiting on a worker that never read its init
        onExit(worker);
    }

    /// <summary>
    /// The supervisor's side of one worker's channel: the listening sockets and the model first (the worker reads
    /// them as soon as it runs; the kernel buffers them meanwhile), then every line the worker sends, until it exits.
    /// </summary>
    private static async Task RunChannelAsync(Socket channel, WorkerProcess worker, WorkerInit init, int[] fds,
        Action<WorkerProcess, string> onMessage)
    {
        try
        {
            int errno = FdPassing.Send(channel, fds);
            if (errno != 0) throw new IOException($"sendmsg(SCM_RIGHTS) failed: errno {errno}");
            using (var timeout = new CancellationTokenSource(InitTimeout))
                await WorkerChannel.SendInitAsync(channel, init, timeout.Token);
            worker.AttachChannel(channel);
            var reader = new ChannelLineReader(channel, MaxMessageLine);
            while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
            {
                if (line == WorkerMessages.Ready) worker.OnReady();
                onMessage(worker, line);
            }
        }
        catch (InvalidDataException e)
        {
            // Only a broken (or subverted) worker sends a line this long; it gets a fresh process.
            Log.Error($"worker slot {worker.Slot + 1} pid {worker.Pid}: {e.Message}; killing it");
            worker.Kill();
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The worker exited (WatchExitAsync reports it) or never read its init in time (the ready timeout kills it).
        }
    }
}
