using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`monitor-uri`, `monitor fail` and `no log` (doc/configuration.txt 4.2).</summary>
public class MonitorAndNoLogKeywordTests
{
    private static string Config(string defaultsLine, params string[] frontendLines) => Lines(
        [
            "global",
            "    log 127.0.0.1:514 local0",
            "defaults web",
            "    mode http",
            "    log global",
            "    timeout connect 5s",
            "    timeout client 30s",
            "    timeout server 30s",
            "    " + defaultsLine,
            "frontend web from web",
            "    bind 127.0.0.1:8080",
            .. frontendLines,
            "    default_backend app",
            "backend app from web",
            "    server s1 127.0.0.1:9001",
        ]);

    [Test]
    public void MonitorUri_InheritedFromDefaults_LastOneWins_WithFailConditions()
    {
        var inherited = ParseValid(Config("monitor-uri /ping")).Frontends[0].Http;
        Assert.That((inherited.MonitorUri, inherited.MonitorFail.Count), Is.EqualTo(("/ping", 0)));

        var own = ParseValid(Config("monitor-uri /ping", "    monitor-uri /health", "    monitor fail if { nbsrv(app) lt 1 }",
            "    monitor fail unless { src 127.0.0.0/8 }")).Frontends[0].Http;
        Assert.That((own.MonitorUri, own.MonitorFail.Count, own.MonitorFail[1].Unless), Is.EqualTo(("/health", 2, true)));
    }

    [TestCase("    monitor-uri", "test.cfg:12: 'monitor-uri': missing argument")]
    [TestCase("    monitor fail", "test.cfg:12: 'monitor': expected 'monitor fail if|unless CONDITION'")]
    [TestCase("    monitor fail if { nosuchfetch }", "test.cfg:12: 'monitor fail'")]
    public void BadMonitorLine_ReportsFileLineAndReason(string line, string expected)
    {
        var errors = ParseErrors(Config("option httplog", line));
        Assert.That(errors, Has.Count.EqualTo(1), string.Join("\n", errors));
        Assert.That(errors[0], Does.StartWith(expected));
    }

    [Test]
    public void MonitorFail_InABackend_IsIgnoredWithAWarning_AsHaproxy()
    {
        var result = Parse(Config("option httplog").Replace("    server s1", "    monitor fail if TRUE\n    server s1"));
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.StartsWith("test.cfg:14: 'monitor'"));
        Assert.That(result.Config!.Backends[0].Http.MonitorFail, Is.Empty);
    }

    [Test]
    public void MonitorFail_AfterAnHttpRequestRule_WarnsAsHaproxy()
    {
        var result = Parse(Config("option httplog", "    http-request deny if { path /x }", "    monitor fail if TRUE"));
        Assert.That(result.Warnings.Select(w => w.ToString()),
            Has.Member("test.cfg:13: a 'monitor fail' rule placed after an 'http-request' rule will still be processed before"));
    }

    [Test]
    public void NoLog_DropsTheInheritedTargets_AndALaterLogLineAddsAgain()
    {
        var config = ParseValid(Config("option httplog", "    no log"));
        Assert.That(config.Frontends[0].Logs, Is.Empty);
        Assert.That(config.Backends[0].Logs, Has.Count.EqualTo(1), "the backend keeps its defaults' 'log global'");

        var relogged = ParseValid(Config("option httplog", "    no log", "    log 127.0.0.2:514 local1"));
        Assert.That(relogged.Frontends[0].Logs, Has.Count.EqualTo(1));
    }
}
