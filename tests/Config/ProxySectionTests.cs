using NUnit.Framework;
using System.Net;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

public class ProxySectionTests
{
    private const string Full = """
        # A complete configuration in HAProxy's own syntax.
        global
            maxconn 10000
            nbproc 2
            cpu-map auto:1-2 0-1
            stats socket /run/proxy.sock mode 600 level admin
            log stdout format raw local0

        defaults
            mode http
            log global
            timeout connect 5s
            timeout client 30s
            timeout server 30s
            timeout http-request 10s
            retries 2
            option redispatch
            default-server inter 3s fall 2

        frontend web
            bind :8080,127.0.0.1:8081
            maxconn 500
            default_backend app

        backend app
            balance leastconn
            timeout server 1m
            server s1 127.0.0.1:9001 weight 10 maxconn 100 check
            server s2 localhost:9002 check inter 500 rise 3 fall 4
            server s3 app.internal:9003 backup disabled weight 0
        """;

    [Test]
    public void Parse_FullConfig_BuildsEveryValue()
    {
        var config = ParseValid(Full);
        Assert.That(config.SourcePath, Is.EqualTo(FileName));
        var fe = config.Frontends.Single();
        Assert.Multiple(() =>
        {
            Assert.That(fe.Name, Is.EqualTo("web"));
            Assert.That(fe.Mode, Is.EqualTo(ProxyMode.Http));
            Assert.That(fe.Binds.Select(b => b.Key), Is.EqualTo(new[] { "0.0.0.0:8080", "127.0.0.1:8081" }));
            Assert.That(fe.DefaultBackend, Is.EqualTo("app"));
            Assert.That(fe.MaxConn, Is.EqualTo(500));
            Assert.That(fe.Timeouts.Client, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(fe.Timeouts.HttpRequest, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(fe.Location, Is.EqualTo(new SourceLocation(FileName, 20)));
            Assert.That(fe.Logs.Single().Target, Is.EqualTo("stdout"));
        });
        var be = config.FindBackend("app")!;
        Assert.Multiple(() =>
        {
            Assert.That(be.Mode, Is.EqualTo(ProxyMode.Http));
            Assert.That(be.Balance, Is.EqualTo(BalanceAlgorithm.LeastConn));
            Assert.That(be.Retries, Is.EqualTo(2));
            Assert.That(be.Redispatch, Is.True);
            Assert.That(be.Timeouts.Connect, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(be.Timeouts.Server, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(be.Servers, Has.Count.EqualTo(3));
        });
        var (s1, s2, s3) = (be.Servers[0], be.Servers[1], be.Servers[2]);
        Assert.Multiple(() =>
        {
            Assert.That(s1.EndPoint, Is.EqualTo(new IPEndPoint(IPAddress.Loopback, 9001)));
            Assert.That((s1.Weight, s1.MaxConn, s1.Check, s1.Inter, s1.Rise, s1.Fall), Is.EqualTo((10, 100, true, TimeSpan.FromSeconds(3), 2, 2)));
            Assert.That(s1.Location, Is.EqualTo(new SourceLocation(FileName, 28)));
            Assert.That(s2.Host, Is.EqualTo("localhost"));
            Assert.That(s2.EndPoint, Is.EqualTo(new IPEndPoint(IPAddress.Loopback, 9002)));
            Assert.That((s2.Weight, s2.Inter, s2.Rise, s2.Fall), Is.EqualTo((1, TimeSpan.FromMilliseconds(500), 3, 4)));
            Assert.That(s3.EndPoint, Is.EqualTo(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 9003)));
            Assert.That((s3.Weight, s3.Backup, s3.Disabled, s3.Check), Is.EqualTo((0, true, true, false)));
        });
    }

    [Test]
    public void Parse_FullConfig_HasNoWarning()
    {
        Assert.That(Parse(Full).Warnings, Is.Empty);
    }

    [Test]
    public void Parse_NothingSet_UsesHAProxyDefaults()
    {
        var config = ParseValid(Lines("global", "maxconn 77", "frontend f", "bind :80", "default_backend b", "backend b", "server s 10.0.0.1:80"));
        var (fe, be) = (config.Frontends[0], config.Backends[0]);
        Assert.That((fe.Mode, fe.MaxConn), Is.EqualTo((ProxyMode.Tcp, 77)));
        Assert.That(fe.Timeouts, Is.EqualTo(Shared.Config.Timeouts.None));
        Assert.That((be.Balance, be.Retries, be.Redispatch), Is.EqualTo((BalanceAlgorithm.RoundRobin, 3, false)));
        var s = be.Servers[0];
        Assert.That((s.Weight, s.MaxConn, s.Check, s.Inter, s.Rise, s.Fall, s.Backup, s.Disabled),
            Is.EqualTo((1, 0, false, TimeSpan.FromSeconds(2), 2, 3, false, false)));
    }

    [Test]
    public void Parse_MissingTimeouts_WarnsLikeHAProxy()
    {
        var result = Parse(Lines("frontend f", "bind :80", "default_backend b", "backend b", "timeout connect 1s"));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Select(w => w.ToString()), Is.EquivalentTo(new[]
        {
            "test.cfg:1: 'frontend' 'f': missing 'timeout client'; connections may then wait forever",
            "test.cfg:4: 'backend' 'b': missing 'timeout server'; connections may then wait forever",
        }));
    }

    [Test]
    public void Parse_ListenSection_IsFrontendAndBackendOfItself()
    {
        var config = ParseValid(Lines("listen app", "mode http", "bind :80", AllTimeouts, "server a 10.0.0.1:80"));
        var fe = config.Frontends.Single();
        var be = config.Backends.Single();
        Assert.That((fe.Name, be.Name, fe.DefaultBackend), Is.EqualTo(("app", "app", "app")));
        Assert.That((fe.Mode, be.Mode), Is.EqualTo((ProxyMode.Http, ProxyMode.Http)));
        Assert.That(be.Servers.Single().Name, Is.EqualTo("a"));
    }

    [Test]
    public void Parse_FrontendAndBackendSharingAName_IsAllowed()
    {
        var config = ParseValid(Lines("frontend app", "bind :80", "default_backend app", "backend app"));
        Assert.That(config.Frontends.Single().DefaultBackend, Is.EqualTo("app"));
    }

    [Test]
    public void Parse_UnnamedDefaults_ApplyToFollowingSectionsUntilReplaced()
    {
        var config = ParseValid(Lines(
            "defaults", "mode http", "timeout connect 1s", "balance first",
            "backend b1",
            "defaults", "timeout connect 2s",
            "backend b2"));
        var (b1, b2) = (config.Backends[0], config.Backends[1]);
        Assert.That((b1.Mode, b1.Balance, b1.Timeouts.Connect), Is.EqualTo((ProxyMode.Http, BalanceAlgorithm.First, TimeSpan.FromSeconds(1))));
        // The second defaults section starts from HAProxy's built-in values, not from the first one.
        Assert.That((b2.Mode, b2.Balance, b2.Timeouts.Connect), Is.EqualTo((ProxyMode.Tcp, BalanceAlgorithm.RoundRobin, TimeSpan.FromSeconds(2))));
    }

    [Test]
    public void Parse_NamedDefaults_AreChosenWithFrom()
    {
        var config = ParseValid(Lines(
            "defaults web", "mode http", "timeout server 9s",
            "defaults tcp", "mode tcp", "timeout server 1s",
            "backend b1 from web",
            "backend b2",
            "frontend f from web", "bind :80", "default_backend b1"));
        Assert.That(config.Backends[0].Mode, Is.EqualTo(ProxyMode.Http));
        Assert.That(config.Backends[0].Timeouts.Server, Is.EqualTo(TimeSpan.FromSeconds(9)));
        Assert.That(config.Backends[1].Mode, Is.EqualTo(ProxyMode.Tcp), "the last defaults section applies without 'from'");
        Assert.That(config.Frontends[0].Mode, Is.EqualTo(ProxyMode.Http));
    }

    [Test]
    public void Parse_DefaultsFromDefaults_Inherit()
    {
        var config = ParseValid(Lines("defaults base", "mode http", "retries 7", "defaults child from base", "retries 1", "backend b from child"));
        Assert.That((config.Backends[0].Mode, config.Backends[0].Retries), Is.EqualTo((ProxyMode.Http, 1)));
    }

    [Test]
    public void Parse_SectionOverridesDefaults_AndNoOptionResets()
    {
        var config = ParseValid(Lines("defaults", "option redispatch", "retries 5", "backend b", "no option redispatch", "retries 0"));
        Assert.That((config.Backends[0].Redispatch, config.Backends[0].Retries), Is.EqualTo((false, 0)));
    }

    [Test]
    public void Parse_DefaultServerInBackend_AppliesToLaterServersOnly()
    {
        var config = ParseValid(Lines(
            "defaults", "default-server weight 5",
            "backend b", "server a 10.0.0.1:80", "default-server weight 7 check", "server c 10.0.0.2:80", "server d 10.0.0.3:80 weight 1"));
        Assert.That(config.Backends[0].Servers.Select(s => (s.Weight, s.Check)), Is.EqualTo(new[] { (5, false), (7, true), (1, true) }));
    }

    [Test]
    public void Parse_DefaultBackendInDefaults_IsInherited()
    {
        var config = ParseValid(Lines("defaults", "default_backend b", "frontend f", "bind :80", "backend b"));
        Assert.That(config.Frontends[0].DefaultBackend, Is.EqualTo("b"));
    }

    [Test]
    public void Parse_TimeoutZero_MeansNoTimeout()
    {
        var config = ParseValid(Lines("defaults", "timeout server 5s", "backend b", "timeout server 0"));
        Assert.That(config.Backends[0].Timeouts.Server, Is.Null);
    }

    [Test]
    public void Parse_AllTimeoutKinds_AreStored()
    {
        var t = ParseValid(Lines("defaults", "timeout connect 1", "timeout client 2", "timeout server 3", "timeout queue 4",
            "timeout check 5", "timeout http-request 6", "timeout http-keep-alive 7", "timeout tunnel 8", "backend b")).Backends[0].Timeouts;
        Assert.That(new[] { t.Connect, t.Client, t.Server, t.Queue, t.Check, t.HttpRequest, t.HttpKeepAlive, t.Tunnel },
            Is.EqualTo(Enumerable.Range(1, 8).Select(i => (TimeSpan?)TimeSpan.FromMilliseconds(i))));
    }

    [TestCase("roundrobin", BalanceAlgorithm.RoundRobin)]
    [TestCase("static-rr", BalanceAlgorithm.StaticRoundRobin)]
    [TestCase("leastconn", BalanceAlgorithm.LeastConn)]
    [TestCase("first", BalanceAlgorithm.First)]
    [TestCase("source", BalanceAlgorithm.Source)]
    [TestCase("random", BalanceAlgorithm.Random)]
    public void Parse_Balance_MapsEveryAlgorithm(string word, BalanceAlgorithm expected)
    {
        Assert.That(ParseValid(Lines("backend b", "balance " + word)).Backends[0].Balance, Is.EqualTo(expected));
    }

    [TestCase("*:80", "0.0.0.0:80")]
    [TestCase(":80", "0.0.0.0:80")]
    [TestCase("0.0.0.0:80", "0.0.0.0:80")]
    [TestCase("10.1.2.3:443", "10.1.2.3:443")]
    [TestCase("[::1]:8080", "[::1]:8080")]
    [TestCase(":::8080", "[::]:8080")]
    [TestCase("::1:8080", "[::1]:8080")]
    [TestCase("ipv6@:8080", "[::]:8080")]
    [TestCase("ipv4@127.0.0.1:8080", "127.0.0.1:8080")]
    [TestCase("localhost:8080", "127.0.0.1:8080")]
    [TestCase("fd@3", "fd@3")]
    public void Parse_BindAddressForms_GiveOneListener(string address, string key)
    {
        var bind = ParseValid(Lines("frontend f", "bind " + address)).Frontends[0].Binds.Single();
        Assert.That(bind.Key, Is.EqualTo(key));
        Assert.That(bind.Location, Is.EqualTo(new SourceLocation(FileName, 2)));
    }

    [Test]
    public void Parse_BindFd_KeepsTheDescriptor()
    {
        var bind = ParseValid(Lines("frontend f", "bind fd@3")).Frontends[0].Binds.Single();
        Assert.That((bind.InheritedFd, bind.EndPoint), Is.EqualTo(((int?)3, (IPEndPoint?)null)));
    }

    [Test]
    public void Parse_BindPortRange_ExpandsToEachPort()
    {
        var binds = ParseValid(Lines("frontend f", "bind :8000-8002,[::1]:9000")).Frontends[0].Binds;
        Assert.That(binds.Select(b => b.Key), Is.EqualTo(new[] { "0.0.0.0:8000", "0.0.0.0:8001", "0.0.0.0:8002", "[::1]:9000" }));
    }

    [Test]
    public void Parse_SeveralBindLines_AreAllKept()
    {
        var binds = ParseValid(Lines("frontend f", "bind :80", "bind :81")).Frontends[0].Binds;
        Assert.That(binds, Has.Count.EqualTo(2));
    }

    [Test]
    public void Parse_ServerIPv6_IsAccepted()
    {
        var s = ParseValid(Lines("backend b", "server a [fd00::1]:80", "server v v6.internal:81")).Backends[0].Servers;
        Assert.That(s[0].EndPoint, Is.EqualTo(new IPEndPoint(IPAddress.Parse("fd00::1"), 80)));
        Assert.That(s[1].EndPoint, Is.EqualTo(new IPEndPoint(IPAddress.Parse("fd00::5"), 81)));
    }

    [Test]
    public void Parse_BackendWithoutServer_IsAllowed()
    {
        Assert.That(ParseValid(Lines("backend empty")).Backends[0].Servers, Is.Empty);
    }

    [Test]
    public void Parse_EnvironmentInAddresses_IsExpanded()
    {
        var env = new Dictionary<string, string> { ["PORT"] = "8443", ["UPSTREAM"] = "10.9.8.7:80" };
        var config = ParseValid(Lines("frontend f", "bind \":${PORT}\"", "default_backend b", "backend b", "server s \"$UPSTREAM\""), env);
        Assert.That(config.Frontends[0].Binds[0].Key, Is.EqualTo("0.0.0.0:8443"));
        Assert.That(config.Backends[0].Servers[0].EndPoint.ToString(), Is.EqualTo("10.9.8.7:80"));
    }

    [Test]
    public void Parse_LogGlobalInFrontend_CopiesGlobalTargets()
    {
        var config = ParseValid(Lines("global", "log 10.0.0.1:514 local0", "frontend f", "bind :80", "log global", "log stderr daemon err"));
        Assert.That(config.Frontends[0].Logs.Select(l => l.Target), Is.EqualTo(new[] { "10.0.0.1:514", "stderr" }));
    }

    [Test]
    public void Load_MissingFile_IsOneErrorNotAnException()
    {
        var result = ConfigLoader.Load("/nonexistent/dir/proxy.cfg");
        Assert.That(result.IsValid, Is.False);
        Assert.That(result.Errors.Single().ToString(), Does.StartWith("/nonexistent/dir/proxy.cfg:0: cannot read"));
    }

    [Test]
    public void Load_RealFile_ParsesWithTheProcessEnvironment()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cfg-{Guid.NewGuid():N}.cfg");
        System.IO.File.WriteAllText(path, "global\n    pidfile \"${HOME-/root}/x.pid\"\n");
        try
        {
            var result = ConfigLoader.Load(path);
            Assert.That(result.IsValid, Is.True, string.Join("\n", result.Errors));
            Assert.That(result.Config!.Global.PidFile, Does.EndWith("/x.pid"));
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
