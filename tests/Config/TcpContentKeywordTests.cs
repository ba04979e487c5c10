using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`tcp-request inspect-delay`, `tcp-request content` and `use_backend` in mode tcp (4.2), parsed.</summary>
public sealed class TcpContentKeywordTests
{
    private static string Tcp(params string[] rules) => Lines([
        "frontend fe", "    mode tcp", "    bind :443", .. rules, "    default_backend a",
        "backend a", "    mode tcp", "    server s 127.0.0.1:1", "backend b", "    mode tcp", "    server s 127.0.0.1:2"]);

    [Test]
    public void SniRouting_InTcpMode_IsAccepted()
    {
        var fe = ParseValid(Tcp("    tcp-request inspect-delay 5s", "    tcp-request content accept if { req_ssl_hello_type 1 }",
            "    tcp-request content set-var-fmt(txn.sni) %[req.ssl_sni]", "    tcp-request content unset-var(txn.sni)",
            "    acl to_b req.ssl_sni -i b.example", "    use_backend b if to_b")).Frontends[0];
        Assert.That(fe.Mode, Is.EqualTo(ProxyMode.Tcp));
        Assert.That(fe.TcpContentRules.Select(r => r.Action), Is.EqualTo(new[] { TcpContentAction.Accept, TcpContentAction.SetVar, TcpContentAction.UnsetVar }));
        Assert.That(fe.TcpContentRules[1].Variable, Is.EqualTo("txn.sni"));
        Assert.That(fe.Http.UseBackends.Single().Backend, Is.EqualTo("b"));
    }

    [TestCase("    tcp-request content accept if { hdr(host) -m found }", "test.cfg:4: 'tcp-request content accept with anonymous ACL ('hdr(host)')' requires 'mode http'")]
    [TestCase("    use_backend b if { path_beg /api }", "test.cfg:4: 'use_backend with anonymous ACL ('path_beg')' requires 'mode http'")]
    [TestCase("    tcp-request content track-sc0 src", "test.cfg:4: 'tcp-request content track-sc0': no stick table named 'fe'")]
    [TestCase("    tcp-request content accept now", "test.cfg:4: 'tcp-request content accept': unexpected 'now'")]
    [TestCase("    tcp-request inspect-delay soon", "test.cfg:4: 'tcp-request inspect-delay': expected a time")]
    [TestCase("    tcp-request content set-var(txn.x)", "test.cfg:4: 'tcp-request content set-var': missing expression")]
    [TestCase("    tcp-request connection accept if { req.ssl_sni b }", "test.cfg:4: 'tcp-request connection accept': anonymous ACL ('req.ssl_sni') needs the bytes the client sends")]
    [TestCase("    tcp-request content accept if { req.payload(0,x) -m found }", "test.cfg:4: 'tcp-request content accept': fetch method 'req.payload' expects")]
    public void Refused(string rule, string error)
    {
        var errors = ParseErrors(Tcp(rule));
        Assert.That(errors, Has.Some.StartsWith(error), string.Join("\n", errors));
    }

    [Test]
    public void InHttpMode_ContentRulesMayReadTheRequest()
    {
        var fe = ParseValid(Lines("frontend fe", "    mode http", "    bind :80", "    tcp-request content reject if { hdr(x-bad) -m found }",
            "    default_backend a", "backend a", "    mode http", "    server s 127.0.0.1:1")).Frontends[0];
        Assert.That(fe.TcpContentRules.Single().Action, Is.EqualTo(TcpContentAction.Reject));
    }

    [Test]
    public void InABackend_ContentRulesAndTheirDelay_AreTheBackends_WithoutAWarning()
    {
        // 4.1: `tcp-request content` and `tcp-request inspect-delay` are allowed in a backend (a public file,
        // tests/Config/Corpus/backend-tcp-content.cfg, tracks and rejects there).
        var result = Parse(Lines("frontend fe", "    mode http", "    bind :80", "    default_backend a",
            "backend a", "    mode http", "    tcp-request inspect-delay 2s", "    tcp-request content reject if { path_beg /x }",
            "    tcp-request content set-var(txn.t) str(a)", "    server s 127.0.0.1:1"));
        Assert.That(result.Errors, Is.Empty, string.Join("\n", result.Errors));
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.None.Contains("tcp-request"), string.Join("\n", result.Warnings));
        var be = result.Config!.Backends.Single(b => b.Name == "a");
        Assert.That(be.TcpContentRules.Select(r => r.Action), Is.EqualTo(new[] { TcpContentAction.Reject, TcpContentAction.SetVar }));
        Assert.That(be.InspectDelay, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(result.Config.Frontends.Single().TcpContentRules, Is.Empty, "the frontend's own list stays empty");
    }

    [TestCase("    tcp-request connection reject")]
    [TestCase("    tcp-request session track-sc0 src")]
    public void InABackend_ConnectionAndSessionRules_WarnThatOnlyAFrontendRunsThem(string rule)
    {
        var result = Parse(Lines("backend a", "    mode http", rule, "    server s 127.0.0.1:1"));
        Assert.That(result.Warnings.Select(w => w.ToString()),
            Has.Member("test.cfg:3: 'tcp-request' has no effect in backend 'a', which has no frontend capability: ignored"));
        Assert.That(result.Config!.Backends.Single().TcpContentRules, Is.Empty);
    }
}
