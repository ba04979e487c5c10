using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>ACLs, `use_backend`, header rules, `option forwardfor` and the connection options, end to end in one engine.</summary>
public class HttpRoutingTests
{
    private static string TwoBackends(HttpOrigin app, HttpOrigin api, string frontendExtra, string backendExtra = "") => $"""
        defaults
            mode http
            timeout connect 1s
            timeout client 10s
            timeout server 10s
        frontend fe
            bind BIND
        {frontendExtra}
            default_backend app
        backend app
        {backendExtra}
            server a 127.0.0.1:{app.EndPoint.Port}
        backend api
            server b 127.0.0.1:{api.EndPoint.Port}
        """;

    private static async Task<HttpMessage> GetAsync(EngineHarness proxy, string request)
    {
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, request);
        return (await new HttpReader(c).ReadAsync(true, request.StartsWith("HEAD")))!;
    }

    [TestCase("GET /api/users HTTP/1.1\r\nHost: www\r\n\r\n", "api")]
    [TestCase("GET /static/x.json HTTP/1.1\r\nHost: www\r\n\r\n", "api")]
    [TestCase("GET /static/x.css HTTP/1.1\r\nHost: www\r\n\r\n", "app")]
    [TestCase("GET / HTTP/1.1\r\nHost: API.example\r\n\r\n", "api")]
    [TestCase("DELETE /api/x HTTP/1.1\r\nHost: www\r\n\r\n", "app")]
    [TestCase("GET /v2/items?x=/api HTTP/1.1\r\nHost: www\r\n\r\n", "api")]
    [TestCase("GET /other HTTP/1.1\r\nHost: www\r\nX-Route: beta, api\r\n\r\n", "api")]
    public async Task UseBackend_RoutesByAcl(string request, string expected)
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(TwoBackends(app, api, """
                acl is_api path_beg /api
                acl is_api path_reg ^/v[0-9]+/
                acl api_host hdr_beg(host) -i api.
                acl json path_end .json
                acl readonly method GET HEAD
                acl routed hdr(x-route) api
                use_backend api if is_api readonly || api_host || json
                use_backend api if routed
            """));
        Assert.That((await GetAsync(proxy, request)).BodyText, Is.EqualTo($"hello from {expected}"));
    }

    [Test]
    public async Task UseBackend_AnonymousAclAndSrcAndUnless()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(TwoBackends(app, api, """
                acl local src 127.0.0.0/8
                use_backend api if { path /x } local
                use_backend api unless { path_beg / }
            """));
        Assert.That((await GetAsync(proxy, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n")).BodyText, Is.EqualTo("hello from api"));
        Assert.That((await GetAsync(proxy, "GET /y HTTP/1.1\r\nHost: h\r\n\r\n")).BodyText, Is.EqualTo("hello from app"));
        Assert.That((await GetAsync(proxy, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")).BodyText, Is.EqualTo("hello from api"));
    }

    [Test]
    public async Task HeaderRules_AppliedToRequestAndResponse_FrontendThenBackend()
    {
        await using var app = new HttpOrigin("app", _ => HttpOrigin.Ok("x", ("X-Internal", "secret"), ("Server", "origin")));
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(TwoBackends(app, api, """
                acl admin path_beg /admin
                http-request set-header X-Env prod
                http-request add-header X-Tag one
                http-request add-header X-Tag two
                http-request del-header X-Secret
                http-request set-header X-Admin yes if admin
                http-response del-header X-Internal
                http-response set-header Server proxy
            """, backendExtra: "    http-request set-header X-Env staging\n    http-response add-header X-Backend app"));
        var resp = await GetAsync(proxy, "GET /admin HTTP/1.1\r\nHost: h\r\nX-Env: dev\r\nX-Secret: s\r\nX-Tag: zero\r\n\r\n");
        var seen = app.Requests.Single().Request;
        Assert.That(seen.Header("X-Env"), Is.EqualTo("staging"), "the backend's rule runs after the frontend's");
        Assert.That(seen.Count("X-Env"), Is.EqualTo(1));
        Assert.That(seen.Headers.Where(h => h.Key == "X-Tag").Select(h => h.Value), Is.EqualTo(new[] { "zero", "one", "two" }));
        Assert.That(seen.Header("X-Secret"), Is.Null);
        Assert.That(seen.Header("X-Admin"), Is.EqualTo("yes"));
        Assert.That(resp.Header("X-Internal"), Is.Null);
        Assert.That(resp.Header("Server"), Is.EqualTo("proxy"));
        Assert.That(resp.Count("Server"), Is.EqualTo(1));
        Assert.That(resp.Header("X-Backend"), Is.EqualTo("app"));

        await GetAsync(proxy, "GET /public HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(app.Requests[1].Request.Header("X-Admin"), Is.Null, "condition false: rule skipped");
    }

    [Test]
    public async Task ForwardFor_AppendsClientAddress_UnlessExcepted()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using (var proxy = StartFromText(TwoBackends(app, api, "    option forwardfor")))
            await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.1.1.1\r\n\r\n");
        var seen = app.Requests.Single().Request;
        Assert.That(seen.Headers.Where(h => h.Key == "X-Forwarded-For").Select(h => h.Value), Is.EqualTo(new[] { "10.1.1.1", "127.0.0.1" }));

        await using (var proxy = StartFromText(TwoBackends(app, api, "    option forwardfor except 127.0.0.0/8")))
            await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(app.Requests[1].Request.Header("X-Forwarded-For"), Is.Null);

        await using (var proxy = StartFromText(TwoBackends(app, api, "    option forwardfor header X-Client-IP")))
            await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(app.Requests[2].Request.Header("X-Client-IP"), Is.EqualTo("127.0.0.1"));
    }

    [Test]
    public async Task HopByHopHeaders_AreNotForwarded()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(TwoBackends(app, api, ""));
        await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Stay: 1\r\n\r\n");
        var seen = app.Requests.Single().Request;
        Assert.That(seen.Headers.Select(h => h.Key), Is.EqualTo(new[] { "Host", "X-Stay" }));
    }

    [TestCase("option httpclose", true, true)]
    [TestCase("option http-server-close", false, true)]
    [TestCase("option http-keep-alive", false, false)]
    public async Task ConnectionOptions_DecideWhichSideCloses(string option, bool clientCloses, bool serverCloses)
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(TwoBackends(app, api, "    " + option));
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        var resp = await reader.ReadAsync(true);
        Assert.That(resp!.Header("Connection"), clientCloses ? Is.EqualTo("close") : Is.Null);
        Assert.That(app.Requests.Single().Request.Header("Connection"), serverCloses ? Is.EqualTo("close") : Is.Null);
        if (clientCloses) Assert.That(await reader.ReadToEndAsync(), Is.Empty);
        else
        {
            await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            Assert.That((await reader.ReadAsync(true))!.Status, Is.EqualTo(200));
            Assert.That(app.Connections, Is.EqualTo(serverCloses ? 2 : 1));
        }
    }
}
