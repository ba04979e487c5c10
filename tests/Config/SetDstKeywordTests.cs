using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Tests.Support;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// `http-request set-dst|set-dst-port`, `tcp-request content set-dst|set-dst-port` and `tcp-request connection
/// set-dst|set-dst-port` (4.2): parsed into the model, layer-4 facts only at `tcp-request connection`, side by side
/// with `haproxy -c`.
/// </summary>
public class SetDstKeywordTests
{
    private static string Config(string mode, params string[] rules) => Lines(["defaults", $"    mode {mode}", AllTimeouts.TrimEnd('\n'),
        "frontend fe", "    bind 127.0.0.1:8080", .. rules.Select(r => "    " + r), "    default_backend be",
        "backend be", "    server s 127.0.0.1"]);

    [Test]
    public void SetDst_AllThreeRuleSets_InTheModel()
    {
        string text = Config("http",
            "tcp-request connection set-dst-port int(8443) if { src 10.0.0.0/8 }",
            "tcp-request connection set-dst src",
            "tcp-request content set-dst-port int(81)",
            "http-request set-dst req.hdr(x-dst) if { req.hdr(x-dst) -m found }",
            "http-request set-dst-port req.hdr(x-port)");
        var fe = ParseValid(text).Frontends[0];
        Assert.That(fe.TcpConnectionRules.Select(r => r.Action!.Kind),
            Is.EqualTo(new[] { HttpRequestActionKind.SetDstPort, HttpRequestActionKind.SetDst }));
        Assert.That(fe.TcpConnectionRules.All(r => !r.Reject), Is.True, "the rules go on after a set-dst");
        Assert.That(fe.TcpContentRules.Single().Action, Is.EqualTo(TcpContentAction.SetDstPort));
        Assert.That(fe.Http.RequestActions.Select(a => (a.Kind, a.Expr!.Text)),
            Is.EqualTo(new[] { (HttpRequestActionKind.SetDst, "req.hdr(x-dst)"), (HttpRequestActionKind.SetDstPort, "req.hdr(x-port)") }));
        HaproxyCheck.AssertAccepts(text);
    }

    [Test]
    public void SetDst_TcpMode_ContentRules()
    {
        string text = Config("tcp", "tcp-request content set-dst-port int(81)", "tcp-request content set-dst src");
        Assert.That(ParseValid(text).Frontends[0].TcpContentRules.Select(r => r.Action),
            Is.EqualTo(new[] { TcpContentAction.SetDstPort, TcpContentAction.SetDst }));
        HaproxyCheck.AssertAccepts(text);
    }

    [TestCase("tcp-request connection set-dst req.hdr(x-dst)", "test.cfg:8: 'tcp-request connection set-dst': fetch method 'req.hdr' cannot be evaluated at 'tcp-request connection' (only layer-4 fetches such as 'src' and 'dst' can)", false)]
    [TestCase("http-request set-dst", "test.cfg:8: 'http-request set-dst': missing expression, expected 'http-request set-dst EXPR [if|unless COND]'", true)]
    [TestCase("http-request set-dst-port int(1) int(2)", "test.cfg:8: 'http-request set-dst-port': unexpected 'int(2)'", true)]
    [TestCase("tcp-request content set-dst frob", "test.cfg:8: 'tcp-request content set-dst': unknown fetch method 'frob'", true)]
    public void SetDst_Refused_NamesKeywordAndLine(string rule, string expected, bool haproxyRefuses)
    {
        string text = Config("http", rule);
        Assert.That(ParseErrors(text), Is.EqualTo(new[] { expected }));
        // HAProxy accepts a layer-7 fetch at `tcp-request connection` here, where it has no sample (README: stricter).
        if (haproxyRefuses) HaproxyCheck.AssertRefuses(text);
        else HaproxyCheck.AssertAccepts(text);
    }
}
