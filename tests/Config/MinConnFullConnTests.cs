using NUnit.Framework;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// Server `minconn` (5.2) and backend `fullconn` (4.2): how the model keeps them, as HAProxy 2.6's
/// srv_minmax_conn_apply() and proxy_adjust_all_maxconn() leave them.
/// </summary>
public class MinConnFullConnTests
{
    private static string Backend(params string[] lines) =>
        Lines(["frontend f", "bind :80", "maxconn 100", "default_backend b", "backend b", .. lines]);

    [Test]
    public void MinConnBelowMaxConn_IsKept_TheLimitIsDynamic()
    {
        var s = ParseValid(Backend("server a 10.0.0.1:80 minconn 1 maxconn 4")).Backends[0].Servers[0];
        Assert.That((s.MinConn, s.MaxConn), Is.EqualTo((1, 4)));
    }

    [TestCase("server a 10.0.0.1:80 minconn 5", 5, 5)]              // minconn alone is the static limit
    [TestCase("server a 10.0.0.1:80 minconn 9 maxconn 4", 9, 9)]     // above maxconn: maxconn is raised to it
    [TestCase("server a 10.0.0.1:80 maxconn 4", 4, 4)]               // maxconn alone is its own floor
    [TestCase("server a 10.0.0.1:80", 0, 0)]                         // neither: no limit
    public void MinConnAndMaxConn_AreNormalizedAsHAProxy(string line, int minConn, int maxConn)
    {
        var s = ParseValid(Backend(line)).Backends[0].Servers[0];
        Assert.That((s.MinConn, s.MaxConn), Is.EqualTo((minConn, maxConn)));
    }

    [Test]
    public void MinConn_FromDefaultServer_AndNoWarning()
    {
        var r = Parse(Backend("default-server minconn 2 maxconn 10", "server a 10.0.0.1:80"));
        Assert.That(r.Errors, Is.Empty);
        Assert.That(r.Warnings.Select(w => w.ToString()), Has.None.Contains("minconn"));
        Assert.That(r.Config!.Backends[0].Servers[0].MinConn, Is.EqualTo(2));
    }

    [Test]
    public void FullConn_Explicit_OrFromDefaults_AndNoWarning()
    {
        var r = Parse(Lines("defaults", "fullconn 30", "backend x", "backend y", "fullconn 8"));
        Assert.That(r.Errors, Is.Empty);
        Assert.That(r.Warnings.Select(w => w.ToString()), Has.None.Contains("fullconn"));
        Assert.That(r.Config!.Backends.Select(b => b.FullConn), Is.EqualTo(new[] { 30, 8 }));
    }

    [Test]
    public void FullConn_Unset_IsTenPercentOfTheReachingFrontendsMaxConn_RoundedUp()
    {
        var config = ParseValid(Lines(
            "global", "maxconn 2000",
            "frontend f1", "bind :80", "maxconn 100", "default_backend b", "use_backend c if TRUE", "use_backend c if FALSE",
            "frontend f2", "bind :81", "maxconn 55", "default_backend c", "use_backend b if TRUE",
            "frontend f3", "bind :82", "default_backend b",
            "listen l", "bind :83", "maxconn 7",
            "backend b", "backend c", "backend lonely"));
        var fullConn = config.Backends.ToDictionary(b => b.Name, b => b.FullConn);
        // b: f1 100 + f2 55 (a rule) + f3 2000 (the global maxconn); c: f1 100 once (two rules) + f2 55;
        // l: itself 7 -> 1 (rounded up); lonely: nothing reaches it -> 1, HAProxy's floor.
        Assert.That(fullConn, Is.EqualTo(new Dictionary<string, int>
            { ["b"] = 216, ["c"] = 16, ["l"] = 1, ["lonely"] = 1 }));
    }

    [TestCase("fullconn -1", "test.cfg:7: 'fullconn': expected an integer between 0 and 2147483647, got '-1'")]
    [TestCase("fullconn", "test.cfg:7: 'fullconn': missing argument, expected 'fullconn NUMBER'")]
    public void FullConn_Mistake_NamesFileLineAndKeyword(string line, string expected)
        => Assert.That(ParseErrors(Backend("server a 10.0.0.1:80", line)), Is.EqualTo(new[] { expected }));
}
