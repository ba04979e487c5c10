using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`option httplog`, `option tcplog`, `option dontlognull` (4.2): where they may appear, inheritance, errors.</summary>
public class LogOptionTests
{
    private static string Config(string mode, string[] defaultsLines, params string[] frontendLines) => Lines(
        [
            "global",
            "    log 127.0.0.1:514 local0",
            "defaults",
            $"    mode {mode}",
            "    log global",
            "    timeout connect 5s",
            "    timeout client 30s",
            "    timeout server 30s",
            .. defaultsLines,
            "frontend web",
            "    bind 127.0.0.1:8080",
            .. frontendLines,
            "    default_backend app",
            "backend app",
            "    server s1 127.0.0.1:9001",
        ]);

    [Test]
    public void NoOption_NoTrafficLog()
    {
        var fe = ParseValid(Config("http", [])).Frontends[0];
        Assert.That(fe.LogFormat, Is.EqualTo(TrafficLogFormat.None));
        Assert.That(fe.DontLogNull, Is.False);
        Assert.That(fe.Logs.Single().Target, Is.EqualTo("127.0.0.1:514"));
    }

    [Test]
    public void HttpLogAndDontLogNull_InDefaults_AreInherited()
    {
        var fe = ParseValid(Config("http", ["    option httplog", "    option dontlognull"])).Frontends[0];
        Assert.That(fe.LogFormat, Is.EqualTo(TrafficLogFormat.Http));
        Assert.That(fe.DontLogNull, Is.True);
    }

    [Test]
    public void TcpLog_InFrontend_Parsed()
    {
        Assert.That(ParseValid(Config("tcp", [], "    option tcplog")).Frontends[0].LogFormat, Is.EqualTo(TrafficLogFormat.Tcp));
    }

    [Test]
    public void LastFormatWins_AndNoOptionTurnsItOff()
    {
        Assert.That(ParseValid(Config("http", ["    option tcplog"], "    option httplog")).Frontends[0].LogFormat, Is.EqualTo(TrafficLogFormat.Http));
        Assert.That(ParseValid(Config("http", ["    option httplog"], "    no option httplog")).Frontends[0].LogFormat, Is.EqualTo(TrafficLogFormat.None));
        // `no option tcplog` leaves an httplog in force alone.
        Assert.That(ParseValid(Config("http", ["    option httplog"], "    no option tcplog")).Frontends[0].LogFormat, Is.EqualTo(TrafficLogFormat.Http));
        Assert.That(ParseValid(Config("http", ["    option dontlognull"], "    no option dontlognull")).Frontends[0].DontLogNull, Is.False);
    }

    [Test]
    public void HttpLog_InTcpFrontend_FallsBackToTcpLogWithWarning()
    {
        var result = Parse(Config("tcp", [], "    option httplog"));
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Config!.Frontends[0].LogFormat, Is.EqualTo(TrafficLogFormat.Tcp));
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.EqualTo(
            "test.cfg:9: 'option httplog' not usable with frontend 'web' (needs 'mode http'), falling back to 'option tcplog' (set at line 11)"));
    }

    [TestCase("    option httplog", "test.cfg:14: 'option httplog' has no effect in backend ")]
    [TestCase("    option tcplog", "test.cfg:14: 'option tcplog' has no effect in backend ")]
    [TestCase("    option dontlognull", "test.cfg:14: 'option dontlognull' has no effect in backend ")]
    public void LogOptions_InBackend_WarnAndHaveNoEffect(string line, string expected)
    {
        // HAProxy: "'option httplog' directive is ignored in backends" (a warning): a backend never logs traffic.
        var result = Parse(Config("http", []) + line + "\n");
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.StartsWith(expected).And.Some.EndsWith("which has no frontend capability: ignored"));
    }

    [TestCase("    option httplog csv", "test.cfg:11: 'option httplog' only supports option 'clf', got 'csv'")]
    [TestCase("    option tcplog extra", "test.cfg:11: 'option tcplog': unexpected 'extra'")]
    [TestCase("    option dontlog-normal now", "test.cfg:11: 'option dontlog-normal' takes no argument, got 'now'")]
    public void LogOptions_BadArguments_NameLineAndKeyword(string line, string expected)
    {
        Assert.That(ParseErrors(Config("http", [], line)), Is.EqualTo(new[] { expected }));
    }

    [Test]
    public void Listen_TakesHttpLog()
    {
        var text = Lines(
            "listen web",
            "    mode http",
            "    option httplog",
            "    log stdout format raw local0",
            "    timeout connect 5s",
            "    timeout client 30s",
            "    timeout server 30s",
            "    bind 127.0.0.1:8080",
            "    server s1 127.0.0.1:9001");
        var fe = ParseValid(text).Frontends[0];
        Assert.That(fe.LogFormat, Is.EqualTo(TrafficLogFormat.Http));
        Assert.That(fe.Logs.Single().Format, Is.EqualTo("raw"));
    }
}
