using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// `use_backend FMT` (4.2 "use_backend": "a log-format string resolving to a backend name"): parsed as a log-format,
/// not checked against the backends at load time, errors in the format named at FILE:LINE.
/// </summary>
public class DynamicUseBackendKeywordTests
{
    private static string Config(string rule, string mode = "http") => Lines("defaults", $"    mode {mode}", AllTimeouts.TrimEnd('\n'),
        "frontend fe", "    bind 127.0.0.1:8080", "    " + rule, "    default_backend be_a",
        "backend be_a", "    server s 127.0.0.1:8081");

    [TestCase("use_backend be_%[req.hdr(host),lower,map_str(/dev/null,b)]", "http")]
    [TestCase("use_backend %[req.hdr(host),lower] if { req.hdr(host) -m found }", "http")]
    [TestCase("use_backend be_%[req.ssl_sni] if { req.ssl_sni -m found }", "tcp")]
    public void UseBackend_LogFormatName_ParsedNotCheckedAtLoad(string rule, string mode)
    {
        string text = Config(rule, mode);
        var use = ParseValid(text).Frontends[0].Http.UseBackends.Single();
        Assert.That(use.NameFormat, Is.Not.Null);
        Assert.That(use.NameFormat!.Nodes.Any(n => n.Expr is not null), Is.True);
        HaproxyCheck.AssertAccepts(text);
    }

    [Test]
    public void UseBackend_PlainName_StillCheckedAtLoad()
    {
        var errors = ParseErrors(Config("use_backend nowhere"));
        Assert.That(errors, Is.EqualTo(new[] { "test.cfg:8: 'use_backend': no backend named 'nowhere' (used by frontend 'fe')" }));
        Assert.That(ParseValid(Config("use_backend be_a if TRUE")).Frontends[0].Http.UseBackends.Single().NameFormat, Is.Null);
    }

    [TestCase("use_backend be_%[frob]", "test.cfg:8: 'use_backend': in '%[': unknown fetch method 'frob'")]
    [TestCase("use_backend be_%[req.hdr(host)", "test.cfg:8: 'use_backend': missing ']' after '%[req.hdr(host)'")]
    public void UseBackend_BadFormat_NamesIt(string rule, string expected)
    {
        string text = Config(rule);
        Assert.That(ParseErrors(text), Is.EqualTo(new[] { expected }));
        HaproxyCheck.AssertRefuses(text);
    }
}
