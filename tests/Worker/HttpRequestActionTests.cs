using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>`http-request deny|return|redirect` end to end in one engine: answered by the proxy, never forwarded.</summary>
public class HttpRequestActionTests
{
    private static string Config(HttpOrigin app, HttpOrigin api, string frontendLines, string apiLines = "") => $"""
        defaults
            mode http
            timeout connect 1s
            timeout client 10s
            timeout server 10s
        frontend fe
            bind BIND
        {frontendLines}
            use_backend api if {"{"} path_beg /api {"}"}
            default_backend app
        backend app
            server a 127.0.0.1:{app.EndPoint.Port}
        backend api
        {apiLines}
            server b 127.0.0.1:{api.EndPoint.Port}
        """;

    private static async Task<HttpMessage> GetAsync(EngineHarness proxy, string request)
    {
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, request);
        return (await new HttpReader(c).ReadAsync(true))!;
    }

    [Test]
    public async Task Deny_AnswersItsStatusPage_AndTheOriginSeesNothing()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api, """
                acl admin path_beg /admin
                http-request deny if admin
                http-request deny deny_status 429 if { hdr(x-abuse) yes }
            """));

        var denied = await GetAsync(proxy, "GET /admin/users HTTP/1.1\r\nHost: www\r\n\r\n");
        var limited = await GetAsync(proxy, "GET /page HTTP/1.1\r\nHost: www\r\nX-Abuse: yes\r\n\r\n");
        var allowed = await GetAsync(proxy, "GET /page HTTP/1.1\r\nHost: www\r\n\r\n");

        Assert.That(denied.StartLine, Is.EqualTo("HTTP/1.1 403 Forbidden"));
        Assert.That(denied.BodyText, Does.Contain("Request forbidden by administrative rules."));
        Assert.That(limited.StartLine, Is.EqualTo("HTTP/1.1 429 Too Many Requests"));
        Assert.That(allowed.BodyText, Is.EqualTo("hello from app"));
        Assert.That(app.Requests.Select(r => r.Request.StartLine), Is.EqualTo(new[] { "GET /page HTTP/1.1" }));
        Assert.That(proxy.Engine.Counters[0].DeniedRequests, Is.EqualTo(2));
    }

    [Test]
    public async Task Deny_InTheBackend_AppliesAfterUseBackend()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api, "", "    http-request deny unless { method GET }"));

        var post = await GetAsync(proxy, "POST /api/x HTTP/1.1\r\nHost: www\r\nContent-Length: 2\r\n\r\nhi");
        var get = await GetAsync(proxy, "GET /api/x HTTP/1.1\r\nHost: www\r\n\r\n");
        var appPost = await GetAsync(proxy, "POST /x HTTP/1.1\r\nHost: www\r\nContent-Length: 2\r\n\r\nhi");

        Assert.That(post.StartLine, Does.StartWith("HTTP/1.1 403"));
        Assert.That(get.BodyText, Is.EqualTo("hello from api"));
        Assert.That(appPost.BodyText, Is.EqualTo("hello from app"), "the app backend has no such rule");
        Assert.That(api.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Return_SendsItsStatusTypeAndPayload()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api, """
                http-request return status 503 content-type text/plain string "down for maintenance" if { path /maint }
                http-request return if { path /ping }
            """));

        var maint = await GetAsync(proxy, "GET /maint HTTP/1.1\r\nHost: www\r\n\r\n");
        var ping = await GetAsync(proxy, "GET /ping HTTP/1.1\r\nHost: www\r\n\r\n");

        Assert.That(maint.StartLine, Is.EqualTo("HTTP/1.1 503 Service Unavailable"));
        Assert.That(maint.Header("Content-Type"), Is.EqualTo("text/plain"));
        Assert.That(maint.BodyText, Is.EqualTo("down for maintenance"));
        Assert.That(ping.StartLine, Is.EqualTo("HTTP/1.1 200 OK"), "no payload: the status's page");
        Assert.That(app.Requests, Is.Empty);
    }

    [TestCase("http-request redirect location /moved code 301", "GET /old?a=1 HTTP/1.1", "301", "/moved")]
    [TestCase("http-request redirect prefix https://new.example", "GET /old?a=1 HTTP/1.1", "302", "https://new.example/old?a=1")]
    [TestCase("http-request redirect prefix https://new.example code 308 drop-query", "GET /old?a=1 HTTP/1.1", "308", "https://new.example/old")]
    [TestCase("http-request redirect prefix /", "GET /old?a=1 HTTP/1.1", "302", "/old?a=1")]
    [TestCase("http-request redirect scheme https", "GET /p/q?x HTTP/1.1", "302", "https://www.example.com/p/q?x")]
    [TestCase("redirect prefix https://new.example drop-query append-slash", "GET /dir?a=1 HTTP/1.1", "302", "https://new.example/dir/")]
    [TestCase("redirect prefix https://new.example append-slash", "GET /dir/ HTTP/1.1", "302", "https://new.example/dir/")]
    [TestCase("redirect scheme https code 301 append-slash", "GET /dir HTTP/1.1", "301", "https://www.example.com/dir/")]
    [TestCase("redirect location /100%25 code 303", "GET /x HTTP/1.1", "303", "/100%25")]
    public async Task Redirect_BuildsTheLocation(string rule, string requestLine, string code, string location)
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api, "    " + rule));

        var reply = await GetAsync(proxy, requestLine + "\r\nHost: www.example.com\r\n\r\n");

        Assert.That(reply.StartLine, Does.StartWith($"HTTP/1.1 {code} "));
        Assert.That(reply.Header("Location"), Is.EqualTo(location));
        Assert.That(reply.Header("Content-Length"), Is.EqualTo("0"));
        Assert.That(app.Requests, Is.Empty);
    }

    [Test]
    public async Task RedirectKeyword_SetsOrClearsACookie_AndRunsAfterTheHttpRequestRules()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api, """
                redirect location /login set-cookie SEEN=1 if { path /a }
                redirect location /bye clear-cookie SID= if { path /b }
                http-request deny if { path /a } { hdr(x-deny) 1 }
            """));

        var set = await GetAsync(proxy, "GET /a HTTP/1.1\r\nHost: www\r\n\r\n");
        var clear = await GetAsync(proxy, "GET /b HTTP/1.1\r\nHost: www\r\n\r\n");
        var denied = await GetAsync(proxy, "GET /a HTTP/1.1\r\nHost: www\r\nX-Deny: 1\r\n\r\n");

        Assert.That((set.StartLine, set.Header("Location"), set.Header("Set-Cookie")), Is.EqualTo(("HTTP/1.1 302 Found", "/login", "SEEN=1; path=/;")));
        Assert.That((clear.Header("Location"), clear.Header("Set-Cookie")), Is.EqualTo(("/bye", "SID=; path=/; Max-Age=0;")));
        Assert.That(denied.StartLine, Is.EqualTo("HTTP/1.1 403 Forbidden"), "4.4: the redirect rules run after the http-request rules, whatever their order in the section");
        Assert.That(app.Requests, Is.Empty);
    }

    [TestCase("/a/b?c", "/a/b?c")]
    [TestCase("http://host.example/x?y", "/x?y")]
    [TestCase("https://host.example", "/")]
    [TestCase("*", "/")]
    [TestCase("", "/")]
    public void RedirectPath_IsThePathOfTheTarget(string target, string path)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(target);
        Assert.That(System.Text.Encoding.ASCII.GetString(Proxy.Worker.Http.CompiledRequestAction.PathOf(bytes)), Is.EqualTo(path));
    }

    [Test]
    public async Task Return_204_HasNoContentLengthAndNoBody()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api,
            "    http-request return status 204 content-type text/plain string ignored if { path /gone }"));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET /gone HTTP/1.1\r\nHost: www\r\n\r\n");
        var raw = System.Text.Encoding.ASCII.GetString(await TcpTestKit.ReadToEndAsync(c));
        Assert.That(raw, Does.StartWith("HTTP/1.1 204 No Content\r\n"));
        Assert.That(raw, Does.Not.Contain("content-length").IgnoreCase);
        Assert.That(raw, Does.EndWith("\r\n\r\n"), "nothing after the head");
    }
}
