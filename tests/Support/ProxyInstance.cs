using NUnit.Framework;
using Proxy.Shared.Interop;

namespace Proxy.Tests.Support;

/// <summary>
/// A real instance started with `proxyctl start -f FILE` from a config written to a temporary folder.
/// Dispose stops it (and, if a test broke it, kills what is left), so no test leaks processes or ports.
/// </summary>
public sealed class ProxyInstance : IDisposable
{
    public string Directory { get; }
    public string ConfigPath { get; }
    public string SocketPath { get; }
    public string PidFile { get; }

    /// <param name="body">the config after `global` (defaults, frontends, backends)</param>
    /// <param name="global">extra `global` lines</param>
    public ProxyInstance(string body, string global = "    nbproc 2\n")
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("proxy-test-").FullName;
        ConfigPath = Path.Combine(Directory, "proxy.cfg");
        SocketPath = Path.Combine(Directory, "control.sock");
        PidFile = Path.Combine(Directory, "proxy.pid");
        File.WriteAllText(ConfigPath,
            "global\n" +
            $"    stats socket {SocketPath} mode 600 level admin\n" +
            $"    pidfile {PidFile}\n" +
            global + "\n" + body + (body.EndsWith('\n') ? "" : "\n"));   // HAProxy (and so this proxy) refuses a last line without LF
        Leftovers.Track(this);
    }

    /// <summary>
    /// Variables given to every proxyctl run, and so to the supervisor and its workers, e.g. the worker's housekeeping
    /// intervals shortened (worker/HousekeepingIntervals.cs). Set before <see cref="Start"/>.
    /// </summary>
    public Dictionary<string, string> EnvironmentVariables { get; } = [];

    public ProcessRunner.Result Ctl(params string[] args)
    {
        var all = new List<string>(args) { "-f", ConfigPath };
        return ProcessRunner.Run(Artifacts.Proxyctl, all, environment: EnvironmentVariables);
    }

    public ProxyInstance Start()
    {
        var r = Ctl("start");
        Assert.That(r.ExitCode, Is.EqualTo(0), "proxyctl start failed:\n" + r.All);
        return this;
    }

    public int SupervisorPid => int.Parse(File.ReadAllText(PidFile).Trim());

    /// <summary>Worker pids by parsing `proxyctl status` (slot, pid, ..., state).</summary>
    public List<(int Slot, int Pid, string Cpus, int Generation, string State)> Workers()
    {
        var r = Ctl("status");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        var list = new List<(int, int, string, int, string)>();
        foreach (var line in r.Stdout.Split('\n'))
        {
            var w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (w.Length >= 5 && int.TryParse(w[0], out int slot) && int.TryParse(w[1], out int pid))
                list.Add((slot, pid, w[2], int.Parse(w[3]), w[4]));
        }
        return list;
    }

    public void Dispose()
    {
        Leftovers.Forget(this);
        int pid = File.Exists(PidFile) && int.TryParse(File.ReadAllText(PidFile).Trim(), out int p) ? p : 0;
        if (pid > 0 && Posix.ProcessExists(pid))
        {
            // A stop with no drain time: what the test opened is cut at once instead of costing every test up to a
            // second of idle keep-alive grace (ProxyEngine.DrainIdleGraceMs). Tests of a graceful stop stop it themselves.
            ProcessRunner.Run(Artifacts.Proxyctl, ["stop", "-f", ConfigPath, "--timeout", "0"], TimeSpan.FromSeconds(30));
            if (Posix.ProcessExists(pid)) Posix.Signal(pid, Posix.SIGKILL);
        }
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
