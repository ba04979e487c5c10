using NUnit.Framework;
using Proxy.Shared.Interop;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// HAProxy's command line (cli/HaproxyFront.cs), run the way the package installs it: proxyctl through a link named
/// `haproxy`. Flags, exit codes and a start/reload/stop cycle driven only with HAProxy's flags.
/// </summary>
[TestFixture]
public sealed class HaproxyCommandLineTests
{
    private string _dir = "";
    private string _haproxy = "";

    [OneTimeSetUp]
    public void LinkAsHaproxy()
    {
        _dir = Directory.CreateTempSubdirectory("proxy-haproxy-cli-").FullName;
        _haproxy = Path.Combine(_dir, "haproxy");
        File.CreateSymbolicLink(_haproxy, Artifacts.Proxyctl);
    }

    [OneTimeTearDown]
    public void RemoveLink() => Directory.Delete(_dir, recursive: true);

    private ProcessRunner.Result Haproxy(params string[] args) => ProcessRunner.Run(_haproxy, args);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Proxies =
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n" +
        "frontend fe\n    bind 127.0.0.1:{0}\n    default_backend be\n" +
        "backend be\n    server s1 127.0.0.1:{1}\n";

    [Test]
    public void Version_SaysWhichHaproxyItAnswersFor()
    {
        var v = Haproxy("-v");
        Assert.That(v.ExitCode, Is.EqualTo(0));
        Assert.That(v.Stdout, Does.StartWith("HAProxy version 2.6.12 "));
        var vv = Haproxy("-vv");
        Assert.That(vv.ExitCode, Is.EqualTo(0));
        Assert.That(vv.Stdout, Does.Contain("Feature list : ").And.Contain("+THREAD"));
    }

    [Test]
    public void Check_ValidAndInvalid_ExitLikeHaproxy()
    {
        string good = Write("good.cfg", string.Format(Proxies, 8001, 8002));
        var ok = Haproxy("-c", "-f", good);
        Assert.That((ok.ExitCode, ok.Stdout.Trim()), Is.EqualTo((0, "Configuration file is valid")), ok.All);
        var quiet = Haproxy("-c", "-q", "-f", good);
        Assert.That((quiet.ExitCode, quiet.Stdout), Is.EqualTo((0, "")));
        string bad = Write("bad.cfg", "global\n    maxconn lots\n");
        var ko = Haproxy("-c", "-f", bad);
        Assert.That(ko.ExitCode, Is.EqualTo(1));
        Assert.That(ko.Stderr, Does.Contain("[ALERT]").And.Contain("bad.cfg:2: 'maxconn'"));
    }

    [Test]
    public void GlobalQuietAndZeroWarning_AnswerAsHaproxy26Does()
    {
        // As Debian's HAProxy 2.6.12 answers the same files: `quiet` is the file's -q (nothing printed, exit 0);
        // `zero-warning` turns a warning into a refusal (exit 1).
        string quiet = Write("quiet.cfg", "global\n    quiet\n    insecure-fork-wanted\n" + string.Format(Proxies, 8006, 8007));
        var q = Haproxy("-c", "-f", quiet);
        Assert.That((q.ExitCode, q.All.Trim()), Is.EqualTo((0, "")), q.All);
        // HAProxy's own warning (a backend without `timeout connect`) refuses the file; this proxy's "has no effect
        // here" notes (maxpipes) do not, since HAProxy accepts that file.
        string noConnectTimeout = string.Format(Proxies, 8008, 8009).Replace("    timeout connect 5s\n", "");
        string strict = Write("strict.cfg", "global\n    zero-warning\n" + noConnectTimeout);
        var z = Haproxy("-c", "-f", strict);
        Assert.That(z.ExitCode, Is.EqualTo(1), z.All);
        Assert.That(z.Stderr, Does.Contain("[WARNING]").And.Contain("timeout connect")
            .And.Contain("[ALERT]").And.Contain("strict.cfg:2: 'zero-warning'"), z.All);
        var notes = Haproxy("-c", "-f", Write("strict-ok.cfg", "global\n    zero-warning\n    maxpipes 100\n" + string.Format(Proxies, 8010, 8011)));
        Assert.That(notes.ExitCode, Is.EqualTo(0), notes.All);
    }

    [Test]
    public void Check_SeveralFilesAndADirectory_ReadAsOne_WithEachFilesOwnLines()
    {
        string conf = Path.Combine(_dir, "conf.d");
        Write("conf.d/10-global.cfg", "global\n    maxconn 100\n");
        Write("conf.d/20-proxies.cfg", string.Format(Proxies, 8003, 8004));
        Assert.That(Haproxy("-c", "-f", conf).ExitCode, Is.EqualTo(0));
        string extra = Write("extra.cfg", "backend more\n    server s2 127.0.0.1:8005\n    nonsense here\n");
        var r = Haproxy("-c", "-f", conf, "-f", extra);
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Stderr, Does.Contain("extra.cfg:3: unknown keyword 'nonsense'"), r.All);
    }

    [TestCase("version_atleast(2.6)", 0)]
    [TestCase("version_before(2.6) || feature(NO_SUCH)", 1)]
    [TestCase("streq(a,a) && !strneq(a,a)", 0)]
    [TestCase("nonsense(", 2)]
    public void CheckCondition_ExitsZeroOneOrTwo(string condition, int expected)
    {
        Assert.That(Haproxy("-cc", condition).ExitCode, Is.EqualTo(expected));
    }

    [Test]
    public void UnknownFlag_IsAUsageError()
    {
        var r = Haproxy("-Z");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Stderr, Does.Contain("Usage : haproxy"));
    }

    [Test]
    public async Task DaemonStart_ReloadWithSf_ThenStop_WithHaproxysFlagsOnly()
    {
        using var origin = new OriginProcess("hap");
        int port = Ports.Free();
        string pidFile = Path.Combine(_dir, "haproxy.pid");
        string config = Write("run.cfg",
            $"global\n    nbthread 1\n    stats socket {Path.Combine(_dir, "run.sock")} mode 600 level admin\n" +
            string.Format(Proxies, port, origin.Port));
        var start = Haproxy("-D", "-f", config, "-p", pidFile);
        Assert.That(start.ExitCode, Is.EqualTo(0), start.All);
        int pid = int.Parse(File.ReadAllText(pidFile).Trim());
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            Assert.That(await http.GetStringAsync($"http://127.0.0.1:{port}/"), Is.EqualTo("hello from hap\n"));

            // What a reload script does with HAProxy: the running instance reloads in place and keeps its pid.
            var reload = Haproxy("-D", "-f", config, "-p", pidFile, "-sf", pid.ToString());
            Assert.That(reload.ExitCode, Is.EqualTo(0), reload.All);
            Assert.That(int.Parse(File.ReadAllText(pidFile).Trim()), Is.EqualTo(pid));
            Assert.That(await http.GetStringAsync($"http://127.0.0.1:{port}/"), Is.EqualTo("hello from hap\n"));
        }
        finally
        {
            Posix.Signal(pid, Posix.SIGTERM);
            await Poll.UntilAsync(() => !Posix.ProcessExists(pid), "the supervisor gone after SIGTERM");
        }
    }

    /// <summary>
    /// `-sf PID` naming another process, here a real HAProxy 2.6 serving the same port: the new instance shares the port
    /// (SO_REUSEPORT) instead of refusing it, then sends HAProxy SIGUSR1 once it serves, and HAProxy finishes and exits,
    /// as with HAProxy's own legacy reload. `-st` sends SIGTERM (a `sleep` stands for the old process there).
    /// </summary>
    [Test]
    public async Task SfWithAForeignPid_SharesTheListeners_ThenSoftStopsThatProcess()
    {
        using var origin = new OriginProcess("after-haproxy");
        int port = Ports.Free();
        string haproxyPidFile = Path.Combine(_dir, "real-haproxy.pid");
        string haproxyConfig = Write("real-haproxy.cfg", string.Format(Proxies, port, origin.Port));
        var old = ProcessRunner.Run("/usr/sbin/haproxy", ["-D", "-f", haproxyConfig, "-p", haproxyPidFile]);
        Assert.That(old.ExitCode, Is.EqualTo(0), old.All);
        int haproxyPid = int.Parse(File.ReadAllText(haproxyPidFile).Trim());
        string pidFile = Path.Combine(_dir, "takeover.pid");
        string config = Write("takeover.cfg",
            $"global\n    nbthread 1\n    stats socket {Path.Combine(_dir, "takeover.sock")} mode 600 level admin\n" +
            string.Format(Proxies, port, origin.Port));
        int pid = 0;
        try
        {
            var start = Haproxy("-D", "-f", config, "-p", pidFile, "-sf", haproxyPid.ToString());
            Assert.That(start.ExitCode, Is.EqualTo(0), start.All);
            pid = int.Parse(File.ReadAllText(pidFile).Trim());
            await Poll.UntilAsync(() => !Posix.ProcessExists(haproxyPid), "HAProxy gone after the SIGUSR1 of -sf");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            Assert.That(await http.GetStringAsync($"http://127.0.0.1:{port}/"), Is.EqualTo("hello from after-haproxy\n"));

            using var sleeper = System.Diagnostics.Process.Start("sleep", "60");
            string second = Write("terminate.cfg",
                $"global\n    nbthread 1\n    stats socket {Path.Combine(_dir, "terminate.sock")} mode 600 level admin\n    pidfile {Path.Combine(_dir, "terminate.pid")}\n" +
                string.Format(Proxies, port, origin.Port));
            var st = Haproxy("-D", "-f", second, "-st", sleeper.Id.ToString());
            Assert.That(st.ExitCode, Is.EqualTo(0), st.All);
            Assert.That(sleeper.WaitForExit(20_000), Is.True, "the -st process got SIGTERM");
            Assert.That(sleeper.ExitCode, Is.EqualTo(128 + Posix.SIGTERM));
            int secondPid = int.Parse(File.ReadAllText(Path.Combine(_dir, "terminate.pid")).Trim());
            Posix.Signal(secondPid, Posix.SIGTERM);
            await Poll.UntilAsync(() => !Posix.ProcessExists(secondPid), "the second supervisor gone after SIGTERM");
        }
        finally
        {
            if (Posix.ProcessExists(haproxyPid)) Posix.Signal(haproxyPid, Posix.SIGKILL);
            if (pid > 0)
            {
                Posix.Signal(pid, Posix.SIGTERM);
                await Poll.UntilAsync(() => !Posix.ProcessExists(pid), "the supervisor gone after SIGTERM");
            }
        }
    }
}
