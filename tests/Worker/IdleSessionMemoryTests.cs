using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Worker.Forwarding;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// Issue 15: an idle keep-alive `mode http` session holds only what lives as long as its connection; the request's
/// parts (transaction, heads) go back to their pool between requests (perf/README.md, "Memory per idle session").
/// </summary>
public class IdleSessionMemoryTests
{
    [Test]
    public async Task KeepAliveSession_WaitingForNextRequest_HoldsNoTransaction()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        for (int i = 0; i < 3; i++)
        {
            await SendAsync(c, $"GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n");
            var resp = await reader.ReadAsync(isResponse: true);
            Assert.That(resp!.Status, Is.EqualTo(200));
            // Given back once the response is out and the session waits for the next request; rented again for it.
            await Poll.UntilAsync(() => OnlySession(proxy) is { HoldsTransaction: false }, "the idle session to give its transaction back");
        }
        Assert.That(origin.Requests.Select(r => r.Request.StartLine), Is.EqualTo(Enumerable.Range(0, 3).Select(i => $"GET /{i} HTTP/1.1")));
        Assert.That(origin.Connections, Is.EqualTo(1), "the idle server connection stays with the session");
    }

    [Test]
    public async Task FrontendWithoutCaptures_Session_HoldsNoCaptureObject()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That((await reader.ReadAsync(isResponse: true))!.Status, Is.EqualTo(200));
        var session = await Poll.UntilAsync(() => OnlySession(proxy), s => s is { HoldsTransaction: false }, "the session to be idle");
        Assert.That(session!.Samples.CapturesIfAny, Is.Null);
    }

    [Test]
    public async Task FrontendWithCaptures_Session_KeepsItsCaptures()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin), frontendExtra: "    capture request header Host len 16"));
        using var c = await proxy.ConnectAsync();
        var reader = new HttpReader(c);
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: captured\r\n\r\n");
        Assert.That((await reader.ReadAsync(isResponse: true))!.Status, Is.EqualTo(200));
        var session = await Poll.UntilAsync(() => OnlySession(proxy), s => s is { HoldsTransaction: false }, "the session to be idle");
        Assert.That(session!.Samples.CapturesIfAny, Is.Not.Null);
        Assert.That(session.Samples.Captures.TryGet(response: false, 0, out var host) ? System.Text.Encoding.ASCII.GetString(host) : null,
            Is.EqualTo("captured"));
    }

    private static HttpSession? OnlySession(EngineHarness proxy) => proxy.Engine.LiveSessions().OfType<HttpSession>().SingleOrDefault();
}
