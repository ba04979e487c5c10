using System.Diagnostics;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Issue 14: `errorfile 503 /dev/zero` grew `proxyctl check` past 2.4 GB, and a reloading supervisor to 4.2 GB.
/// Special files and files larger than `tune.bufsize` are now refused at FILE:LINE, quickly and in little memory, by
/// `proxyctl check` and by a reload, which leaves the running workers serving.
/// </summary>
[TestFixture]
public sealed class ConfigFileLimitEndToEndTests
{
    /// <summary>Far below the 2.4 GB seen, far above what proxyctl needs (about 30 MB).</summary>
    private const long MaxRssKiB = 150 * 1024;

    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("proxy-cfgfiles-e2e-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>The file an `errorfile` names, by kind: a device, a FIFO nobody writes, a 200 MB (sparse) regular file.</summary>
    private string SpecialFile(string kind)
    {
        switch (kind)
        {
            case "devzero":
                return "/dev/zero";
            case "fifo":
                string fifo = Path.Combine(_dir, "503.fifo");
                var mkfifo = ProcessRunner.Run("mkfifo", [fifo]);
                Assert.That(mkfifo.ExitCode, Is.EqualTo(0), mkfifo.All);
                return fifo;
            default:
                string huge = Path.Combine(_dir, "503.http");
                using (var f = new FileStream(huge, FileMode.CreateNew)) f.SetLength(200L << 20);
                return huge;
        }
    }

    private static string HttpConfig(int port, int origin, string errorFileLine) => $"""
        defaults
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
        frontend web
            bind 127.0.0.1:{port}
            default_backend app
        backend app
        {errorFileLine}
            server o1 127.0.0.1:{origin}
        """;

    [TestCase("devzero")]
    [TestCase("fifo")]
    [TestCase("huge")]
    public void Check_ErrorFileSpecialOrHuge_ExitsOneQuicklyInLittleMemory(string kind)
    {
        string file = SpecialFile(kind);
        string config = Path.Combine(_dir, "proxy.cfg");
        File.WriteAllText(config, HttpConfig(Ports.Free(), Ports.Free(), $"    errorfile 503 {file}"));
        // GNU time reports the peak RSS of the process it runs (%M, KiB) on its last line of stderr.
        var watch = Stopwatch.StartNew();
        var r = ProcessRunner.Run("/usr/bin/time", ["-f", "maxrss=%M", Artifacts.Proxyctl, "check", "-f", config], TimeSpan.FromSeconds(30));
        watch.Stop();
        Assert.That(r.ExitCode, Is.EqualTo(1), r.All);
        Assert.That(r.Stderr, Does.Contain($"{config}:10: 'errorfile 503': cannot read '{file}': "));
        Assert.That(r.Stderr, Does.Contain(kind == "huge" ? "209715200 bytes, larger than tune.bufsize (16384 bytes)" : "not a regular file"));
        long maxRss = long.Parse(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith("maxrss=")).AsSpan(7));
        Assert.That(maxRss, Is.LessThan(MaxRssKiB), "proxyctl check's peak RSS (KiB)");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
    }

    [Test]
    public void Check_ConfigIsDevZero_ExitsOneQuickly()
    {
        var watch = Stopwatch.StartNew();
        var r = ProcessRunner.Run("/usr/bin/time", ["-f", "maxrss=%M", Artifacts.Proxyctl, "check", "-f", "/dev/zero"], TimeSpan.FromSeconds(30));
        Assert.That(r.ExitCode, Is.EqualTo(1), r.All);
        Assert.That(r.Stderr, Does.Contain("/dev/zero:0: cannot read configuration file: a character device, not a regular file"));
        long maxRss = long.Parse(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith("maxrss=")).AsSpan(7));
        Assert.That(maxRss, Is.LessThan(MaxRssKiB), "proxyctl check's peak RSS (KiB)");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
    }

    /// <summary>The supervisor's peak resident set (VmHWM, KiB).</summary>
    private static long PeakRssKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim());
        throw new InvalidOperationException("no VmHWM");
    }

    [Test]
    public async Task Reload_ErrorFileSpecialOrHuge_RefusedOldWorkersServeSupervisorStaysSmall()
    {
        using var origin = new OriginProcess("o1");
        int port = Ports.Free();
        string goodBody = HttpConfig(port, origin.Port, "");
        using var proxy = new ProxyInstance(goodBody, "    nbproc 1\n").Start();
        var workers = proxy.Workers().Select(w => w.Pid).ToList();
        int supervisor = proxy.SupervisorPid;
        long peakBefore = PeakRssKiB(supervisor);
        string good = File.ReadAllText(proxy.ConfigPath);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
        foreach (var kind in new[] { "devzero", "fifo", "huge" })
        {
            string file = SpecialFile(kind);
            File.WriteAllText(proxy.ConfigPath, good.Replace("backend app\n", $"backend app\n    errorfile 503 {file}\n"));
            // Straight to the supervisor, as SIGHUP would: proxyctl reload would refuse before asking it.
            var watch = Stopwatch.StartNew();
            string reply = await ControlClient.SendAsync(proxy.SocketPath, "reload", TimeSpan.FromSeconds(30));
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), kind);
            Assert.That(reply, Does.StartWith("Success=0"), kind);
            Assert.That(reply, Does.Contain($"proxy.cfg:").And.Contain($"'errorfile 503': cannot read '{file}'"), kind);
            Assert.That(proxy.Workers().Select(w => w.Pid), Is.EquivalentTo(workers), $"{kind}: the old workers stay");
            using var response = await http.GetAsync("/");
            Assert.That((int)response.StatusCode, Is.EqualTo(200), $"{kind}: the old workers serve");
        }
        long grown = PeakRssKiB(supervisor) - peakBefore;
        Assert.That(grown, Is.LessThan(32 * 1024), "the supervisor's peak RSS grew by (KiB)");
    }
}
