using System.Diagnostics;
using NUnit.Framework;
using Proxy.Shared.Interop;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>Start-up: a configuration with nothing to serve runs, and signals during start-up are handled.</summary>
[NonParallelizable]
[TestFixture]
public sealed class StartupTests
{
    [Test]
    public void Start_OnlyGlobalWithStatsSocket_StartsAndStops()
    {
        // HAProxy runs such a file; the worker has nothing to serve and still reports ready.
        using var proxy = new ProxyInstance("", "    nbproc 1\n");
        var start = proxy.Ctl("start");
        Assert.That(start.ExitCode, Is.EqualTo(0), start.All);
        Assert.That(proxy.Workers().Single().State, Is.EqualTo("running"));
        var stop = proxy.Ctl("stop", "--timeout", "2");
        Assert.That(stop.ExitCode, Is.EqualTo(0), stop.All);
        Assert.That(proxy.Ctl("status").ExitCode, Is.EqualTo(3), "nothing left running");
    }

    /// <summary>
    /// The supervisor started on a FIFO as its config file: it blocks reading it, after installing its signal handlers
    /// and before anything else, so a signal sent while the FIFO is open lands in start-up for sure.
    /// </summary>
    private sealed class SupervisorOnFifo : IDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _stderr;
        private readonly string _dir = Directory.CreateTempSubdirectory("proxy-startup-").FullName;

        public SupervisorOnFifo()
        {
            ConfigPath = Path.Combine(_dir, "proxy.cfg");
            SocketPath = Path.Combine(_dir, "control.sock");
            var mkfifo = ProcessRunner.Run("mkfifo", [ConfigPath]);
            Assert.That(mkfifo.ExitCode, Is.EqualTo(0), mkfifo.All);
            var psi = new ProcessStartInfo(Artifacts.Executable("proxy-supervisor"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add("-f");
            psi.ArgumentList.Add(ConfigPath);
            _process = Process.Start(psi)!;
            _ = _process.StandardOutput.ReadToEndAsync();
            _stderr = _process.StandardError.ReadToEndAsync();
        }

        public string ConfigPath { get; }
        public string SocketPath { get; }
        public int Pid => _process.Id;

        public string Config => $"global\n    stats socket {SocketPath} mode 600 level admin\n    nbproc 1\n";

        /// <summary>
        /// Opens the FIFO for writing: returns once the supervisor has it open for reading (it is starting). Fails after
        /// 15 s instead of hanging, and then opens the reading end itself so the blocked open(2) returns too.
        /// </summary>
        public FileStream OpenWriter()
        {
            var open = Task.Run(() => new FileStream(ConfigPath, FileMode.Open, FileAccess.Write));
            if (open.Wait(TimeSpan.FromSeconds(15))) return open.Result;
            using (new FileStream(ConfigPath, FileMode.Open, FileAccess.Read)) open.Result.Dispose();
            Assert.Fail("the supervisor never opened its config file:\n" + (_process.HasExited ? _stderr.Result : "(still running)"));
            return null!;
        }

        /// <summary>Waits for the exit; returns the status and what it logged.</summary>
        public (int ExitCode, string Stderr) WaitForExit(TimeSpan timeout)
        {
            if (!_process.WaitForExit(timeout))
            {
                _process.Kill();
                Assert.Fail("the supervisor did not exit in time:\n" + _stderr.Result);
            }
            _process.WaitForExit();
            return (_process.ExitCode, _stderr.Result);
        }

        public void Dispose()
        {
            if (!_process.HasExited) { _process.Kill(entireProcessTree: true); _process.WaitForExit(); }
            _process.Dispose();
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        }
    }

    private static void Write(FileStream fifo, string text)
    {
        fifo.Write(System.Text.Encoding.UTF8.GetBytes(text));
        fifo.Flush();
    }

    [Test]
    public void SigtermAndSighup_DuringStartUp_StopCleanlyWithExitZero()
    {
        using var supervisor = new SupervisorOnFifo();
        using (var fifo = supervisor.OpenWriter())
        {
            Posix.Signal(supervisor.Pid, Posix.SIGHUP);
            Posix.Signal(supervisor.Pid, Posix.SIGTERM);
            Write(fifo, supervisor.Config);
        }
        var (exitCode, stderr) = supervisor.WaitForExit(TimeSpan.FromSeconds(20));
        Assert.That(exitCode, Is.EqualTo(0), "handled, not killed by the signal (143):\n" + stderr);
        Assert.That(stderr, Does.Contain("SIGTERM: stopping (received during start-up)"));
        // Not asserted here: the SIGHUP's "queued" line. The runtime may run the SIGTERM handler first, and the stop
        // can end the process before the SIGHUP handler logs (seen once in CI). Exit 0 shows neither signal killed it;
        // Sighup_DuringStartUp_IsQueuedThenReloads checks the queued reload itself.
    }

    [Test]
    public async Task Sighup_DuringStartUp_IsQueuedThenReloads()
    {
        using var supervisor = new SupervisorOnFifo();
        using (var fifo = supervisor.OpenWriter())
        {
            Posix.Signal(supervisor.Pid, Posix.SIGHUP);
            Write(fifo, supervisor.Config);
        }
        // The start-up read must be over before the second writer opens the FIFO: a writer that opened while the
        // start-up reader was still open would append its text to the start-up config (two of every section, so the
        // start fails) instead of feeding the reload. The control socket answers only after the config was read.
        var readDeadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await Proxy.Shared.Control.ControlClient.SendAsync(supervisor.SocketPath, "status", TimeSpan.FromSeconds(5));
                break;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < readDeadline) { await Task.Delay(50); }
        }
        // Once serving, the queued reload reads the file again: the FIFO blocks it until this second write.
        using (var again = supervisor.OpenWriter()) Write(again, supervisor.Config);
        // 30 s: the reload starts two new workers, which took over 15 s once on a 2-core box at load average 30.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string status = "", lastError = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                status = await Proxy.Shared.Control.ControlClient.SendAsync(supervisor.SocketPath, "status", TimeSpan.FromSeconds(5));
                if (status.Contains("generation 2")) break;
            }
            catch (System.Net.Sockets.SocketException e) { lastError = e.Message; }
            await Task.Delay(50);
        }
        Assert.That(status, Does.Contain("generation 2"), $"the queued reload ran once the workers served (last control socket error: '{lastError}')");
        Posix.Signal(supervisor.Pid, Posix.SIGTERM);
        var (exitCode, stderr) = supervisor.WaitForExit(TimeSpan.FromSeconds(20));
        Assert.That(exitCode, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("SIGHUP: reload requested while the instance is starting; queued"));
        Assert.That(stderr, Does.Contain("running the reload requested during start-up"));
    }
}
