using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// The global and proxy keywords real configurations carry (ProcessSettingsParser, ProxyExtrasParser, BindExtras,
/// ConditionalBlocks, EnvironmentOverlay) and HAProxy 2.6's leniencies: each keyword takes effect in the model, or is
/// accepted with a warning at FILE:LINE naming it.
/// </summary>
public class RealConfigKeywordTests
{
    private const string Tail =
        "defaults\n    mode http\n" + AllTimeouts +
        "frontend fe\n    bind 127.0.0.1:8080\n    default_backend be\n" +
        "backend be\n    server s1 127.0.0.1:8081\n";

    private static ConfigResult ParseGlobal(params string[] lines) => Parse(Lines(["global", .. lines]) + Tail);

    private static void AssertWarned(ConfigResult r, int line, string keyword)
    {
        Assert.That(r.Errors.Select(e => e.ToString()), Is.Empty);
        Assert.That(r.Warnings.Select(e => e.ToString()),
            Has.Some.StartsWith($"{FileName}:{line}: '{keyword}").And.Some.Contains("no effect here"));
    }

    [Test]
    public void Nbthread_SetsTheNumberOfWorkers()
    {
        var r = ParseGlobal("nbthread 3");
        Assert.That(r.Warnings, Is.Empty);
        Assert.That(r.Config!.Global.NbProc, Is.EqualTo(3));
    }

    [Test]
    public void NbthreadAndNbproc_Together_AreRefused()
    {
        var errors = ParseErrors(Lines("global", "nbproc 2", "nbthread 4") + Tail);
        Assert.That(errors, Has.Some.Contains("test.cfg:3: 'nbthread': 'nbproc' (line 2)"));
    }

    [Test]
    public void CpuMap_ThreadSetSyntax_MapsThreadsToWorkers()
    {
        var g = ParseValid(Lines("global", "nbthread 4", "cpu-map auto:1/1-4 0-3", "cpu-map 1/2 1") + Tail).Global;
        Assert.That(g.CpuMaps[0], Is.EqualTo(g.CpuMaps[0] with { Auto = true, FirstProcess = 1, LastProcess = 4 }));
        Assert.That(g.CpuMaps[0].Cpus, Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That((g.CpuMaps[1].FirstProcess, g.CpuMaps[1].LastProcess, g.CpuMaps[1].Cpus.Single()), Is.EqualTo((2, 2, 1)));
    }

    [Test]
    public void CpuMap_ThreadSetOfAnotherProcess_IsRefused()
    {
        Assert.That(ParseErrors(Lines("global", "cpu-map 2/1 0") + Tail), Has.Some.Contains("the process must be 1 or all"));
    }

    [Test]
    public void MaxConnRate_MaxSessRate_AreTakenWithoutWarning()
    {
        var r = ParseGlobal("maxconnrate 100", "maxsessrate 50");
        Assert.That((r.Errors.Count, r.Warnings.Count), Is.EqualTo((0, 0)), string.Join("\n", r.Warnings));
        Assert.That((r.Config!.Global.MaxConnRate, r.Config.Global.MaxSessRate), Is.EqualTo((100, 50)));
        Assert.That(ParseGlobal("maxconnrate -1").Errors.Select(e => e.ToString()), Has.Some.Contains("maxconnrate"));
        Assert.That(ParseGlobal("maxsessrate").Errors.Select(e => e.ToString()), Has.Some.Contains("maxsessrate"));
    }

    [Test]
    public void NodeAndDescription_FeedTheStatsPageDefaults()
    {
        var r = Parse(Lines("global", "node lb1", "description edge balancer") + Lines(
            "defaults", "mode http", "timeout connect 1s", "timeout client 1s", "timeout server 1s",
            "listen stats", "bind 127.0.0.1:8404", "stats enable", "stats show-node", "stats show-desc"));
        Assert.That((r.Errors.Count, r.Warnings.Count), Is.EqualTo((0, 0)), string.Join("\n", r.Errors.Concat(r.Warnings)));
        Assert.That((r.Config!.Global.Node, r.Config.Global.Description), Is.EqualTo(("lb1", "edge balancer")));
        var page = r.Config.Frontends.Single(f => f.Name == "stats").StatsPage!;
        Assert.That((page.ShowNode, page.ShowDesc), Is.EqualTo(("", "")), "empty: the page shows the global ones");
    }

    [Test]
    public void MasterWorker_IsAcceptedWithoutWarning()
    {
        var r = ParseGlobal("master-worker", "master-worker no-exit-on-failure");
        Assert.That((r.Errors.Count, r.Warnings.Count), Is.EqualTo((0, 0)));
    }

    [TestCase("mworker-max-reloads 3")]
    [TestCase("maxpipes 1000")]
    [TestCase("server-state-file /var/lib/haproxy/state")]
    [TestCase("tune.maxaccept 64")]
    [TestCase("tune.maxrewrite 1024")]
    [TestCase("tune.idle-pool.shared on")]
    [TestCase("tune.h2.max-concurrent-streams 100")]
    [TestCase("noreuseport")]
    public void GlobalKeywordWithoutEffect_IsAWarningAtItsLine(string line)
    {
        AssertWarned(ParseGlobal("maxconn 10", line), 3, line.Split(' ')[0]);
    }

    [Test]
    public void UnknownTuneKeyword_IsStillAnError()
    {
        Assert.That(ParseErrors(Lines("global", "tune.no-such-thing 1") + Tail), Has.Some.Contains("tune.no-such-thing"));
    }

    [Test]
    public void UidGidLogTagHostname_FillTheModel()
    {
        var g = ParseValid(Lines("global", "uid 99", "gid 98", "log-tag edge", "log-send-hostname lb-1") + Tail).Global;
        Assert.That((g.User, g.Group, g.LogTag, g.LogHostname), Is.EqualTo(("99", "98", "edge", "lb-1")));
    }

    [Test]
    public void ConditionalBlocks_KeepTheTakenBranchOnly()
    {
        var env = new Dictionary<string, string> { ["SITE"] = "a" };
        var config = ParseValid(Lines(
            "global",
            ".if version_atleast(2.6) && version_before(2.7)",
            "    maxconn 111",
            ".else",
            "    maxconn 222",
            ".endif",
            ".if defined(NOPE)",
            "    nbproc 9",
            ".elif feature(THREAD) && !version_atleast(3.0) && streq(a,a) && strneq(a,b)",
            "    nbproc 2",
            ".endif",
            ".if 0",
            "    this line is dropped unread \"${UNDEFINED}",
            ".endif") + Tail, env);
        Assert.That((config.Global.MaxConn, config.Global.NbProc), Is.EqualTo((111, (int?)2)));
    }

    [Test]
    public void ConditionalMessages_NoticeWarningAlert()
    {
        var r = Parse(Lines(".notice \"hello\"", ".warning careful", ".diag hidden", ".if 1", ".alert stop", ".endif") + Tail);
        Assert.That(r.Notices.Select(n => n.ToString()), Is.EqualTo(new[] { "test.cfg:1: hello" }));
        Assert.That(r.Warnings.Select(n => n.ToString()), Has.Some.EqualTo("test.cfg:2: careful"));
        Assert.That(r.Errors.Select(n => n.ToString()), Is.EqualTo(new[] { "test.cfg:5: stop" }));
    }

    [Test]
    public void ConditionalBlocks_Unbalanced_AreErrors()
    {
        Assert.That(ParseErrors(Lines(".if 1") + Tail), Has.Some.Contains("'.if' without a matching '.endif'"));
        Assert.That(ParseErrors(Lines(".endif") + Tail), Has.Some.Contains("'.endif' without a matching '.if'"));
    }

    [Test]
    public void Setenv_Family_ChangesWhatLaterLinesExpand()
    {
        var env = new Dictionary<string, string> { ["KEEP"] = "1", ["DROP"] = "2", ["PRE"] = "300" };
        var config = ParseValid(Lines(
            "global",
            "setenv MAXC 1234",
            "presetenv PRE 999",
            "presetenv NEWPRE 7",
            "maxconn \"${MAXC}\"",
            "nbproc \"$NEWPRE\"",
            "hard-stop-after \"${PRE}ms\"",
            "unsetenv DROP",
            "pidfile \"/run/${DROP-gone}.pid\"",
            "resetenv KEEP",
            "chroot \"/x${MAXC-}${KEEP}\"") + Tail, env);
        Assert.That((config.Global.MaxConn, config.Global.NbProc, config.Global.HardStopAfter), Is.EqualTo((1234, (int?)7, (TimeSpan?)TimeSpan.FromMilliseconds(300))));
        Assert.That((config.Global.PidFile, config.Global.Chroot), Is.EqualTo(("/run/gone.pid", "/x1")));
    }

    [Test]
    public void UnquotedVariables_AreExpandedWhenDefined_KeptWithAWarningOtherwise()
    {
        var env = new Dictionary<string, string> { ["PORT"] = "8085", ["MAXC"] = "77" };
        var r = Parse(Lines("global", "maxconn ${MAXC}", "defaults", "mode http") + AllTimeouts +
                      Lines("frontend fe", "bind 127.0.0.1:$PORT", "default_backend be", "backend be", "server s1 127.0.0.1:80", "log-tag $UNSET_VAR"), env);
        Assert.That(r.Config, Is.Not.Null, string.Join('\n', r.Errors));
        Assert.That(r.Config!.Global.MaxConn, Is.EqualTo(77));
        Assert.That(r.Config.Frontends[0].Binds[0].EndPoint!.Port, Is.EqualTo(8085));
        Assert.That(r.Warnings.Select(w => w.ToString()), Has.Some.Contains("'$UNSET_VAR' is not defined: kept as written"));
    }

    [TestCase("timeout client-fin 5s", "timeout client-fin")]
    [TestCase("timeout server-fin 5s", "timeout server-fin")]
    [TestCase("option dontlog-normal", "option dontlog-normal")]
    [TestCase("option log-separate-errors", "option log-separate-errors")]
    [TestCase("option logasap", "option logasap")]
    [TestCase("option nolinger", "option nolinger")]
    [TestCase("option tcp-smart-connect", "option tcp-smart-connect")]
    [TestCase("option independent-streams", "option independent-streams")]
    [TestCase("option prefer-last-server", "option prefer-last-server")]
    [TestCase("retry-on conn-failure 503", "retry-on")]
    [TestCase("max-keep-alive-queue 10", "max-keep-alive-queue")]
    [TestCase("load-server-state-from-file global", "load-server-state-from-file")]
    public void ProxyKeywordWithoutEffect_InDefaults_IsAWarningAtItsLine(string line, string keyword)
    {
        var r = Parse(Lines("defaults", "mode http", line) + AllTimeouts +
                      Lines("frontend fe", "bind 127.0.0.1:8080", "default_backend be", "backend be", "server s1 127.0.0.1:80"));
        AssertWarned(r, 3, keyword);
    }

    [TestCase("no option tcpka")]
    [TestCase("option log-health-checks")]
    [TestCase("option tcp-smart-accept")]
    [TestCase("no option tcp-smart-accept")]
    [TestCase("retry-on conn-failure")]
    [TestCase("source 0.0.0.0")]
    [TestCase("enabled")]
    public void ProxyKeywordThatHoldsHere_HasNoWarning(string line)
    {
        var r = Parse(Lines("defaults", "mode http", line) + AllTimeouts +
                      Lines("frontend fe", "bind 127.0.0.1:8080", "default_backend be", "backend be", "server s1 127.0.0.1:80"));
        Assert.That((r.Errors.Count, r.Warnings.Count), Is.EqualTo((0, 0)), string.Join('\n', r.Warnings));
    }

    [TestCase("option tcpka", true, true)]
    [TestCase("option clitcpka", true, false)]
    [TestCase("option srvtcpka", false, true)]
    public void TcpKeepAliveOptions_SetTheirSides(string line, bool client, bool server)
    {
        var config = ParseValid(Lines("defaults", "mode http", line) + AllTimeouts +
                                Lines("frontend fe", "bind 127.0.0.1:8080", "default_backend be", "backend be", "server s1 127.0.0.1:80"));
        Assert.That((config.Frontends[0].ClientTcpKeepAlive, config.Backends[0].ServerTcpKeepAlive), Is.EqualTo((client, server)));
        var off = ParseValid(Lines("defaults", "mode http", line) + AllTimeouts +
                             Lines("frontend fe", "bind 127.0.0.1:8080", "no option tcpka", "default_backend be", "backend be", "no option tcpka", "server s1 127.0.0.1:80"));
        Assert.That((off.Frontends[0].ClientTcpKeepAlive, off.Backends[0].ServerTcpKeepAlive), Is.EqualTo((false, false)));
    }

    // 4.2 "option tcp-smart-accept": on by default in HTTP mode, "no option" turns it off, "option" forces it in tcp mode;
    // a defaults section's line is inherited.
    [TestCase("http", "", "", true)]
    [TestCase("tcp", "", "", false)]
    [TestCase("http", "", "no option tcp-smart-accept", false)]
    [TestCase("tcp", "", "option tcp-smart-accept", true)]
    [TestCase("http", "no option tcp-smart-accept", "", false)]
    [TestCase("tcp", "option tcp-smart-accept", "", true)]
    public void TcpSmartAccept_OnInHttpMode_UnlessSaidOtherwise(string mode, string inDefaults, string inFrontend, bool expected)
    {
        var config = ParseValid(Lines("defaults", $"mode {mode}", inDefaults) + AllTimeouts +
                                Lines("frontend fe", "bind 127.0.0.1:8080", inFrontend, "default_backend be", "backend be", "server s1 127.0.0.1:80"));
        Assert.That(config.Frontends[0].SmartAccept, Is.EqualTo(expected));
    }

    [Test]
    public void Disabled_FrontendListensNowhere_BackendHasNoServer()
    {
        var config = ParseValid(Lines("defaults", "mode http") + AllTimeouts + Lines(
            "frontend off", "disabled", "bind 127.0.0.1:8080", "default_backend be",
            "frontend on", "bind 127.0.0.1:8081", "default_backend be",
            "backend be", "disabled", "server s1 127.0.0.1:80"));
        Assert.That(config.Frontends.Single(f => f.Name == "off").Binds, Is.Empty);
        Assert.That(config.Frontends.Single(f => f.Name == "on").Binds, Has.Count.EqualTo(1));
        Assert.That(config.Backends.Single().Servers, Is.Empty);
    }

    [Test]
    public void Dispatch_IsTheBackendsServer()
    {
        var config = ParseValid(Lines("defaults", "mode tcp") + AllTimeouts + Lines(
            "listen relay", "bind 127.0.0.1:2525", "dispatch 127.0.0.1:25"));
        Assert.That(config.Backends.Single().Servers.Single().EndPoint.Port, Is.EqualTo(25));
    }

    [Test]
    public void BindOptions_AreAcceptedWithTheirWarnings()
    {
        var r = Parse(Lines("defaults", "mode http") + AllTimeouts + Lines(
            "frontend fe",
            "bind 127.0.0.1:8080 name web id 3 backlog 100 maxconn 50 defer-accept tfo mss 1400 interface lo process 1 thread 1 transparent",
            "bind ::1:8080 v6only",
            "default_backend be", "backend be", "server s1 127.0.0.1:80"));
        Assert.That(r.Errors, Is.Empty, string.Join('\n', r.Errors));
        var warnings = r.Warnings.Select(w => w.ToString()).ToList();
        foreach (var option in new[] { "name", "id", "maxconn", "defer-accept", "tfo", "mss", "interface", "process", "thread", "transparent" })
            Assert.That(warnings, Has.Some.StartsWith($"test.cfg:7: 'bind': option '{option}' has no effect here"), option);
        Assert.That(warnings, Has.None.Contains("'v6only'").And.None.Contains("'backlog'"));
    }

    [Test]
    public void Backlog_OfTheBind_WinsOverTheProxys_InheritedFromDefaults()
    {
        var fe = ParseValid(Lines("defaults", "mode http", "backlog 50") + AllTimeouts + Lines(
            "frontend fe", "bind 127.0.0.1:8080 backlog 7", "bind 127.0.0.1:8081",
            "default_backend be", "backend be", "server s1 127.0.0.1:80")).Frontends.Single();
        Assert.That(fe.Binds.Select(b => b.Backlog), Is.EqualTo(new int?[] { 7, 50 }));
    }

    [Test]
    public void UlimitN_IsKeptForTheSupervisor()
    {
        Assert.That(ParseValid(Lines("global", "ulimit-n 65536") + Tail).Global.UlimitN, Is.EqualTo(65536));
        Assert.That(ParseGlobal("ulimit-n lots").Errors.Select(e => e.ToString()), Has.Some.StartsWith("test.cfg:2: 'ulimit-n'"));
    }

    [Test]
    public void ProxyLogTag_IsTheFrontends_InheritedFromDefaults()
    {
        var config = ParseValid(Lines("defaults", "mode http", "log-tag from-defaults") + AllTimeouts + Lines(
            "frontend a", "bind 127.0.0.1:8080", "default_backend be",
            "frontend b", "log-tag own", "bind 127.0.0.1:8081", "default_backend be", "backend be", "server s1 127.0.0.1:80"));
        Assert.That(config.Frontends.Select(f => f.LogTag), Is.EqualTo(new[] { "from-defaults", "own" }));
    }

    [Test]
    public void BindOption_MissingValue_IsAnError()
    {
        Assert.That(ParseErrors(Lines("defaults", "mode http") + AllTimeouts + Lines("frontend fe", "bind 127.0.0.1:8080 backlog", "default_backend be", "backend be", "server s1 127.0.0.1:80")),
            Has.Some.Contains("'bind': option 'backlog' needs a value"));
    }

    [Test]
    public void UseBackendWithoutCondition_AlwaysApplies()
    {
        var config = ParseValid(Lines("defaults", "mode http") + AllTimeouts + Lines(
            "frontend fe", "bind 127.0.0.1:8080", "use_backend be", "backend be", "server s1 127.0.0.1:80"));
        Assert.That(config.Frontends[0].Http.UseBackends.Single().Backend, Is.EqualTo("be"));
    }

    [Test]
    public void BareBalance_IsRoundRobin()
    {
        var config = ParseValid(Lines("defaults", "mode http") + AllTimeouts + Lines(
            "frontend fe", "bind 127.0.0.1:8080", "default_backend be", "backend be", "balance", "server s1 127.0.0.1:80"));
        Assert.That(config.Backends[0].Balance, Is.EqualTo(BalanceAlgorithm.RoundRobin));
    }

    [Test]
    public void FrontendWithoutBind_IsAWarning()
    {
        var r = Parse(Lines("defaults", "mode http") + AllTimeouts + Lines(
            "frontend parked", "default_backend be", "backend be", "server s1 127.0.0.1:80"));
        Assert.That(r.Errors, Is.Empty);
        Assert.That(r.Warnings.Select(w => w.ToString()), Has.Some.Contains("frontend 'parked' has no 'bind' directive"));
    }

    [Test]
    public void TcpFrontendWithHttpBackend_IsUpgradedWithAWarning()
    {
        var r = Parse(Lines("defaults") + AllTimeouts + Lines(
            "frontend fe", "mode tcp", "bind 127.0.0.1:8080", "default_backend be", "backend be", "mode http", "server s1 127.0.0.1:80"));
        Assert.That(r.Errors, Is.Empty, string.Join('\n', r.Errors));
        Assert.That(r.Config!.Frontends[0].Mode, Is.EqualTo(ProxyMode.Http));
        Assert.That(r.Warnings.Select(w => w.ToString()), Has.Some.Contains("handled as HTTP"));
    }

    [Test]
    public void FileWithoutFinalLineFeed_IsRefusedAsHaproxyDoes()
    {
        var path = Path.Combine(Path.GetTempPath(), $"nolf-{Environment.ProcessId}.cfg");
        try
        {
            File.WriteAllText(path, Lines("defaults", "mode http") + AllTimeouts + "frontend fe\n    bind 127.0.0.1:8080");
            var r = ConfigLoader.Load(path);
            Assert.That(r.IsValid, Is.False);
            Assert.That(r.Errors.Select(e => e.ToString()), Has.Some.EqualTo($"{path}:7: missing LF on the last line: the file might have been truncated at position 24"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
