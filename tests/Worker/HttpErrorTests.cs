using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>`mode http` failures: what the client gets (HAProxy's status codes and bodies) and what the server never sees.</summary>
public class HttpErrorTests
{
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n")]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX-Bad : folded\r\n\r\n")]
    [TestCase("GET / HTTP/1.1\nHost: h\n\n")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n")]
    [TestCase("GET / HTTP/1.1\r\n\r\n")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")]
    [TestCase("GET http://evil/ HTTP/1.1\r\nHost: good\r\n\r\n")]
    public async Task SmugglingAttempt_Answered400_AndNeverReachesTheServer(string request)
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, request);
        var reader = new HttpReader(c);
        var resp = await reader.ReadAsync(true);
        Assert.That(resp!.Status, Is.EqualTo(400));
        Assert.That(resp.BodyText, Does.Contain("<h1>400 Bad request</h1>"));
        Assert.That(resp.Header("Connection"), Is.EqualTo("close"));
        Assert.That(await reader.ReadToEndAsync(), Is.Empty);
        await Task.Delay(50);
        Assert.That(origin.Connections, Is.EqualTo(0), "the origin saw nothing");
        Assert.That(proxy.Engine.Counters[0].RequestErrors, Is.EqualTo(1));
    }

    [Test]
    public async Task SmuggledSecondRequest_AfterValidOne_IsNotForwarded()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\nPOST /evil HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        var reader = new HttpReader(c);
        Assert.That((await reader.ReadAsync(true))!.Status, Is.EqualTo(200));
        Assert.That((await reader.ReadAsync(true))!.Status, Is.EqualTo(400));
        Assert.That(origin.Requests.Select(r => r.Request.StartLine), Is.EqualTo(new[] { "GET /ok HTTP/1.1" }));
    }

    [Test]
    public async Task BadResponse_Is502()
    {
        await using var origin = new HttpOrigin("a", _ => "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray());
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        var resp = await new HttpReader(c).ReadAsync(true);
        Assert.That(resp!.Status, Is.EqualTo(502));
        Assert.That(resp.BodyText, Does.Contain("502 Bad Gateway"));
        Assert.That(proxy.Engine.Counters[1].ResponseErrors, Is.EqualTo(1));
    }

    [Test]
    public async Task ServerClosesWithoutAnswer_Is502()
    {
        await using var origin = new HttpOrigin("a", _ => null);
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That((await new HttpReader(c).ReadAsync(true))!.Status, Is.EqualTo(502));
    }

    [Test]
    public async Task DeadServer_Is503()
    {
        var dead = TcpTestKit.DeadEndPoint();
        await using var proxy = StartFromText(HttpConfig($"    server d 127.0.0.1:{dead.Port}"));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        var resp = await new HttpReader(c).ReadAsync(true);
        Assert.That(resp!.Status, Is.EqualTo(503));
        Assert.That(resp.BodyText, Does.Contain("No server is available"));
        Assert.That(proxy.Engine.Counters[0].HttpResponses5xx, Is.EqualTo(1));
    }

    [Test]
    public async Task ErrorFile_ReplacesTheBuiltInResponse()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 11\r\nConnection: close\r\n\r\ncome back!\n");
        try
        {
            var dead = TcpTestKit.DeadEndPoint();
            await using var proxy = StartFromText(HttpConfig($"    server d 127.0.0.1:{dead.Port}", backendExtra: $"    errorfile 503 {path}"));
            using var c = await proxy.ConnectAsync();
            await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            var resp = await new HttpReader(c).ReadAsync(true);
            Assert.That(resp!.Status, Is.EqualTo(503));
            Assert.That(resp.BodyText, Is.EqualTo("come back!\n"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task Slowloris_Gets408AfterTimeoutHttpRequest()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin), frontendExtra: "    timeout http-request 300ms"));
        using var c = await proxy.ConnectAsync();
        var started = Environment.TickCount64;
        await SendAsync(c, "GET / HTTP/1.1\r\n");
        for (int i = 0; i < 3; i++)
        {
            await Task.Delay(50);
            try { await SendAsync(c, "X-Slow: 1\r\n"); } catch (SocketException) { break; }
        }
        var resp = await new HttpReader(c).ReadAsync(true);
        long elapsed = Environment.TickCount64 - started;
        Assert.That(resp!.Status, Is.EqualTo(408));
        Assert.That(resp.BodyText, Does.Contain("408 Request Time-out"));
        Assert.That(elapsed, Is.InRange(250, 3000));
        Assert.That(origin.Connections, Is.EqualTo(0));
    }

    [Test]
    public async Task IdleKeepAlive_ClosedSilentlyAfterTimeoutHttpKeepAlive()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin), frontendExtra: "    timeout http-keep-alive 200ms"));
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That((await reader.ReadAsync(true))!.Status, Is.EqualTo(200));
        Assert.That(await reader.ReadToEndAsync(), Is.Empty, "closed without a 408");
    }

    [Test]
    public async Task SlowServer_Is504AfterTimeoutServer()
    {
        await using var origin = new HttpOrigin("a", _ => { Thread.Sleep(1500); return HttpOrigin.Ok("late"); });
        await using var proxy = StartFromText(HttpConfig(Server("a", origin), backendExtra: "    timeout server 300ms"));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        var resp = await new HttpReader(c).ReadAsync(true);
        Assert.That(resp!.Status, Is.EqualTo(504));
        Assert.That(resp.BodyText, Does.Contain("504 Gateway Time-out"));
    }

    [Test]
    public async Task BadResponseStatusLine_Is502_AndNothingOfItReachesTheClient()
    {
        await using var origin = new HttpOrigin("a", _ => "HTTP/1.1 200 OK\r\nX-Leak: yes\nContent-Length: 0\r\n\r\n"u8.ToArray());
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        var resp = await new HttpReader(c).ReadAsync(true);
        Assert.That(resp!.Status, Is.EqualTo(502));
        Assert.That(resp.Header("X-Leak"), Is.Null);
    }

    [Test]
    public async Task ServerClosingKeptAliveConnections_RequestsStillSucceed()
    {
        // The origin closes every connection right after its response, without saying so: the proxy either sees
        // the FIN before reusing the connection, or retries the body-less request once on a new one.
        var origin = new TestServer(async s =>
        {
            await new HttpReader(s).ReadAsync(false);
            await s.SendAsync(HttpOrigin.Ok("once"), SocketFlags.None);
            s.Shutdown(SocketShutdown.Both);
        });
        await using var _ = origin;
        await using var proxy = StartFromText(HttpConfig($"    server a 127.0.0.1:{origin.EndPoint.Port}"));
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        for (int i = 0; i < 20; i++)
        {
            await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            var resp = await reader.ReadAsync(true);
            Assert.That(resp!.BodyText, Is.EqualTo("once"), $"request {i}");
        }
        Assert.That(origin.Accepted, Is.EqualTo(20));
    }

    [Test]
    public async Task InvalidChunkedBody_AfterTheHeadWentOut_Is400_AndTheServerIsCut()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        // The bad chunk comes after the head went out (a bad chunk that arrives with the head is a 400: the table tests).
        // No response has started: the client still gets its 400 (HAProxy's http_request_forward_body, return_bad_req).
        await SendAsync(c, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        await Poll.UntilAsync(() => origin.Connections == 1, "the head on its way to the origin");
        await SendAsync(c, "zz\r\n");
        var resp = await new HttpReader(c).ReadAsync(true);
        Assert.That(resp!.Status, Is.EqualTo(400));
        Assert.That(origin.Requests, Is.Empty, "the origin never saw a complete request");
        Assert.That(proxy.Engine.Counters[0].RequestErrors, Is.EqualTo(1));
    }

    [Test]
    public async Task UnsupportedVersion_Is505_AndHugeHead_Is400()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using (var c = await proxy.ConnectAsync())
        {
            await SendAsync(c, "GET / HTTP/2.0\r\nHost: h\r\n\r\n");
            Assert.That((await new HttpReader(c).ReadAsync(true))!.Status, Is.EqualTo(505));
        }
        using (var c = await proxy.ConnectAsync())
        {
            await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + new string('a', 20000) + "\r\n\r\n");
            Assert.That((await new HttpReader(c).ReadAsync(true))!.Status, Is.EqualTo(400));
        }
        Assert.That(origin.Connections, Is.EqualTo(0));
    }
}
