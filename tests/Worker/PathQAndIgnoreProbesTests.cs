using System.Net.Sockets;
using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>`http-request set-pathq` and `option http-ignore-probes` (doc/configuration.txt 4.2) through one engine.</summary>
public class PathQAndIgnoreProbesTests
{
    [Test]
    public async Task SetPathQ_ReplacesPathAndQuery_KeepingAnAbsoluteFormsAuthority()
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
                http-request set-pathq /v2%[path]?from=%[query]
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        foreach (var request in new[] { "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", "GET http://h/b?y HTTP/1.1\r\nHost: h\r\n\r\n" })
        {
            using var c = await proxy.ConnectAsync();
            await SendAsync(c, request);
            Assert.That(await new HttpReader(c).ReadAsync(true), Is.Not.Null);
        }

        Assert.That(app.Requests.Select(r => r.Request.StartLine), Is.EqualTo(new[] { "GET /v2/a?from=x=1 HTTP/1.1", "GET http://h/v2/b?from=y HTTP/1.1" }));
    }

    [Test]
    public async Task IgnoreProbes_APreConnectionTimesOutSilently_ARealRequestStillGets408()
    {
        await using var app = new HttpOrigin("app");
        await using var proxy = StartFromText($$"""
            defaults
                mode http
                option http-ignore-probes
                timeout connect 1s
                timeout client 10s
                timeout server 10s
                timeout http-request 200ms
            frontend fe
                bind BIND
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """);

        using (var probe = await proxy.ConnectAsync())
        {
            var buffer = new byte[256];
            int n = await probe.ReceiveAsync(buffer, SocketFlags.None);
            Assert.That(n, Is.Zero, "closed without a 408");
        }
        using (var slow = await proxy.ConnectAsync())
        {
            await SendAsync(slow, "GET / HTTP/1.1\r\n");
            var answer = await new HttpReader(slow).ReadAsync(true);
            Assert.That(answer!.StartLine, Does.StartWith("HTTP/1.1 408"), "a request that started is not a probe");
        }
        Assert.That(proxy.Engine.Counters[0].RequestErrors, Is.EqualTo(1), "only the real request counts as an error");
    }
}
