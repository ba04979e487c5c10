using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>`option forwardfor if-none` (doc/configuration.txt 4.2): a request that has the header keeps its own.</summary>
public class ForwardForIfNoneTests
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
}
