using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>`monitor-uri` and `monitor fail` (doc/configuration.txt 4.2) through one engine.</summary>
public class MonitorUriTests
{
    private static async Task<HttpMessage> GetAsync(EngineHarness proxy, string request)
    {
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, request);
        return (await new HttpReader(c).ReadAsync(true))!;
    }

    [Test]
    public async Task MonitorUri_AnswersBeforeTheRules_503WhenAFailConditionHolds()
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
                monitor-uri /haproxy_test
                monitor fail if { hdr(x-fail) 1 }
                http-request deny
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        var up = await GetAsync(proxy, "GET /haproxy_test HTTP/1.1\r\nHost: www\r\n\r\n");
        var absolute = await GetAsync(proxy, "GET http://www/haproxy_test HTTP/1.1\r\nHost: www\r\n\r\n");
        // HAProxy 2.6 compares the path with its query (http_parse_path()): a query makes it another URI.
        var withQuery = await GetAsync(proxy, "GET /haproxy_test?x=1 HTTP/1.1\r\nHost: www\r\n\r\n");
        var failing = await GetAsync(proxy, "GET /haproxy_test HTTP/1.1\r\nHost: www\r\nX-Fail: 1\r\n\r\n");
        var other = await GetAsync(proxy, "GET /haproxy_test2 HTTP/1.1\r\nHost: www\r\n\r\n");

        Assert.That(up.StartLine, Is.EqualTo("HTTP/1.1 200 OK"), "answered before 'http-request deny'");
        Assert.That(absolute.StartLine, Is.EqualTo("HTTP/1.1 200 OK"), "a URI starting with '/' matches the path");
        Assert.That(failing.StartLine, Does.StartWith("HTTP/1.1 503 "));
        Assert.That(other.StartLine, Is.EqualTo("HTTP/1.1 403 Forbidden"));
        Assert.That(withQuery.StartLine, Is.EqualTo("HTTP/1.1 403 Forbidden"), "not the monitor URI: the rules ran");
        Assert.That(app.Requests, Is.Empty);
    }
}
