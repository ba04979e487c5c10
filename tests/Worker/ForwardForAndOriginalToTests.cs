using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// `option forwardfor if-none` (a request that has the header keeps its own) and `option originalto` (the address the
/// client connected to), doc/configuration.txt 4.2.
/// </summary>
public class ForwardForAndOriginalToTests
{
    [Test]
    public async Task IfNone_AddsTheHeaderOnlyWhenAbsent()
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
                option forwardfor header X-Client if-none
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        foreach (var request in new[] { "GET /a HTTP/1.1\r\nHost: www\r\n\r\n", "GET /b HTTP/1.1\r\nHost: www\r\nX-Client: 10.9.8.7\r\n\r\n" })
        {
            using var c = await proxy.ConnectAsync();
            await SendAsync(c, request);
            Assert.That(await new HttpReader(c).ReadAsync(true), Is.Not.Null);
        }

        var seen = app.Requests.Select(r => r.Request).ToList();
        Assert.That((seen[0].Header("X-Client"), seen[0].Count("X-Client")), Is.EqualTo(("127.0.0.1", 1)));
        Assert.That((seen[1].Header("X-Client"), seen[1].Count("X-Client")), Is.EqualTo(("10.9.8.7", 1)));
    }

    [Test]
    public async Task OriginalTo_AddsTheDestination_UnlessInItsExceptNetwork_TheBackendsWinning()
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
                option originalto except 10.0.0.0/8
                option forwardfor
                unique-id-format id-%[int(7)]
                unique-id-header X-Id
                use_backend other if { path_beg /other }
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}
            backend other
                option originalto except 127.0.0.0/8 header X-Dst
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        foreach (var path in new[] { "/a", "/other" })
        {
            using var c = await proxy.ConnectAsync();
            await SendAsync(c, $"GET {path} HTTP/1.1\r\nHost: www\r\n\r\n");
            Assert.That(await new HttpReader(c).ReadAsync(true), Is.Not.Null);
        }

        var seen = app.Requests.Select(r => r.Request).ToList();
        Assert.That((seen[0].Header("X-Original-To"), seen[0].Header("X-Forwarded-For"), seen[0].Header("X-Id")), Is.EqualTo(("127.0.0.1", "127.0.0.1", "id-7")));
        Assert.That((seen[1].Header("X-Original-To"), seen[1].Header("X-Dst")), Is.EqualTo(((string?)null, (string?)null)),
            "the backend's option (its except network holds the destination) replaces the frontend's");
    }
}
