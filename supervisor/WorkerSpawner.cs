using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using NLog;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Shared.Logging;

namespace Proxy.Supervisor;

/// <summary>
/// Starts worker processes (fork+exec of proxy-worker: .NET cannot fork a running runtime) and hands each
/// its listening sockets. The worker connects back to a private abstract Unix socket, proves itself with
/// a one-time token passed in its environment (readable by its owner only) and by its pid (SO_PEERCRED),
/// then receives its sockets by SCM_RIGHTS and its <see cref="WorkerInit"/>.
/// </summary>
public sealed class WorkerSpawner : IDisposable
{
    private static readonly Logger Log = LogManager.GetLogger("supervisor");
    private readonly Socket _listener;
    private readonly string _channelName;
    private readonly ConcurrentDictionary<string, Pending> _pending = new();
    private readonly CancellationTokenSource _stop = new();

    // Registered before the process starts: a Native AOT worker can connect back within a millisecond,
    // before Process.Start has even returned here, so the handshake waits for Worker to be set.
    private sealed record Pending(TaskCompletionSource<WorkerProcess> Worker, WorkerInit Init, int[] Fds, Action<WorkerProcess, string> OnMessage);

    public WorkerSpawner()
    {
        // Abstract namespace (leading NUL): nothing on disk to clean up or chroot away, gone with the process.
        _channelName = $"\0proxy-workers-{Environment.ProcessId}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(6))}";
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(_channelName));
        _listener.Listen(64);
        _ = AcceptLoopAsync();
    }

    /// <summary>The worker executable, installed beside the supervisor's.</summary>
    public static string WorkerExecutable => Path.Combine(AppContext.BaseDirectory, "proxy-worker");

    /// <summary>
    /// Starts a worker for <paramref name="slot"/>. <paramref name="onMessage"/> receives each channel line
    /// after the handshake; <paramref name="onExit"/> runs once when the process has exited.
    /// </summary>
    public WorkerProcess Spawn(int slot, int generation, int[] cpus, WorkerInit init, int[] fds,
        Action<WorkerProcess, string> onMessage, Action<WorkerProcess> onExit)
    {
        string token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var psi = new ProcessStartInfo(WorkerExecutable)
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add("--channel");
        psi.ArgumentList.Add(_channelName[1..]);
        psi.ArgumentList.Add("--slot");
        psi.ArgumentList.Add(slot.ToString());
        psi.Environment[WorkerChannel.TokenVariable] = token;
        WorkerRuntimeSettings.Apply(psi.Environment);

        var started = new TaskCompletionSource<WorkerProcess>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[token] = new Pending(started, init, fds, onMessage);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + WorkerExecutable);
        }
        catch
        {
            _pending.TryRemove(token, out _);
            throw;
        }
        var worker = new WorkerProcess(slot, generation, cpus, token, process, init.BoardSlot);
        started.SetResult(worker);
        RelayOutput(process, worker);
        _ = WatchExitAsync(worker, onExit);
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

    private async Task WatchExitAsync(WorkerProcess worker, Action<WorkerProcess> onExit)
    {
        await worker.Process.WaitForExitAsync();
        _pending.TryRemove(worker.Token, out _);
        worker.OnExited(worker.Process.ExitCode);
        onExit(worker);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = HandshakeAsync(client);
        }
    }

    private async Task HandshakeAsync(Socket client)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            string? hello = await ReadLineAsync(client, new StringBuilder(), timeout.Token);
            string[] parts = hello?.Split(' ') ?? [];
            if (parts.Length != 3 || parts[0] != "hello" || !_pending.TryRemove(parts[2], out var pending))
            {
                client.Dispose();
                return;
            }
            var worker = await pending.Worker.Task.WaitAsync(timeout.Token);
            var peer = Posix.PeerCredentials(client);
            if (peer is null || peer.Value.Pid != worker.Pid)
            {
                Log.Warn($"refused a worker channel from pid {peer?.Pid}: expected pid {worker.Pid}");
                client.Dispose();
                return;
            }
            int errno = FdPassing.Send(client, pending.Fds);
            if (errno != 0) throw new IOException($"sendmsg(SCM_RIGHTS) failed: errno {errno}");
            await WorkerChannel.SendInitAsync(client, pending.Init, timeout.Token);
            worker.AttachChannel(client);
            await ReadMessagesAsync(client, worker, pending.OnMessage);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            client.Dispose();
        }
    }

    private static async Task ReadMessagesAsync(Socket client, WorkerProcess worker, Action<WorkerProcess, string> onMessage)
    {
        var pending = new StringBuilder();
        while (true)
        {
            string? line = await ReadLineAsync(client, pending, CancellationToken.None);
            if (line is null) return; // the worker exited or closed its end
            if (line == WorkerMessages.Ready) worker.OnReady();
            onMessage(worker, line);
        }
    }

    /// <summary>Reads one '\n'-terminated line; null at end of stream. Control traffic only, never the data path.</summary>
    private static async Task<string?> ReadLineAsync(Socket socket, StringBuilder carry, CancellationToken ct)
    {
        byte[] one = new byte[256];
        while (true)
        {
            string text = carry.ToString();
            int nl = text.IndexOf('\n');
            if (nl >= 0)
            {
                carry.Remove(0, nl + 1);
                return text[..nl];
            }
            int n = await socket.ReceiveAsync(one, SocketFlags.None, ct);
            if (n == 0) return null;
            carry.Append(Encoding.UTF8.GetString(one, 0, n));
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
    }
}
