using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

public class GlobalSectionTests
{
    private static GlobalSettings ParseGlobal(params string[] lines) =>
        ParseValid(Lines(["global", .. lines])).Global;

    [Test]
    public void Parse_EmptyFile_GivesDefaults()
    {
        var config = ParseValid("");
        Assert.That((config.Global.MaxConn, config.Global.BufSize, config.Global.MaxHeaders, config.Global.NbProc),
            Is.EqualTo((4096, 16384, 101, (int?)null)));
        Assert.That(config.Frontends, Is.Empty);
    }

    [Test]
    public void Parse_AllGlobalKeywords_FillTheModel()
    {
        var g = ParseGlobal(
            "maxconn 20000",
            "nbproc 4",
            "pidfile /run/proxy.pid",
            "stats socket /run/proxy.sock mode 660 level admin",
            "user haproxy",
            "group haproxy",
            "chroot /var/empty",
            "daemon",
            "log 127.0.0.1:514 len 2048 format rfc5424 local0 info notice",
            "log stdout local1",
            "hard-stop-after 30s",
            "tune.bufsize 32k",
            "tune.http.maxhdr 200");
        Assert.Multiple(() =>
        {
            Assert.That(g.MaxConn, Is.EqualTo(20000));
            Assert.That(g.NbProc, Is.EqualTo(4));
            Assert.That(g.PidFile, Is.EqualTo("/run/proxy.pid"));
            Assert.That(g.StatsSocket, Is.EqualTo(new StatsSocketConfig("/run/proxy.sock", Convert.ToInt32("660", 8), "admin")));
            Assert.That(g.User, Is.EqualTo("haproxy"));
            Assert.That(g.Group, Is.EqualTo("haproxy"));
            Assert.That(g.Chroot, Is.EqualTo("/var/empty"));
            Assert.That(g.Daemon, Is.True);
            Assert.That(g.Logs, Has.Count.EqualTo(2));
            Assert.That(g.Logs[0], Is.EqualTo(new LogTarget("127.0.0.1:514", "local0", "info", "rfc5424") { MaxLength = 2048, MinLevel = "notice" }));
            Assert.That(g.Logs[1], Is.EqualTo(new LogTarget("stdout", "local1", null, "rfc3164")));
            Assert.That(g.HardStopAfter, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(g.BufSize, Is.EqualTo(32768));
            Assert.That(g.MaxHeaders, Is.EqualTo(200));
        });
    }

    [Test]
    public void Parse_NbprocAuto_IsNull()
    {
        Assert.That(ParseGlobal("nbproc auto").NbProc, Is.Null);
    }

    [Test]
    public void Parse_StatsSocketWithoutOptions_IsOperatorAnd0600()
    {
        var s = ParseGlobal("stats socket /tmp/s.sock").StatsSocket!;
        Assert.That((s.Mode, s.Level), Is.EqualTo((Convert.ToInt32("600", 8), "operator")));
    }

    [Test]
    public void Parse_HardStopAfterWithoutUnit_IsMilliseconds()
    {
        Assert.That(ParseGlobal("hard-stop-after 1500").HardStopAfter, Is.EqualTo(TimeSpan.FromMilliseconds(1500)));
    }

    [Test]
    public void Parse_WorkerWatchdog_DefaultTwoSecondsZeroIsOff()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ParseGlobal("maxconn 10").WorkerWatchdog, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(ParseGlobal("worker-watchdog 5s").WorkerWatchdog, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(ParseGlobal("worker-watchdog 0").WorkerWatchdog, Is.EqualTo(TimeSpan.Zero));
        });
    }

    [Test]
    public void Parse_CpuMapSingle_MapsOneProcessToOneCpu()
    {
        var m = ParseGlobal("cpu-map 1 0").CpuMaps.Single();
        Assert.That((m.Auto, m.FirstProcess, m.LastProcess), Is.EqualTo((false, 1, 1)));
        Assert.That(m.Cpus, Is.EqualTo(new[] { 0 }));
        Assert.That(m.Location, Is.EqualTo(new SourceLocation(FileName, 2)));
    }

    [Test]
    public void Parse_CpuMapRanges_KeepsProcessRangeAndCpuSet()
    {
        var m = ParseGlobal("cpu-map 1-2 0-1").CpuMaps.Single();
        Assert.That((m.Auto, m.FirstProcess, m.LastProcess), Is.EqualTo((false, 1, 2)));
        Assert.That(m.Cpus, Is.EqualTo(new[] { 0, 1 }));
    }

    [Test]
    public void Parse_CpuMapAuto_IsFlagged()
    {
        var m = ParseGlobal("cpu-map auto:1-4 0-3").CpuMaps.Single();
        Assert.That((m.Auto, m.FirstProcess, m.LastProcess), Is.EqualTo((true, 1, 4)));
        Assert.That(m.Cpus, Is.EqualTo(new[] { 0, 1, 2, 3 }));
    }

    [Test]
    public void Parse_CpuMapSeveralCpuSets_AreMerged()
    {
        var m = ParseGlobal("cpu-map 1 4-5 0 2").CpuMaps.Single();
        Assert.That(m.Cpus, Is.EqualTo(new[] { 0, 2, 4, 5 }));
    }

    [Test]
    public void Parse_SeveralCpuMapLines_AreAllKept()
    {
        Assert.That(ParseGlobal("cpu-map 1 0", "cpu-map 2 1", "cpu-map all 0-7").CpuMaps, Has.Count.EqualTo(3));
    }

    [TestCase("cpu-map auto:1-4 0-2", "must have the same size")]
    [TestCase("cpu-map 0 0", "expected a process number")]
    [TestCase("cpu-map 2-1 0", "expected a process number")]
    [TestCase("cpu-map 1 x", "expected a CPU number")]
    [TestCase("cpu-map 1 3-1", "expected a CPU number")]
    [TestCase("cpu-map 1", "missing argument")]
    [TestCase("cpu-map 2/1 0", "the process must be 1 or all")]
    [TestCase("cpu-map odd 0", "not supported yet")]
    public void Parse_BadCpuMap_ReportsError(string line, string expected)
    {
        var errors = ParseErrors(Lines("global", line));
        Assert.That(errors.Single(), Does.StartWith("test.cfg:2: 'cpu-map': ").And.Contain(expected));
    }

    [TestCase("maxconn 0", "'maxconn': expected an integer between 1 and")]
    [TestCase("maxconn many", "'maxconn': expected an integer")]
    [TestCase("maxconn", "'maxconn': missing argument")]
    [TestCase("maxconn 1 2", "'maxconn': unexpected '2'")]
    [TestCase("nbproc 0", "'nbproc': expected an integer")]
    [TestCase("daemon yes", "'daemon': unexpected 'yes'")]
    [TestCase("hard-stop-after soon", "'hard-stop-after': expected a time like 5s, got 'soon'")]
    [TestCase("worker-watchdog 500ms", "'worker-watchdog': expected 0 (off) or at least 1s")]
    [TestCase("worker-watchdog soon", "'worker-watchdog': expected a time")]
    [TestCase("tune.bufsize 12x", "'tune.bufsize': expected a size")]
    [TestCase("tune.bufsize 100", "'tune.bufsize': expected a size")]
    [TestCase("tune.http.maxhdr 40000", "'tune.http.maxhdr': expected an integer between 1 and 32767")]
    [TestCase("stats socket /s level root", "'stats socket': 'level' expects user, operator or admin")]
    [TestCase("stats socket /s mode 999", "'stats socket': 'mode' expects an octal")]
    [TestCase("stats socket /s expose-fd fds", "'stats socket': 'expose-fd' expects 'listeners'")]
    [TestCase("stats socket /s crt x.pem", "'stats socket': option 'crt' is not supported yet")]
    [TestCase("stats socket ipv4@nowhere:1", "'stats socket': cannot parse address 'ipv4@nowhere:1'")]
    [TestCase("stats socket /s uid root", "'stats socket': 'uid' expects a number")]
    [TestCase("stats timeout soon", "'stats timeout': expected a time")]
    [TestCase("stats maxconn 0", "'stats maxconn': expected an integer")]
    [TestCase("stats bind-process 2", "'stats bind-process': the only accepted values are 1, all and odd")]
    [TestCase("stats enable", "'stats enable' is not supported in the global section")]
    [TestCase("log 127.0.0.1 local9", "'log': unknown facility 'local9'")]
    [TestCase("log 127.0.0.1 local0 loud", "'log': unknown level 'loud'")]
    [TestCase("log 127.0.0.1 format xml local0", "'log': unknown format 'xml'")]
    [TestCase("log global", "'log global' is only allowed in")]
    [TestCase("thread-groups 2", "'thread-groups' is not supported yet")]
    [TestCase("tune.ssl.capture-buffer-size 64", "'tune.ssl.capture-buffer-size' is not supported yet")]
    [TestCase("bind :80", "'bind' is not allowed in the global section")]
    [TestCase("frobnicate 1", "unknown keyword 'frobnicate' in the global section")]
    public void Parse_BadGlobalLine_ReportsKeywordAndLine(string line, string expected)
    {
        var errors = ParseErrors(Lines("global", line));
        Assert.That(errors.Single(), Does.StartWith("test.cfg:2: " + expected));
    }

    [Test]
    public void Parse_SeveralStatsSockets_EachWithItsLevel_FirstUnixOneIsTheControlSocket()
    {
        var g = ParseGlobal(
            "stats socket ipv4@127.0.0.1:9999 level user",
            "stats socket /run/a.sock mode 660 level admin uid 0 gid 0 expose-fd listeners",
            "stats socket unix@/run/b.sock user nobody group nogroup",
            "stats socket [::1]:9998",
            "stats timeout 2m",
            "stats maxconn 3");
        Assert.Multiple(() =>
        {
            Assert.That(g.StatsSockets.Select(s => s.Level), Is.EqualTo(new[] { "user", "admin", "operator", "operator" }));
            Assert.That(g.StatsSockets[0].TcpEndPoint, Is.EqualTo(System.Net.IPEndPoint.Parse("127.0.0.1:9999")));
            Assert.That(g.StatsSockets[3].TcpEndPoint, Is.EqualTo(System.Net.IPEndPoint.Parse("[::1]:9998")));
            Assert.That(g.StatsSocket!.Path, Is.EqualTo("/run/a.sock"), "proxyctl uses the first Unix socket");
            Assert.That((g.StatsSocket.Mode, g.StatsSocket.Uid, g.StatsSocket.Gid, g.StatsSocket.ExposeFdListeners),
                Is.EqualTo((Convert.ToInt32("660", 8), (uint?)0, (uint?)0, true)));
            Assert.That((g.StatsSockets[2].Path, g.StatsSockets[2].User, g.StatsSockets[2].Group), Is.EqualTo(("/run/b.sock", "nobody", "nogroup")));
            Assert.That((g.StatsTimeout, g.StatsMaxConn), Is.EqualTo((TimeSpan.FromMinutes(2), 3)));
        });
    }

    [Test]
    public void Parse_StatsDefaults_AreHaproxys()
    {
        var g = ParseGlobal("stats socket /s");
        Assert.That((g.StatsSocket!.Level, g.StatsSocket.Mode, g.StatsTimeout, g.StatsMaxConn),
            Is.EqualTo(("operator", Convert.ToInt32("600", 8), TimeSpan.FromSeconds(10), 10)));
    }

    [Test]
    public void Parse_StatsBindProcess1_WarnsItHasNoEffect()
    {
        var result = Parse(Lines("global", "stats bind-process all"));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Single().ToString(), Does.Contain("'stats bind-process' is deprecated and has no effect"));
    }

    [Test]
    public void Parse_CpuMapBeyondNbproc_Warns()
    {
        var result = Parse(Lines("global", "nbproc 2", "cpu-map 3 0"));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Single().ToString(), Does.StartWith("test.cfg:3: 'cpu-map': process 3"));
    }
}
