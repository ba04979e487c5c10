using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>A `listen` section is one proxy: its http-request and http-response rules run once per message (4.2).</summary>
public class ListenRulesOnceTests
{
    [Test]
    public async Task AListensHeaderRulesAndActions_RunOnce()
    {
        await using var app = new HttpOrigin("app");
        string config = $$"""
            defaults
                mode http
                timeout connect 1s
                timeout client 10s
                timeout server 10s
            listen web
                bind BIND
                http-request add-header X-Req 1
                http-request set-var(txn.n) int(1),add(txn.n)
                http-response add-header X-Res 1
                server a 127.0.0.1:{{app.EndPoint.Port}}
            """;
        HaproxyCheck.AssertAccepts(config.Replace("BIND", "127.0.0.1:8080"));
        await using var proxy = StartFromText(config);
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: www\r\n\r\n");
        var reply = (await new HttpReader(c).ReadAsync(true))!;

        Assert.That(app.Requests.Single().Request.Count("X-Req"), Is.EqualTo(1));
        Assert.That(reply.Count("X-Res"), Is.EqualTo(1));
    }
}
