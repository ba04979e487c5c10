using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// A keyword in a proxy that lacks the capability it needs (doc/configuration.txt 4.1 matrix) is what HAProxy makes
/// of it (warnifnotcap): accepted, a warning at FILE:LINE, no effect. Nothing is silently ignored, nothing HAProxy
/// accepts is an error; a defaults section still refuses what HAProxy refuses there.
/// </summary>
[TestFixture]
public sealed class SectionCapabilityTests
{
    // Line 5 is the line under test in a frontend "f"; line 7 in a backend "b".
    private static ConfigResult InFrontend(string line) => Parse(Lines(
        "backend b", "    server s1 127.0.0.1:80", "frontend f", "    bind :80", line, "    default_backend b"));

    private static ConfigResult InBackend(string line) => Parse(Lines(
        "frontend f", "    bind :80", "    default_backend b", "backend b", "    server s1 127.0.0.1:80", "    mode tcp", line));

    private static List<string> Warnings(ConfigResult r)
    {
        Assert.That(r.Errors.Select(e => e.ToString()), Is.Empty, "HAProxy accepts it: no error");
        return r.Warnings.Select(w => w.ToString()).ToList();
    }

    [TestCase("    server s2 10.0.0.1:80", "server")]
    [TestCase("    default-server weight 5", "default-server")]
    [TestCase("    balance leastconn", "balance")]
    [TestCase("    hash-type consistent", "hash-type")]
    [TestCase("    retries 5", "retries")]
    [TestCase("    option redispatch", "option redispatch")]
    [TestCase("    option allbackups", "option allbackups")]
    [TestCase("    option httpchk", "option httpchk")]
    [TestCase("    http-check expect status 200", "http-check")]
    [TestCase("    timeout connect 1s", "timeout connect")]
    [TestCase("    timeout server 1s", "timeout server")]
    [TestCase("    timeout queue 1s", "timeout queue")]
    [TestCase("    timeout check 1s", "timeout check")]
    [TestCase("    timeout tunnel 1h", "timeout tunnel")]
    public void BackendKeyword_InAFrontend_WarnsAtItsLine(string line, string keyword)
    {
        Assert.That(Warnings(InFrontend(line)),
            Has.Member($"test.cfg:5: '{keyword}' has no effect in frontend 'f', which has no backend capability: ignored"));
    }

    [TestCase("    bind :81", "bind")]
    [TestCase("    default_backend b", "default_backend")]
    [TestCase("    maxconn 10", "maxconn")]
    [TestCase("    timeout client 1s", "timeout client")]
    [TestCase("    option tcplog", "option tcplog")]
    [TestCase("    option dontlognull", "option dontlognull")]
    public void FrontendKeyword_InABackend_WarnsAtItsLine(string line, string keyword)
    {
        Assert.That(Warnings(InBackend(line)),
            Has.Member($"test.cfg:7: '{keyword}' has no effect in backend 'b', which has no frontend capability: ignored"));
    }

    [Test]
    public void IgnoredKeywords_LeaveTheModelUnchanged()
    {
        var fe = InFrontend("    retries 9").Config!;
        Assert.That(fe.FindBackend("b")!.Retries, Is.EqualTo(3), "a frontend's retries reach no backend");
        var be = InBackend("    bind :81").Config!;
        Assert.That(be.Frontends.Single().Binds, Has.Count.EqualTo(1), "a backend's bind opens nothing");
        var timeout = InBackend("    timeout client 1s").Config!;
        Assert.That(timeout.Frontends.Single().Timeouts.Client, Is.Null);
    }

    [TestCase("timeout http-request")]
    [TestCase("timeout http-keep-alive")]
    public void ClientSideTimeout_InABackend_SaysItHasNoEffect(string keyword)
    {
        // HAProxy takes them in a backend (4.1 "yes"), but the frontend reads the request and waits between requests.
        Assert.That(Warnings(InBackend($"    {keyword} 3s")),
            Has.Member($"test.cfg:7: '{keyword}' has no effect in backend 'b': the frontend's '{keyword}' times the client side"));
    }

    [TestCase("timeout http-request")]
    [TestCase("timeout http-keep-alive")]
    public void ClientSideTimeout_InAListenOrDefaults_TakesEffectWithoutWarning(string keyword)
    {
        var listen = Parse(Lines("listen l", "    bind :80", $"    {keyword} 3s", "    server s1 127.0.0.1:80"));
        Assert.That(Warnings(listen), Has.None.Contains($"'{keyword}'"));
        var inherited = Parse(Lines("defaults", $"    {keyword} 3s", "frontend f", "    bind :80", "    default_backend b",
            "backend b", "    server s1 127.0.0.1:80"));
        Assert.That(Warnings(inherited), Has.None.Contains($"'{keyword}'"), "a defaults value reaching a backend is not the user's doing");
        var t = inherited.Config!.Frontends[0].Timeouts;
        Assert.That(keyword == "timeout http-request" ? t.HttpRequest : t.HttpKeepAlive, Is.EqualTo(TimeSpan.FromSeconds(3)));
    }

    [TestCase("    bind :81", "test.cfg:2: 'bind' is not allowed in a defaults section")]
    [TestCase("    server s 10.0.0.1:80", "test.cfg:2: 'server' is not allowed in a defaults section")]
    [TestCase("    use_backend b", "test.cfg:2: 'use_backend' is not allowed in a defaults section")]
    public void ProxyOnlyKeyword_InDefaults_StaysAnError(string line, string expected)
    {
        Assert.That(ParseErrors(Lines("defaults", line)), Has.Member(expected));
    }
}
