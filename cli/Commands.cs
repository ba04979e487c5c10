using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;

namespace Proxy.Cli;

/// <summary>The verbs' behaviour. Each returns the process exit code.</summary>
public static class Commands
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);

    public static int Check(CheckOptions o)
    {
        var result = ConfigLoader.Load(o.File);
        foreach (var notice in result.Notices) Console.Error.WriteLine($"[NOTICE] {notice}");
        foreach (var w in result.Warnings) Console.Error.WriteLine($"[WARNING] {w}");
        if (result.IsValid)
        {
            Console.WriteLine("Configuration file is valid");
            return 0;
        }
        foreach (var e in result.Errors) Console.Error.WriteLine(e.ToString());
        return 1;
    }

    public static async Task<int> StartAsync(StartOptions o)
    {
        var result = ConfigLoader.Load(o.File);
        if (!result.IsValid)
        {
            foreach (var e in result.Errors) Console.Error.WriteLine(e.ToString());
            return 1;
        }
        string socket = o.Socket ?? InstancePaths.ControlSocket(result.Config!);
        if (await TryCommandAsync(socket, "show info") is { } info)
        {
            Console.Error.WriteLine($"already running: control socket {socket} answers ({FirstValue(info, "Pid") ?? "?"})");
            return 1;
        }
        return await StartSupervisorAsync(["-f", Path.GetFullPath(o.File)], o.Foreground);
    }

    /// <summary>Runs proxy-supervisor with <paramref name="arguments"/>: attached, or detached once it reports READY.</summary>
    internal static async Task<int> StartSupervisorAsync(IReadOnlyList<string> arguments, bool foreground)
    {
        string supervisor = Path.Combine(AppContext.BaseDirectory, "proxy-supervisor");
        var psi = new ProcessStartInfo(supervisor) { UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        return foreground ? await RunForegroundAsync(psi) : await RunDaemonAsync(psi);
    }

    /// <summary>Runs the supervisor attached to this terminal, passing stop signals on, until it exits.</summary>
    private static async Task<int> RunForegroundAsync(ProcessStartInfo psi)
    {
        using var process = Process.Start(psi)!;
        void Forward(PosixSignalContext c)
        {
            c.Cancel = true; // stay alive until the supervisor has stopped its workers
            Posix.Signal(process.Id, Posix.SIGTERM);
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Forward);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, Forward);
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    /// <summary>Starts the supervisor detached and returns once it reports READY, or fails with its errors.</summary>
    private static async Task<int> RunDaemonAsync(ProcessStartInfo psi)
    {
        psi.ArgumentList.Add("--daemon");
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using var process = Process.Start(psi)!;
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
        process.BeginErrorReadLine();

        var readLine = process.StandardOutput.ReadLineAsync();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(readLine, exited, Task.Delay(StartTimeout));
        string? line = first == readLine ? await readLine : null;
        if (line is not null && line.StartsWith("READY ", StringComparison.Ordinal))
        {
            Console.WriteLine($"started: supervisor pid {line[6..]}");
            return 0;
        }
        if (first != exited && !process.HasExited)
        {
            Posix.Signal(process.Id, Posix.SIGTERM);
            await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(5)));
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            Console.Error.WriteLine($"start failed: the supervisor did not report ready within {StartTimeout.TotalSeconds:0}s");
        }
        await process.WaitForExitAsync();
        lock (errors) Console.Error.Write(ErrorLines(errors.ToString()));
        Console.Error.WriteLine("start failed; nothing is left running");
        return 1;
    }

    /// <summary>The supervisor logs at every level on stderr; on a failed start show what explains it.</summary>
    private static string ErrorLines(string all)
    {
        var sb = new StringBuilder();
        foreach (var line in all.Split('\n'))
            if (!line.Contains(" INFO: ", StringComparison.Ordinal) && line.Trim().Length > 0) sb.AppendLine(line.TrimEnd('\r'));
        return sb.ToString();
    }

    public static async Task<int> StopAsync(StopOptions o)
    {
        string socket = ResolveSocket(o);
        string? reply = await TryCommandAsync(socket, FormattableString.Invariant($"stop {o.Timeout}"));
        if (reply is null)
        {
            Console.Error.WriteLine($"not running: nothing answers on control socket {socket}");
            return 1;
        }
        // "Stopping supervisor PID (...)": wait until that process is gone, so the ports are free on return.
        string[] words = reply.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 3 || words[0] != "Stopping" || !int.TryParse(words[2], out int pid))
        {
            Console.Error.Write(reply);
            return 1;
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(o.Timeout) + TimeSpan.FromSeconds(15);
        while (Posix.ProcessExists(pid) && DateTime.UtcNow < deadline) await Task.Delay(25);
        if (Posix.ProcessExists(pid))
        {
            Console.Error.WriteLine($"supervisor {pid} is still running after the timeout");
            return 1;
        }
        Console.WriteLine($"stopped: supervisor pid {pid}");
        return 0;
    }

    public static async Task<int> ReloadAsync(ReloadOptions o)
    {
        // Check here first, so a typo is reported the same way `check` reports it, without a round trip.
        var result = ConfigLoader.Load(o.File);
        if (!result.IsValid)
        {
            foreach (var e in result.Errors) Console.Error.WriteLine(e.ToString());
            Console.Error.WriteLine("reload refused: the running instance is unchanged");
            return 1;
        }
        string socket = ResolveSocket(o);
        string? reply = await TryCommandAsync(socket, "reload", TimeSpan.FromSeconds(90));
        if (reply is null)
        {
            Console.Error.WriteLine($"not running: nothing answers on control socket {socket}");
            return 1;
        }
        bool ok = reply.StartsWith("Success=1", StringComparison.Ordinal);
        int sep = reply.IndexOf("--\n", StringComparison.Ordinal);
        string details = sep >= 0 ? reply[(sep + 3)..] : reply;
        if (ok)
        {
            Console.Write(details);
            return 0;
        }
        Console.Error.Write("reload failed: " + details);
        return 1;
    }

    public static async Task<int> StatusAsync(StatusOptions o)
    {
        string socket = ResolveSocket(o);
        string? reply = await TryCommandAsync(socket, "status");
        if (reply is null)
        {
            Console.Error.WriteLine($"not running: nothing answers on control socket {socket}");
            return 3; // LSB: program is not running
        }
        Console.Write(reply);
        return 0;
    }

    /// <summary>Sends one command to the instance <paramref name="o"/> names; the reply is null when nothing answers.</summary>
    public static async Task<(string? Reply, string Socket)> SendToInstanceAsync(InstanceOptions o, string command)
    {
        string socket = ResolveSocket(o);
        return (await TryCommandAsync(socket, command), socket);
    }

    /// <summary>-S wins; else the file's `stats socket`; else the default derived from the file's path.</summary>
    private static string ResolveSocket(InstanceOptions o)
    {
        return o.Socket ?? InstancePaths.ControlSocketOf(o.File);
    }

    private static async Task<string?> TryCommandAsync(string socket, string command, TimeSpan? timeout = null)
    {
        try
        {
            return await ControlClient.SendAsync(socket, command, timeout ?? CommandTimeout);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            return null;
        }
    }

    private static string? FirstValue(string info, string key)
    {
        foreach (var line in info.Split('\n'))
            if (line.StartsWith(key + ": ", StringComparison.Ordinal)) return "pid " + line[(key.Length + 2)..];
        return null;
    }
}
