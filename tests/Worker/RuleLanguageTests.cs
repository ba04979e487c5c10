using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// The rule language through a real engine: `%[expr]` header values, map-driven routing, redirects with log-format
/// locations, response rules reading the response, `unique-id-format` with `unique-id-header`.
/// </summary>
public class RuleLanguageTests
{
    private string _dir = null!;

    [OneTimeSetUp]
    public void CreateMaps()
    {
        _dir = Path.Combine(Path.GetTempPath(), "rules-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "hosts.map"), "# host -> backend\napi.example.com api\nwww.example.com app\n");
        File.WriteAllText(Path.Combine(_dir, "moved.map"), "/old /new\n/legacy /modern\n");
    }

    [OneTimeTearDown]
    public void RemoveMaps() => Directory.Delete(_dir, true);

    private static string Config(HttpOrigin app, HttpOrigin api, string frontendExtra) => $"""
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
            server a 127.0.0.1:{app.EndPoint.Port}
        backend api
            server b 127.0.0.1:{api.EndPoint.Port}
        """;

    private static async Task<HttpMessage> GetAsync(EngineHarness proxy, string request)
    {
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, request);
        return (await new HttpReader(c).ReadAsync(true, false))!;
    }

    [Test]
    public async Task SetHeader_WithExpressions_RenderedPerRequest()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api, """
                http-request set-header X-Real-IP %[src]
                http-request set-header X-Host %[req.hdr(host),lower]
                http-request add-header X-Pair "%[src_port,mul(0),add(7)]-%[path,field(2,/)]"
                http-request set-header X-Fe %f:%HM
                http-request set-header X-Missing %[req.hdr(x-none)]
                http-response set-header X-Status %[status]
                http-response set-header X-Server-Said %[res.hdr(server),upper]
            """));
        var resp = await GetAsync(proxy, "GET /shop/cart?id=1 HTTP/1.1\r\nHost: WWW.Example.COM\r\n\r\n");
        var seen = app.Requests.Single().Request;
        Assert.That(seen.Header("X-Real-IP"), Is.EqualTo("127.0.0.1"));
        Assert.That(seen.Header("X-Host"), Is.EqualTo("www.example.com"));
        Assert.That(seen.Header("X-Pair"), Is.EqualTo("7-shop"));
        Assert.That(seen.Header("X-Fe"), Is.EqualTo("fe:GET"));
        Assert.That(seen.Header("X-Missing"), Is.EqualTo("-"), "a missing sample prints '-', as in HAProxy's log-format");
        Assert.That(resp.Header("X-Status"), Is.EqualTo("200"));
        Assert.That(resp.Header("X-Server-Said"), Is.Null.Or.Not.Empty);
    }

    [Test]
    public async Task MapDrivenRouting_AndMapDrivenRedirect()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        string hosts = Path.Combine(_dir, "hosts.map"), moved = Path.Combine(_dir, "moved.map");
        await using var proxy = StartFromText(Config(app, api, $"""
                http-request redirect location %[path,map_str({moved})]?from=%[path] code 301 if {"{"} path,map_str({moved}) -m found {"}"}
                use_backend api if {"{"} hdr(host),lower,map_str({hosts}) -m str api {"}"}
            """));
        Assert.That((await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: API.example.com\r\n\r\n")).BodyText, Is.EqualTo("hello from api"));
        Assert.That((await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n")).BodyText, Is.EqualTo("hello from app"));
        Assert.That((await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: other\r\n\r\n")).BodyText, Is.EqualTo("hello from app"));
        var redirect = await GetAsync(proxy, "GET /legacy HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
        Assert.That((redirect.Status, redirect.Header("Location")), Is.EqualTo((301, "/modern?from=/legacy")));
        Assert.That(api.Requests.Count + app.Requests.Count, Is.EqualTo(3), "the redirect never reached a server");
    }

    [Test]
    public async Task UniqueId_SentToTheServer_AndReadableByRules()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api, """
                unique-id-format %ci-%cp-%[str(abc),upper]
                unique-id-header X-Request-ID
                http-request set-header X-Copy %[unique-id]
            """));
        await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        var seen = app.Requests.Single().Request;
        Assert.That(seen.Header("X-Request-ID"), Does.Match(@"^127\.0\.0\.1-[0-9]+-ABC$"));
        Assert.That(seen.Header("X-Copy"), Is.EqualTo(seen.Header("X-Request-ID")));
    }

    [Test]
    public async Task SetVarAndRequestLineRewrites_InRuleOrder()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api, """
                http-request set-var(txn.section) path,field(2,/)
                http-request set-var-fmt(txn.who) %[src]:%[var(txn.section)]
                http-request set-var(sess.seen) int(1)
                http-request set-path /v2%[path] if { var(txn.section) -m str shop }
                http-request set-query lang=%[url_param(lang),upper]
                http-request set-method POST if { method PUT }
                http-request unset-var(txn.section)
                http-request set-header X-Who %[var(txn.who)]
                http-request set-header X-Section %[var(txn.section)]
                use_backend api if { var(sess.seen) -m int 1 } { path_beg /v2/shop }
            """));
        await GetAsync(proxy, "PUT /shop/cart?lang=en&x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
        var seen = api.Requests.Single().Request;
        Assert.That(seen.StartLine, Is.EqualTo("POST /v2/shop/cart?lang=EN HTTP/1.1"));
        Assert.That(seen.Header("X-Who"), Is.EqualTo("127.0.0.1:shop"));
        Assert.That(seen.Header("X-Section"), Is.EqualTo("-"), "unset-var ran before the header was rendered");
    }

    [TestCase("a%20b")]   // a space
    [TestCase("a%09b")]   // a tab: a lenient server could split the line there
    [TestCase("a%01b")]   // a control byte
    [TestCase("a%7Fb")]   // DEL
    [TestCase("a%C3%A9")] // non-ASCII
    public async Task RewriteThatFails_Answers500_AndNothingReachesTheServer(string encoded)
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api, """
                http-request set-path "%[url_param(p),url_dec]"
            """));
        var resp = await GetAsync(proxy, $"GET /x?p={encoded} HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(resp.Status, Is.EqualTo(500), "a path with that byte cannot be written");
        Assert.That(app.Requests, Is.Empty);
    }

    [Test]
    public async Task TcpRequestConnection_FirstMatchingRuleDecides()
    {
        await using var app = new HttpOrigin("app");
        await using var api = new HttpOrigin("api");
        await using (var proxy = StartFromText(Config(app, api, """
                tcp-request connection accept if { src 10.0.0.0/8 }
                tcp-request connection reject if { src 127.0.0.0/8 } { dst_port 1:65535 }
            """)))
        {
            using var c = await proxy.ConnectAsync();
            HttpMessage? answer;
            try
            {
                await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
                answer = await new HttpReader(c).ReadAsync(true, false);
            }
            catch (System.Net.Sockets.SocketException)
            {
                answer = null;   // reset: closed with the request unread
            }
            Assert.That(answer, Is.Null, "closed without an answer");
            Assert.That(app.Requests, Is.Empty);
        }
        await using (var proxy = StartFromText(Config(app, api, """
                tcp-request connection accept if { src 127.0.0.1 }
                tcp-request connection reject
            """)))
        {
            Assert.That((await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")).BodyText, Is.EqualTo("hello from app"));
        }
    }

    [Test]
    public async Task ResponseRules_SetStatusAndDeny()
    {
        await using var app = new HttpOrigin("app", m => m.StartLine.Contains("/secret")
            ? HttpOrigin.Ok("leak", ("X-Internal", "1")) : HttpOrigin.Ok("fine"));
        await using var api = new HttpOrigin("api");
        await using var proxy = StartFromText(Config(app, api, """
                http-response set-status 203 reason Rewritten if { status 200 } { path /ok }
                http-response deny if { res.hdr(x-internal) -m found }
                http-response set-header X-Status %[status]
            """));
        var ok = await GetAsync(proxy, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That((ok.StartLine, ok.BodyText), Is.EqualTo(("HTTP/1.1 203 Rewritten", "fine")));
        var denied = await GetAsync(proxy, "GET /secret HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(denied.Status, Is.EqualTo(502), "http-response deny answers 502 by default");
        Assert.That(denied.BodyText, Does.Not.Contain("leak"));
    }
}
