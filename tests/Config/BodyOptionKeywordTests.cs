using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// `option http-buffer-request`, `option abortonclose` (doc/configuration.txt 4.2) and the `req.body*` fetches (7.3.6):
/// where each may be written, inheritance from defaults, `no option`, and the errors HAProxy 2.6 gives too.
/// </summary>
public class BodyOptionKeywordTests
{
    private static string Config(string defaultsLine, string frontendLine = "", string backendLine = "", string mode = "http") => Lines(
        [
            "defaults",
            $"    mode {mode}",
            "    timeout connect 5s",
            "    timeout client 30s",
            "    timeout server 30s",
            "    " + defaultsLine,
            "frontend web",
            "    bind 127.0.0.1:8080",
            "    " + frontendLine,
            "    default_backend app",
            "backend app",
            "    " + backendLine,
            "    server s1 127.0.0.1:9001",
        ]);

    [Test]
    public void HttpBufferRequest_InheritedFromDefaults_NoOptionTurnsItOff()
    {
        var text = Config("option http-buffer-request", "no option http-buffer-request");
        var config = ParseValid(text);
        Assert.That((config.Frontends[0].Http.BufferRequest, config.Backends[0].Http.BufferRequest), Is.EqualTo((false, true)));
        HaproxyCheck.AssertAccepts(text);

        var own = ParseValid(Config("option httplog", backendLine: "option http-buffer-request"));
        Assert.That((own.Frontends[0].Http.BufferRequest, own.Backends[0].Http.BufferRequest), Is.EqualTo((false, true)));
    }

    [TestCase("option http-buffer-request now", "test.cfg:9: 'option http-buffer-request' takes no argument, got 'now'")]
    [TestCase("option abortonclose please", "test.cfg:9: 'option abortonclose' has no effect in frontend 'web', which has no backend capability: ignored")]
    public void BadOptionLine_ReportsFileLineAndKeyword(string line, string expected)
    {
        var result = Parse(Config("option httplog", line));
        var messages = result.Errors.Concat(result.Warnings).Select(e => e.ToString()).ToList();
        Assert.That(messages, Has.Member(expected));
    }

    [Test]
    public void HttpBufferRequest_InATcpFrontend_IsAnError()
    {
        var errors = ParseErrors(Config("option tcplog", "option http-buffer-request", mode: "tcp"));
        Assert.That(errors, Has.Member("test.cfg:9: 'option http-buffer-request' requires 'mode http' (frontend 'web' is in tcp mode)"));
    }

    [Test]
    public void AbortOnClose_InheritedByBackends_FrontendWarned_NoOptionTurnsItOff()
    {
        var text = Config("option abortonclose");
        Assert.That(ParseValid(text).Backends[0].AbortOnClose, Is.True);
        HaproxyCheck.AssertAccepts(text);
        Assert.That(ParseValid(Config("option abortonclose", backendLine: "no option abortonclose")).Backends[0].AbortOnClose, Is.False);
        Assert.That(ParseValid(Config("option httplog", backendLine: "option abortonclose")).Backends[0].AbortOnClose, Is.True);
    }

    [Test]
    public void BodyFetches_InHttpRequestRules_Parse()
    {
        var text = Config("option httplog",
            "http-request set-header X-Len %[req.body_len]\n    http-request set-header X-Size %[req.body_size]\n" +
            "    http-request set-var(txn.body) req.body\n    http-request deny if { req.body_param(user) -m str root }\n" +
            "    http-request set-header X-First %[req.body_param]");
        ParseValid(text);
        HaproxyCheck.AssertAccepts(text);
    }

    // 2.6 refuses the first two; the third it accepts with "anonymous acl will never match" (stricter here).
    [TestCase("http-request set-header X %[req.body_param(a,i)]", "req.body_param", true)]
    [TestCase("http-request set-header X %[req.body_len(a)]", "req.body_len", true)]
    [TestCase("tcp-request connection reject if { req.body_len gt 0 }", "req.body_len", false)]
    public void BodyFetches_WhereHaproxyRefusesThemOrTheyNeverMatch_AreErrorsNamingTheFetch(string line, string fetch, bool haproxyRefuses)
    {
        var text = Config("option httplog", line);
        var errors = ParseErrors(text);
        Assert.That(errors, Has.Some.StartsWith("test.cfg:9: ").And.Some.Contains(fetch), string.Join("\n", errors));
        if (haproxyRefuses) HaproxyCheck.AssertRefuses(text);
        else HaproxyCheck.AssertAccepts(text);
    }
}
