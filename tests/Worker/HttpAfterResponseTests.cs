using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// `http-after-response` (doc/configuration.txt 4.2): after the http-response rules on the server's responses, and on
/// the proxy's own answers (deny, return, redirect, errors), which http-response does not see.
/// </summary>
public class HttpAfterResponseTests
{
    /// <summary>The engine for <paramref name="config"/>, which HAProxy 2.6 accepts too (`haproxy -c`).</summary>
    private static EngineHarness StartChecked(string config)
    {
        HaproxyCheck.AssertAccepts(config.Replace("BIND", "127.0.0.1:8080"));
        return StartFromText(config);
    }

    private static async Task<HttpMessage> GetAsync(EngineHarness proxy, string request)
    {
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, request);
        return (await new HttpReader(c).ReadAsync(true))!;
    }

    private static string Config(int port, string frontendRules, string backendRules = "") => $$"""
        defaults
            mode http
            timeout connect 1s
            timeout client 10s
            timeout server 10s
        frontend fe
            bind BIND
        {{frontendRules}}
            use_backend nowhere if { path /none }
            default_backend app
        backend app
        {{backendRules}}
            server a 127.0.0.1:{{port}}
        backend nowhere
        """;

    [Test]
    public async Task ServerResponses_GetTheRules_AfterTheHttpResponseRules()
    {
        await using var app = new HttpOrigin("app", _ => HttpOrigin.Ok("x", ("Server", "nginx/1.22"), ("X-Internal", "1")));
        await using var proxy = StartChecked(Config(app.EndPoint.Port, """
                http-response set-header X-Stage response
                http-after-response set-header X-Seen %[res.hdr(x-stage)]
                http-after-response replace-value Server ^nginx.*$ hidden
                http-after-response del-header X-Internal
                http-after-response add-header X-Order fe
            """, """
                http-after-response add-header X-Order be
            """));

        var reply = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\n\r\n");

        Assert.That(reply.Status, Is.EqualTo(200));
        Assert.That(reply.Header("X-Seen"), Is.EqualTo("response"), "http-after-response runs after http-response");
        Assert.That(reply.Header("Server"), Is.EqualTo("hidden"));
        Assert.That(reply.Header("X-Internal"), Is.Null);
        Assert.That(reply.Headers.Where(h => h.Key == "X-Order").Select(h => h.Value), Is.EqualTo(new[] { "be", "fe" }), "the backend's, then the frontend's");
        Assert.That(reply.BodyText, Is.EqualTo("x"));
    }

    [Test]
    public async Task TheProxysOwnAnswers_GetTheRules_WhichHttpResponseDoesNotSee()
    {
        await using var app = new HttpOrigin("app");
        await using var proxy = StartChecked(Config(app.EndPoint.Port, """
                http-request set-var(txn.teapot) req.hdr(x-teapot)
                http-request deny if { path /deny }
                http-request return status 200 content-type text/plain string ok if { path /return }
                http-request redirect location /elsewhere if { path /redirect }
                http-response set-header X-Response 1
                http-after-response set-header X-After %[status]
                http-after-response set-status 418 if { status 403 } { var(txn.teapot) -m str 1 }
            """));

        var deny = await GetAsync(proxy, "GET /deny HTTP/1.1\r\nHost: www\r\n\r\n");
        var teapot = await GetAsync(proxy, "GET /deny HTTP/1.1\r\nHost: www\r\nX-Teapot: 1\r\n\r\n");
        var answered = await GetAsync(proxy, "GET /return HTTP/1.1\r\nHost: www\r\n\r\n");
        var redirect = await GetAsync(proxy, "GET /redirect HTTP/1.1\r\nHost: www\r\n\r\n");
        var noServer = await GetAsync(proxy, "GET /none HTTP/1.1\r\nHost: www\r\n\r\n");

        Assert.That((deny.Status, deny.Header("X-After"), deny.Header("X-Response")), Is.EqualTo((403, "403", (string?)null)));
        Assert.That(teapot.StartLine, Is.EqualTo("HTTP/1.1 418 I'm a teapot"), "set-status on a deny's answer, HAProxy's reason");
        Assert.That((answered.Status, answered.Header("X-After"), answered.BodyText), Is.EqualTo((200, "200", "ok")));
        Assert.That((redirect.Status, redirect.Header("X-After"), redirect.Header("Location")), Is.EqualTo((302, "302", "/elsewhere")));
        Assert.That((noServer.Status, noServer.Header("X-After")), Is.EqualTo((503, "503")));
        Assert.That(app.Requests, Is.Empty);
    }

    [Test]
    public async Task Allow_EndsTheRulesAfterIt_AndVariablesAreSet()
    {
        await using var app = new HttpOrigin("app");
        await using var proxy = StartChecked(Config(app.EndPoint.Port, """
                http-request deny if { path /deny }
                http-after-response set-var(txn.code) status
                http-after-response allow if { var(txn.code) -m int 403 }
                http-after-response set-header X-After %[var(txn.code)]
            """));

        var deny = await GetAsync(proxy, "GET /deny HTTP/1.1\r\nHost: www\r\n\r\n");
        var ok = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\n\r\n");

        Assert.That((deny.Status, deny.Header("X-After")), Is.EqualTo((403, (string?)null)));
        Assert.That((ok.Status, ok.Header("X-After")), Is.EqualTo((200, "200")));
    }

    [Test]
    public async Task AListenSection_AppliesItsRulesOnce()
    {
        await using var app = new HttpOrigin("app");
        await using var proxy = StartChecked($$"""
            defaults
                mode http
                timeout connect 1s
                timeout client 10s
                timeout server 10s
            listen web
                bind BIND
                http-after-response add-header X-Once 1
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        var reply = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\n\r\n");

        Assert.That(reply.Count("X-Once"), Is.EqualTo(1));
    }

    [Test]
    public async Task AResponseGrownPastMaxhdrByHttpResponseRules_StillGetsTheAfterResponseRules()
    {
        // tune.http.maxhdr (101) - 1 received fields: Content-Length and 99 more. The http-response rules take the
        // written head past the limit meant for received heads, which the after-response pass must not apply.
        var fields = Enumerable.Range(0, Proxy.Worker.Http.HttpHead.DefaultMaxHeaders - 2).Select(i => ($"X-F{i}", "v")).ToArray();
        await using var app = new HttpOrigin("app", _ => HttpOrigin.Ok("body", fields));
        await using var proxy = StartChecked(Config(app.EndPoint.Port, """
                http-response add-header X-Added 1
                http-response add-header X-Added-Too 1
                http-after-response add-header X-After 1
            """));

        var reply = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\n\r\n");

        Assert.That(reply.Status, Is.EqualTo(200), "a valid server response, not a 502");
        Assert.That((reply.Header("X-Added"), reply.Header("X-Added-Too"), reply.Header("X-After")), Is.EqualTo(("1", "1", "1")));
        Assert.That(reply.Header($"X-F{Proxy.Worker.Http.HttpHead.DefaultMaxHeaders - 3}"), Is.EqualTo("v"));
        Assert.That(reply.BodyText, Is.EqualTo("body"));
    }

    [TestCase("http-after-response deny", "'http-after-response deny' is not supported")]
    [TestCase("http-after-response", "'http-after-response': missing action")]
    [TestCase("http-after-response set-header", "missing argument")]
    public void InvalidLines_AreErrorsAtTheirLine(string line, string message)
    {
        var result = Proxy.Shared.Config.ConfigLoader.Parse($"defaults\n    mode http\nbackend be\n    {line}\n    server a 127.0.0.1:80\n", "t.cfg");
        Assert.That(result.Errors.Select(e => e.ToString()), Has.Some.Contains(message).And.Some.Contains("t.cfg:4"));
    }
}
