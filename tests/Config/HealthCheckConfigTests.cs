using System.Net;
using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`option httpchk`, `http-check send|expect` and the server check options, with their errors (file:line, keyword).</summary>
public class HealthCheckConfigTests
{
    // Line 5 is the first line given to Backend().
    private static string Backend(string mode, params string[] lines) => Lines(
        [
            "defaults",
            $"    mode {mode}",
            "    timeout connect 5s",
            "backend app",
            .. lines,
        ]);

    private static BackendConfig ValidBackend(params string[] lines) => ParseValid(Backend("http", lines)).Backends[0];

    [Test]
    public void OptionHttpchk_Forms_AsHAProxy()
    {
        Assert.That(ValidBackend("    server s1 127.0.0.1:80 check").HttpCheck, Is.Null, "no httpchk: layer 4 checks");
        var d = ValidBackend("    option httpchk").HttpCheck!;
        Assert.That((d.Method, d.Uri, d.Version), Is.EqualTo(("OPTIONS", "/", "HTTP/1.0")));
        var uriOnly = ValidBackend("    option httpchk /health").HttpCheck!;
        Assert.That((uriOnly.Method, uriOnly.Uri), Is.EqualTo(("OPTIONS", "/health")));
        var two = ValidBackend("    option httpchk GET /health").HttpCheck!;
        Assert.That((two.Method, two.Uri, two.Version), Is.EqualTo(("GET", "/health", "HTTP/1.0")));
        var three = ValidBackend("    option httpchk HEAD /ping HTTP/1.1").HttpCheck!;
        Assert.That((three.Method, three.Uri, three.Version), Is.EqualTo(("HEAD", "/ping", "HTTP/1.1")));
        Assert.That(ValidBackend("    option httpchk", "    no option httpchk").HttpCheck, Is.Null);
    }

    [Test]
    public void OptionHttpchk_InheritedFromDefaults_AndAllowedInTcpMode()
    {
        var config = ParseValid(Lines("defaults", "    mode tcp", "    timeout connect 5s", "    option httpchk GET /hc", "backend app",
            "    server s1 127.0.0.1:80 check"));
        Assert.That(config.Backends[0].HttpCheck!.Uri, Is.EqualTo("/hc"));
    }

    [Test]
    public void HttpCheckSend_SetsRequest()
    {
        var s = ValidBackend("    option httpchk", "    http-check send meth GET uri /status ver HTTP/1.1 hdr Host example.com hdr X-A b body hi").HttpCheck!;
        Assert.That((s.Method, s.Uri, s.Version, s.Body), Is.EqualTo(("GET", "/status", "HTTP/1.1", "hi")));
        Assert.That(s.Headers, Is.EqualTo(new[] { ("Host", "example.com"), ("X-A", "b") }));
    }

    [Test]
    public void HttpCheckExpect_Matchers()
    {
        var s = ValidBackend("    option httpchk", "    http-check expect status 200-299,304", "    http-check expect ! string maintenance").HttpCheck!;
        Assert.That(s.Expects, Has.Count.EqualTo(2));
        Assert.That(s.Expects[0].Match, Is.EqualTo(HttpCheckMatch.Status));
        Assert.That(s.Expects[0].Statuses, Is.EqualTo(new[] { (200, 299), (304, 304) }));
        Assert.That((s.Expects[1].Match, s.Expects[1].Negate, s.Expects[1].Pattern), Is.EqualTo((HttpCheckMatch.String, true, "maintenance")));
        var r = ValidBackend("    option httpchk", "    http-check expect rstatus ^2", "    http-check expect rstring ok$").HttpCheck!;
        Assert.That(r.Expects.Select(e => e.Match), Is.EqualTo(new[] { HttpCheckMatch.RStatus, HttpCheckMatch.RString }));
        Assert.That(r.Expects[1].Regex!.IsMatch("all ok"), Is.True);
    }

    [Test]
    public void HttpCheckExpect_InBackend_ReplacesTheDefaultsRules()
    {
        var config = ParseValid(Lines("defaults", "    mode http", "    timeout connect 5s", "    option httpchk", "    http-check expect status 200",
            "backend a", "    server s1 127.0.0.1:80 check", "backend b", "    http-check expect status 204", "    server s1 127.0.0.1:80 check"));
        Assert.That(config.Backends[0].HttpCheck!.Expects.Single().Pattern, Is.EqualTo("200"));
        Assert.That(config.Backends[1].HttpCheck!.Expects.Single().Pattern, Is.EqualTo("204"));
    }

    [Test]
    public void HttpCheck_WithoutOptionHttpchk_Warns()
    {
        var result = Parse(Backend("http", "    http-check expect status 200", "    server s1 127.0.0.1:80 check"));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.EqualTo("test.cfg:5: 'http-check' has no effect in backend 'app' without 'option httpchk'"));
    }

    [Test]
    public void ServerCheckOptions_Parsed()
    {
        var s = ValidBackend("    server s1 127.0.0.1:80 check inter 1s fastinter 200ms downinter 5s rise 3 fall 4 port 8081 addr 127.0.0.2 "
            + "observe layer7 error-limit 5 on-error mark-down").Servers[0];
        var c = s.CheckSettings;
        Assert.That((s.Inter, s.Rise, s.Fall), Is.EqualTo((TimeSpan.FromSeconds(1), 3, 4)));
        Assert.That((c.FastInter, c.DownInter), Is.EqualTo(((TimeSpan?)TimeSpan.FromMilliseconds(200), (TimeSpan?)TimeSpan.FromSeconds(5))));
        Assert.That((c.Port, c.Address), Is.EqualTo(((int?)8081, IPAddress.Parse("127.0.0.2"))));
        Assert.That((c.Observe, c.ErrorLimit, c.OnError), Is.EqualTo((ObserveMode.Layer7, 5, OnErrorAction.MarkDown)));
    }

    [Test]
    public void ServerCheckOptions_DefaultsAsHAProxy_AndDefaultServerApplies()
    {
        var servers = ValidBackend("    server plain 127.0.0.1:80 check",
            "    default-server fastinter 100ms observe layer4 on-error sudden-death",
            "    server s2 127.0.0.1:81 check error-limit 2").Servers;
        var plain = servers[0].CheckSettings;
        Assert.That((plain.FastInter, plain.DownInter, plain.Port, plain.Observe, plain.ErrorLimit, plain.OnError),
            Is.EqualTo(((TimeSpan?)null, (TimeSpan?)null, (int?)null, ObserveMode.None, 10, OnErrorAction.FailCheck)));
        var s2 = servers[1].CheckSettings;
        Assert.That((s2.FastInter, s2.Observe, s2.ErrorLimit, s2.OnError),
            Is.EqualTo(((TimeSpan?)TimeSpan.FromMilliseconds(100), ObserveMode.Layer4, 2, OnErrorAction.SuddenDeath)));
        Assert.That(ValidBackend("    server s 127.0.0.1:80 check observe layer4 on-error fastinter").Servers[0].CheckSettings.OnError,
            Is.EqualTo(OnErrorAction.FastInter));
        Assert.That(ValidBackend("    server s 127.0.0.1:80 check addr localhost").Servers[0].CheckSettings.Address, Is.EqualTo(IPAddress.Loopback));
    }

    [TestCase("    server s1 127.0.0.1:80 check fastinter fast", "test.cfg:5: 'server fastinter': expected a time like 5s, got 'fast'")]
    [TestCase("    server s1 127.0.0.1:80 check fastinter 0", "test.cfg:5: 'server fastinter': the interval must be above zero")]
    [TestCase("    server s1 127.0.0.1:80 check downinter", "test.cfg:5: 'server': option 'downinter' needs a value")]
    [TestCase("    server s1 127.0.0.1:80 check port 70000", "test.cfg:5: 'server port': expected an integer between 1 and 65535, got '70000'")]
    [TestCase("    server s1 127.0.0.1:80 check addr nowhere.invalid", "test.cfg:5: 'server addr': expected an IP address or a host name, got 'nowhere.invalid'")]
    [TestCase("    server s1 127.0.0.1:80 check observe layer8", "test.cfg:5: 'server observe': expected layer4 or layer7, got 'layer8'")]
    [TestCase("    server s1 127.0.0.1:80 check error-limit 0", "test.cfg:5: 'server error-limit': expected an integer between 1 and 2147483647, got '0'")]
    [TestCase("    server s1 127.0.0.1:80 check on-error explode", "test.cfg:5: 'server on-error': expected fastinter, fail-check, sudden-death or mark-down, got 'explode'")]
    [TestCase("    default-server on-error", "test.cfg:5: 'default-server': option 'on-error' needs a value")]
    [TestCase("    server s1 127.0.0.1:80 check agent-check", "test.cfg:5: 'server': 'agent-check' on server 's1' needs 'agent-port' (the agent's TCP port)")]
    [TestCase("    server s1 127.0.0.1:80 observe layer7", "test.cfg:5: 'server s1': 'observe' needs 'check' (the active check brings the server back up)")]
    [TestCase("    option httpchk GET /a HTTP/1.1 extra", "test.cfg:5: 'option httpchk': unexpected 'extra', expected 'option httpchk [METHOD] [URI] [VERSION]'")]
    [TestCase("    option httpchk G(T /", "test.cfg:5: 'option httpchk': invalid method 'G(T'")]
    [TestCase("    http-check", "test.cfg:5: 'http-check': missing argument, expected 'http-check send|expect ...'")]
    [TestCase("    http-check fly", "test.cfg:5: 'http-check': unknown action 'fly' (expected send or expect)")]
    [TestCase("    http-check send meth", "test.cfg:5: 'http-check send': option 'meth' needs a value")]
    [TestCase("    http-check send hdr Host", "test.cfg:5: 'http-check send': option 'hdr' needs a name and a value")]
    [TestCase("    http-check send hdr Connection keep-alive", "test.cfg:5: 'http-check send hdr': the header 'Connection' is set by the check itself")]
    [TestCase("    http-check send uri-lf /%[var(x)]", "test.cfg:5: 'http-check send': option 'uri-lf' is not supported yet")]
    [TestCase("    http-check send path /", "test.cfg:5: 'http-check send': unknown option 'path' (expected meth, uri, ver, hdr or body)")]
    [TestCase("    http-check expect status", "test.cfg:5: 'http-check expect': missing argument, expected 'http-check expect [!] status|rstatus|string|rstring PATTERN'")]
    [TestCase("    http-check expect status 200 extra", "test.cfg:5: 'http-check expect': unexpected 'extra', expected 'http-check expect [!] status|rstatus|string|rstring PATTERN'")]
    [TestCase("    http-check expect status 2xx", "test.cfg:5: 'http-check expect status': expected status codes like 200, 200,204 or 200-299, got '2xx'")]
    [TestCase("    http-check expect status 300-200", "test.cfg:5: 'http-check expect status': expected status codes like 200, 200,204 or 200-299, got '300-200'")]
    [TestCase("    http-check expect rstring (", "test.cfg:5: 'http-check expect rstring': invalid regular expression '('")]
    [TestCase("    http-check expect hdr name x", "test.cfg:5: 'http-check expect hdr' is not supported yet")]
    [TestCase("    http-check expect min-recv 10 status 200", "test.cfg:5: 'http-check expect min-recv' is not supported yet")]
    [TestCase("    http-check expect body x", "test.cfg:5: 'http-check expect': unknown match 'body'")]
    public void Errors_NameFileLineAndKeyword(string line, string expected)
    {
        var errors = ParseErrors(Backend("http", line, "    server z 127.0.0.1:80 check"));
        Assert.That(errors, Has.Some.StartsWith(expected), string.Join("\n", errors));
    }

    [Test]
    public void ObserveLayer7_InTcpMode_IsAnError()
    {
        var errors = ParseErrors(Backend("tcp", "    server s1 127.0.0.1:80 check observe layer7"));
        Assert.That(errors, Is.EqualTo(new[] { "test.cfg:5: 'server s1': 'observe layer7' requires 'mode http' (backend 'app' is in tcp mode)" }));
    }

    [Test]
    public void HttpCheck_InAFrontend_WarnsAndHasNoEffect()
    {
        var result = Parse(Lines("defaults", "    mode http", "frontend f", "    bind :80", "    option httpchk", "    http-check expect status 200"));
        Assert.That(result.Errors, Is.Empty);
        var warnings = result.Warnings.Select(w => w.ToString()).ToList();
        Assert.That(warnings, Has.Member("test.cfg:5: 'option httpchk' has no effect in frontend 'f', which has no backend capability: ignored"));
        Assert.That(warnings, Has.Member("test.cfg:6: 'http-check' has no effect in frontend 'f', which has no backend capability: ignored"));
    }
}
