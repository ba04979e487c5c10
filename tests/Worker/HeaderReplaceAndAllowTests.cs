using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// `http-request|http-response replace-header|replace-value`, `http-request|http-response allow` and
/// `http-response set-var|unset-var` through one engine (doc/configuration.txt 4.2, its own examples).
/// </summary>
public class HeaderReplaceAndAllowTests
{
    private static async Task<HttpMessage> GetAsync(EngineHarness proxy, string request)
    {
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, request);
        return (await new HttpReader(c).ReadAsync(true))!;
    }

    [Test]
    public async Task ReplaceHeaderAndValue_RewriteTheRequestAndTheResponse()
    {
        await using var app = new HttpOrigin("app", _ => HttpOrigin.Ok("x", ("Cache-Control", "max-age=3600, private"), ("Server", "nginx/1.22")));
        await using var proxy = StartFromText($$"""
            defaults
                mode http
                timeout connect 1s
                timeout client 10s
                timeout server 10s
            frontend fe
                bind BIND
                http-request replace-header Cookie foo=([^;]*);(.*) foo=\1;ip=%[src];\2
                http-request replace-value X-Forwarded-For ^192\.168\.(.*)$ 172.16.\1
                http-request replace-header X-Untouched ^nomatch$ gone
                http-response replace-value Cache-Control ^max-age=3600$ max-age=60
                http-response replace-header Server ^nginx.* hidden if { status 200 }
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        var reply = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\nCookie: foo=foobar; expires=Tue, 14-Jun-2016 01:40:45 GMT;\r\n"
            + "X-Forwarded-For: 192.168.10.1, 192.168.13.24, 10.0.0.1\r\nX-Untouched: keep\r\n\r\n");

        var seen = app.Requests.Single().Request;
        // 4.2's examples: "Cookie: foo=foobar;ip=192.168.1.20; expires=..." and "X-Forwarded-For: 172.16.10.1, 172.16.13.24, 10.0.0.1".
        Assert.That(seen.Header("Cookie"), Is.EqualTo("foo=foobar;ip=127.0.0.1; expires=Tue, 14-Jun-2016 01:40:45 GMT;"));
        Assert.That(seen.Header("X-Forwarded-For"), Is.EqualTo("172.16.10.1, 172.16.13.24, 10.0.0.1"));
        Assert.That(seen.Header("X-Untouched"), Is.EqualTo("keep"), "a value the regex does not match is left as it is");
        Assert.That(reply.Header("Cache-Control"), Is.EqualTo("max-age=60, private"));
        Assert.That(reply.Header("Server"), Is.EqualTo("hidden"));
    }

    [Test]
    public async Task Allow_EndsThatProxysRules_AndResponseVariablesAreSet()
    {
        await using var app = new HttpOrigin("app");
        await using var proxy = StartFromText($$"""
            defaults
                mode http
                timeout connect 1s
                timeout client 10s
                timeout server 10s
            frontend fe
                bind BIND
                http-request set-var(txn.keep) req.hdr(x-keep)
                http-request allow if { src 127.0.0.0/8 } { hdr(x-trusted) 1 }
                http-request deny
                http-response set-var(res.origin) res.hdr(x-origin)
                http-response allow if { res.hdr(x-origin) -m found } { var(res.origin) -m str app } { var(txn.keep) -m str 1 }
                http-response set-status 299
                http-response set-var-fmt(txn.mark) "seen %[var(res.origin)]"
                http-response set-header X-Mark %[var(txn.mark)]
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        var denied = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\n\r\n");
        var allowed = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\nX-Trusted: 1\r\n\r\n");
        var allowedKept = await GetAsync(proxy, "GET / HTTP/1.1\r\nHost: www\r\nX-Trusted: 1\r\nX-Keep: 1\r\n\r\n");

        Assert.That(denied.StartLine, Is.EqualTo("HTTP/1.1 403 Forbidden"));
        Assert.That(allowed.StartLine, Does.StartWith("HTTP/1.1 299 "), "no http-response allow: set-status ran");
        Assert.That(allowed.Header("X-Mark"), Is.EqualTo("seen app"));
        Assert.That(allowedKept.StartLine, Does.StartWith("HTTP/1.1 200 "), "http-response allow skipped the actions after it");
        Assert.That(app.Requests, Has.Count.EqualTo(2));
    }
}
