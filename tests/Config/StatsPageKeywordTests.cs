using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>The `stats` keywords of proxies (configuration.txt 4.2 "stats admin" to "stats uri").</summary>
public class StatsPageKeywordTests
{
    [Test]
    public void TypicalListenStats_HasEverySetting()
    {
        var config = ParseValid(Lines("defaults", "mode http", AllTimeouts,
            "listen stats", "bind :8404", "stats enable", "stats uri /stats", "stats refresh 10s", "stats auth admin:pw",
            "stats auth ops:a:b", "stats admin if TRUE", "stats realm Ops\\ Area", "stats hide-version", "stats show-legends",
            "stats show-node n1", "stats show-desc the main site", "stats scope .", "stats scope other"));
        var page = config.Frontends[0].StatsPage!;
        Assert.That((page.Uri, page.Realm, page.Refresh), Is.EqualTo(("/stats", "Ops Area", (TimeSpan?)TimeSpan.FromSeconds(10))));
        Assert.That(page.Users, Is.EqualTo(new[] { new StatsUser("admin", "pw"), new StatsUser("ops", "a:b") }));
        Assert.That(page.Admin, Is.Not.Null);
        Assert.That((page.HideVersion, page.ShowLegends, page.ShowNode, page.ShowDesc), Is.EqualTo((true, true, "n1", "the main site")));
        Assert.That(page.Scope, Is.EqualTo(new[] { "stats", "other" }));
        Assert.That(config.Backends[0].StatsPage, Is.SameAs(page), "a listen's backend answers with the same page");
    }

    [TestCase("stats auth a:b")]
    [TestCase("stats refresh 5s")]
    [TestCase("stats uri /s")]
    [TestCase("stats show-legends")]
    public void AnyStatsLine_EnablesThePage(string line)
    {
        var page = ParseValid(Lines("frontend f", "mode http", "bind :80", AllTimeouts, line)).Frontends[0].StatsPage;
        Assert.That(page, Is.Not.Null);
    }

    [Test]
    public void Enable_HasHAProxysDefaults()
    {
        var page = ParseValid(Lines("backend b", "mode http", "stats enable")).Backends[0].StatsPage!;
        Assert.That((page.Uri, page.Realm, page.Users.Count, page.Refresh, page.Admin), Is.EqualTo(("/haproxy?stats", "HAProxy Statistics", 0, (TimeSpan?)null, (ConditionConfig?)null)));
    }

    [Test]
    public void ProxyWithItsOwnStatsLine_DetachesFromTheDefaults()
    {
        var config = ParseValid(Lines("defaults", "mode http", "stats auth a:b", "stats uri /d",
            "backend inherits", "backend own", "stats refresh 3s"));
        Assert.That(config.Backends[0].StatsPage!.Uri, Is.EqualTo("/d"));
        var own = config.Backends[1].StatsPage!;
        Assert.That((own.Uri, own.Users.Count), Is.EqualTo(("/haproxy?stats", 0)));
    }

    [Test]
    public void NoStatsLine_NoPage()
    {
        Assert.That(ParseValid(Lines("backend b", "mode http")).Backends[0].StatsPage, Is.Null);
    }

    [Test]
    public void TcpProxy_WarnsAsHAProxyAndHasNoPage()
    {
        var result = Parse(Lines("defaults", "timeout connect 1s", "timeout server 1s", "stats enable", "backend t"));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Select(w => w.ToString()),
            Has.Member("test.cfg:4: 'stats' has no effect in backend 't', which is in tcp mode (the page requires 'mode http'): ignored"));
        Assert.That(result.Config!.Backends[0].StatsPage, Is.Null);
    }

    [TestCase("stats admin", "test.cfg:3: 'stats admin': expected 'stats admin if|unless COND'")]
    [TestCase("stats auth nocolon", "test.cfg:3: 'stats auth': expected USER:PASSWORD, got 'nocolon'")]
    [TestCase("stats refresh soon", "test.cfg:3: 'stats refresh': expected a time like 5s, got 'soon' (units: us ms s m h d, at most 24d)")]
    [TestCase("stats uri", "test.cfg:3: 'stats uri': missing argument, expected 'stats uri PREFIX'")]
    [TestCase("stats enable now", "test.cfg:3: 'stats enable': unexpected 'now', expected 'stats enable'")]
    [TestCase("stats socket /run/x.sock", "test.cfg:3: 'stats socket' is not allowed in a backend section (it is a global keyword)")]
    [TestCase("stats frobnicate", "test.cfg:3: 'stats': unknown argument 'frobnicate', expected 'stats enable|uri PREFIX|realm REALM|auth USER:PASSWORD|refresh DELAY|admin if|unless COND|hide-version|show-legends|show-node [NAME]|show-desc [DESC]|scope NAME'")]
    public void BadLine_IsAnErrorAtItsLine(string line, string expected)
    {
        Assert.That(ParseErrors(Lines("backend b", "mode http", line)), Has.Member(expected));
    }

    [Test]
    public void UseServicePrometheusExporter_IsAFinalActionWithItsCondition()
    {
        var config = ParseValid(Lines("frontend f", "mode http", "bind :80", AllTimeouts,
            "http-request use-service prometheus-exporter if { path /metrics }"));
        var action = config.Frontends[0].Http.RequestActions.Single();
        Assert.That((action.Kind, action.Service, action.Condition is not null), Is.EqualTo((HttpRequestActionKind.UseService, "prometheus-exporter", true)));
    }

    [TestCase("http-request use-service lua.hello", "test.cfg:3: 'http-request use-service': unknown service 'lua.hello' (only 'prometheus-exporter')")]
    [TestCase("http-request use-service", "test.cfg:3: 'http-request use-service': expected 'http-request use-service prometheus-exporter [if|unless COND]'")]
    public void UseService_OtherThanPrometheus_IsAnError(string line, string expected)
    {
        Assert.That(ParseErrors(Lines("frontend f", "mode http", line)), Has.Member(expected));
    }

    [Test]
    public void AdminInDefaults_IsAnError()
    {
        Assert.That(ParseErrors(Lines("defaults", "mode http", "stats admin if TRUE")),
            Has.Member("test.cfg:3: 'stats admin' is not allowed in a defaults section"));
    }
}
