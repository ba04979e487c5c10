using System.Diagnostics;
using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// http-request / http-response rules apply in the order of the file on the message (doc/configuration.txt 4.2):
/// `allow` ends the header rules after it too, a replace rule sees what an earlier set|add-header wrote, a regex on
/// a client's value has a match timeout, and `set-src` rewrites the connection's source, not one request's.
/// </summary>
public class RuleOrderTests
{
    /// <summary>The engine for <paramref name="config"/>, which HAProxy 2.6 accepts too (`haproxy -c`).</summary>
    private static EngineHarness StartChecked(string config)
    {
        HaproxyCheck.AssertAccepts(config.Replace("BIND", "127.0.0.1:8080"));
        return StartFromText(config);
    }

    private const string Defaults = """
        defaults
            mode http
            timeout connect 1s
            timeout client 10s
            timeout server 10s
        """;

    private static async Task<HttpMessage> GetAsync(EngineHarness proxy, string request)
    {
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, request);
        return (await new HttpReader(c).ReadAsync(true))!;
    }

    [Test]
    public async Task HttpRequestAllow_SkipsTheHeaderRulesWrittenAfterIt()
    {
        await using var app = new HttpOrigin("app");
        await using var proxy = StartChecked($$"""
            {{Defaults}}
            frontend fe
                bind BIND
                http-request set-header X-Before 1
                http-request allow if { hdr(x-trusted) 1 }
                http-request set-header X-After 1
                http-request del-header X-Secret
                default_backend app
            backend app
                http-request add-header X-Backend 1
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        await GetAsync(proxy, "GET /t HTTP/1.1\r\nHost: www\r\nX-Trusted: 1\r\nX-Secret: s\r\n\r\n");
        await GetAsync(proxy, "GET /u HTTP/1.1\r\nHost: www\r\nX-Secret: s\r\n\r\n");

        var trusted = app.Requests.Single(r => r.Request.StartLine.Contains("/t")).Request;
        var other = app.Requests.Single(r => r.Request.StartLine.Contains("/u")).Request;
        Assert.That(trusted.Header("X-Before"), Is.EqualTo("1"), "a rule before the allow ran");
        Assert.That(trusted.Header("X-After"), Is.Null, "allow ended the set-header after it");
        Assert.That(trusted.Header("X-Secret"), Is.EqualTo("s"), "allow ended the del-header after it");
        Assert.That(trusted.Header("X-Backend"), Is.EqualTo("1"), "the frontend's allow does not end the backend's rules");
        Assert.That(other.Header("X-After"), Is.EqualTo("1"));
        Assert.That(other.Header("X-Secret"), Is.Null);
    }

    [Test]
    public async Task HttpResponseAllow_SkipsTheHeaderRulesWrittenAfterIt()
    {
        await using var app = new HttpOrigin("app", m => HttpOrigin.Ok("x", ("X-Origin", m.Header("X-Want") ?? "none"), ("Server", "nginx")));
        await using var proxy = StartChecked($$"""
            {{Defaults}}
            frontend fe
                bind BIND
                http-response add-header X-Before 1
                http-response allow if { res.hdr(x-origin) ok }
                http-response set-header X-After 1
                http-response del-header Server
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        var allowed = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\nX-Want: ok\r\n\r\n");
        var other = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\n\r\n");

        Assert.That(allowed.Header("X-Before"), Is.EqualTo("1"));
        Assert.That(allowed.Header("X-After"), Is.Null, "allow ended the set-header after it");
        Assert.That(allowed.Header("Server"), Is.EqualTo("nginx"), "allow ended the del-header after it");
        Assert.That(other.Header("X-After"), Is.EqualTo("1"));
        Assert.That(other.Header("Server"), Is.Null);
    }

    [Test]
    public async Task ReplaceRules_RewriteWhatAnEarlierSetOrAddHeaderWrote_NotALaterOne()
    {
        await using var app = new HttpOrigin("app", _ => HttpOrigin.Ok("x"));
        await using var proxy = StartChecked($$"""
            {{Defaults}}
            frontend fe
                bind BIND
                http-request add-header X-Added foo
                http-request replace-value X-Added ^foo$ bar
                http-request replace-header X-Later ^v$ rewritten
                http-request set-header X-Later v
                http-request set-header X-Fe from-fe
                http-response add-header X-Res a1
                http-response replace-header X-Res ^a(.)$ b\1
                default_backend app
            backend app
                http-request replace-header X-Fe ^from-(.*)$ via-\1
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        var reply = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\nX-Later: v\r\n\r\n");

        var seen = app.Requests.Single().Request;
        Assert.That(seen.Header("X-Added"), Is.EqualTo("bar"), "the replace after the add-header rewrote its value");
        Assert.That(seen.Header("X-Later"), Is.EqualTo("v"), "a replace before the set-header does not see its value");
        Assert.That(seen.Count("X-Later"), Is.EqualTo(1));
        Assert.That(seen.Header("X-Fe"), Is.EqualTo("via-fe"), "the backend's replace sees the frontend's set-header");
        Assert.That(reply.Header("X-Res"), Is.EqualTo("b1"));
    }

    [Test]
    public async Task ARegexThatBacktracksWithoutEnd_TimesOut_TheRewriteFailsAndTheAclDoesNotMatch()
    {
        await using var app = new HttpOrigin("app");
        await using var proxy = StartChecked($$"""
            {{Defaults}}
            frontend fe
                bind BIND
                acl evil hdr(x-acl) -m reg ^(a|aa)+$
                http-request deny deny_status 403 if evil
                http-request replace-header X-Rewrite ^(a|aa)+$ x
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);
        string evil = new string('a', 60) + "!";

        var watch = Stopwatch.StartNew();
        var rewrite = await GetAsync(proxy, $"GET /r HTTP/1.1\r\nHost: www\r\nX-Rewrite: {evil}\r\n\r\n");
        var acl = await GetAsync(proxy, $"GET /a HTTP/1.1\r\nHost: www\r\nX-Acl: {evil}\r\n\r\n");
        watch.Stop();

        Assert.That(rewrite.Status, Is.EqualTo(500), "a replace that timed out is a failed rewrite");
        Assert.That(acl.Status, Is.EqualTo(200), "a `-m reg` that timed out does not match");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "each match stopped at its timeout");
        Assert.That(app.Requests.Select(r => r.Request.StartLine), Is.EqualTo(new[] { "GET /a HTTP/1.1" }));
    }

    [Test]
    public async Task SetSrc_LastsTheConnection_LaterRequestsKeepTheAddress()
    {
        await using var app = new HttpOrigin("app");
        await using var proxy = StartChecked($$"""
            {{Defaults}}
            frontend fe
                bind BIND
                http-request set-src hdr(x-real-ip) if { hdr(x-real-ip) -m found }
                http-request set-header X-Src %[src]
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        await SendAsync(c, "GET /1 HTTP/1.1\r\nHost: www\r\nX-Real-IP: 10.1.2.3\r\n\r\n");
        Assert.That((await reader.ReadAsync(true))!.Status, Is.EqualTo(200));
        await SendAsync(c, "GET /2 HTTP/1.1\r\nHost: www\r\n\r\n");
        Assert.That((await reader.ReadAsync(true))!.Status, Is.EqualTo(200));
        var fresh = await GetAsync(proxy, "GET /3 HTTP/1.1\r\nHost: www\r\n\r\n");
        Assert.That(fresh.Status, Is.EqualTo(200));

        var seen = app.Requests.Select(r => (r.Request.StartLine, r.Request.Header("X-Src"))).ToList();
        Assert.That(seen, Is.EqualTo(new[]
        {
            ("GET /1 HTTP/1.1", "10.1.2.3"),
            ("GET /2 HTTP/1.1", "10.1.2.3"),   // HAProxy rewrites the session's source: the connection keeps it
            ("GET /3 HTTP/1.1", "127.0.0.1"),  // another connection has its own
        }));
    }
}
