using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// `set-dst` (doc/configuration.txt 4.2) against an `accept-proxy` header: HAProxy runs `tcp-request connection`
/// rules before the header is read, and the header then overwrites the destination (conn_recv_proxy), so the header's
/// wins over a connection-level set-dst; an `http-request set-dst`, run after the header, wins over it.
/// </summary>
public class ProxyHeaderSetDstTests
{
    [TestCase("tcp-request connection set-dst src", "192.0.2.8:2222")]     // src: the socket's peer then, 127.0.0.1
    [TestCase("http-request set-dst src", "198.51.100.7:2222")]    // src: the header's source by then
    public async Task ConnectionSetDst_TheProxyHeadersDestinationWins_ALaterSetDstWinsOverIt(string rule, string expected)
    {
        await using var app = new HttpOrigin("app");
        await using var proxy = StartFromText($"""
            defaults
                mode http
                timeout connect 1s
                timeout client 10s
                timeout server 10s
            frontend fe
                bind BIND accept-proxy
                {rule}
                http-request set-header X-Dst %[dst]:%[dst_port]
                default_backend be
            backend be
            {Server("a", app)}
            """);
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "PROXY TCP4 198.51.100.7 192.0.2.8 1111 2222\r\nGET / HTTP/1.1\r\nHost: www\r\n\r\n");
        Assert.That((await new HttpReader(c).ReadAsync(true))!.Status, Is.EqualTo(200));
        Assert.That(app.Requests.Single().Request.Header("X-Dst"), Is.EqualTo(expected));
    }
}
