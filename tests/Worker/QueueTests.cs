using System.Diagnostics;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Worker.Balancing;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Worker.HttpTestKit;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// Server `maxconn`, the backend queue and `timeout queue` (doc/configuration.txt 5.2 "maxconn", 4.2 "timeout queue"),
/// plus `retries` / `option redispatch` in mode http, with real traffic on 127.0.0.1.
/// </summary>
public class QueueTests
{
    private static async Task<(HttpMessage Response, long Ms)> GetAsync(Socket c, string path = "/")
    {
        var watch = Stopwatch.StartNew();
        await HttpTestKit.SendAsync(c, $"GET {path} HTTP/1.1\r\nHost: h\r\n\r\n");
        var resp = await new HttpReader(c).ReadAsync(true) ?? throw new EndOfStreamException("no response");
        return (resp, watch.ElapsedMilliseconds);
    }

    [Test]
    public async Task HttpServerMaxConn1_ConcurrentSlowRequests_OriginNeverSeesTwoAtOnce_AllServedInOrder()
    {
        await using var origin = new SlowOrigin(300);
        await using var proxy = StartFromText(HttpConfig($"    server s 127.0.0.1:{origin.Port} maxconn 1",
            backendExtra: "    timeout queue 10s"));
        var clients = new Socket[4];
        for (int i = 0; i < clients.Length; i++) clients[i] = await proxy.ConnectAsync();
        try
        {
            var requests = clients.Select(c => GetAsync(c)).ToArray();
            var be = proxy.Engine.Counters[1];
            await WaitUntilAsync(() => be.QueueCurrent == 3);
            var results = await Task.WhenAll(requests);

            Assert.That(results.Select(r => r.Response.Status), Is.All.EqualTo(200));
            Assert.That(origin.MaxBusy, Is.EqualTo(1), "maxconn 1: one request at a time at the origin");
            Assert.That(origin.Requests, Is.EqualTo(4));
            Assert.That(results.Max(r => r.Ms), Is.GreaterThanOrEqualTo(4 * 300 - 50), "the last one waited for three others");
            Assert.That(be.QueueMax, Is.EqualTo(3));
            Assert.That(be.QueueCurrent, Is.EqualTo(0));
            Assert.That(proxy.Engine.Counters[2].MaxSessions, Is.EqualTo(1), "server smax");
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    [Test]
    public async Task HttpServerMaxConn1_IdleKeepAliveConnectionsHoldNoPermit()
    {
        // Each session keeps its server connection idle after its response; the limit counts active requests only,
        // so the idle ones never hold the permit a queued request needs (HAProxy's `served`).
        await using var origin = new SlowOrigin(50);
        await using var proxy = StartFromText(HttpConfig($"    server s 127.0.0.1:{origin.Port} maxconn 1"));
        using var a = await proxy.ConnectAsync();
        using var b = await proxy.ConnectAsync();
        Assert.That((await GetAsync(a)).Response.Status, Is.EqualTo(200));
        Assert.That((await GetAsync(b)).Response.Status, Is.EqualTo(200));
        Assert.That(origin.Connections, Is.EqualTo(2), "two keep-alive server connections now idle");
        var both = await Task.WhenAll(GetAsync(a), GetAsync(b));
        Assert.That(both.Select(r => r.Response.Status), Is.All.EqualTo(200));
        Assert.That(origin.MaxBusy, Is.EqualTo(1));
        // The permit goes back just after the response's last byte is sent: poll rather than race the session.
        await Poll.UntilAsync(() => proxy.Engine.Backends[0].Servers[0].Served == 0, "no permit held between requests");
    }

    [Test]
    public async Task HttpTimeoutQueue_ServerHeldBusy_QueuedRequestGets503()
    {
        await using var origin = new SlowOrigin(3000);
        await using var proxy = StartFromText(HttpConfig($"    server s 127.0.0.1:{origin.Port} maxconn 1",
            backendExtra: "    timeout queue 200ms"));
        using var busy = await proxy.ConnectAsync();
        var first = GetAsync(busy);
        await WaitUntilAsync(() => proxy.Engine.Counters[2].CurrentSessions == 1);

        using var c = await proxy.ConnectAsync();
        var (resp, ms) = await GetAsync(c);
        Assert.That(resp.Status, Is.EqualTo(503));
        Assert.That(resp.BodyText, Does.Contain("No server is available to handle this request."));
        Assert.That(ms, Is.InRange(150, 2000), "about `timeout queue` (200 ms), checked by the engine's coarse timer");
        Assert.That(first.IsCompleted, Is.False, "the server is still busy with the first request");
        var be = proxy.Engine.Counters[1];
        Assert.That(be.ConnectionErrors, Is.EqualTo(1), "HAProxy counts a queue timeout in econ");
        Assert.That(be.QueueCurrent, Is.EqualTo(0));
        Assert.That(origin.Requests + (first.IsCompleted ? 0 : 1), Is.EqualTo(1), "the origin never saw the queued request");
    }

    [Test]
    public async Task HttpNoTimeoutQueue_FallsBackToTimeoutConnect()
    {
        await using var origin = new SlowOrigin(3000);
        // `timeout connect 1s` from HttpConfig's defaults, lowered here; no `timeout queue`.
        await using var proxy = StartFromText(HttpConfig($"    server s 127.0.0.1:{origin.Port} maxconn 1",
            backendExtra: "    timeout connect 300ms"));
        using var busy = await proxy.ConnectAsync();
        _ = GetAsync(busy);
        await WaitUntilAsync(() => proxy.Engine.Counters[2].CurrentSessions == 1);
        using var c = await proxy.ConnectAsync();
        var (resp, ms) = await GetAsync(c);
        Assert.That(resp.Status, Is.EqualTo(503));
        Assert.That(ms, Is.InRange(250, 2000));
    }

    [Test]
    public async Task HttpTwoServersMaxConn1_FourRequests_EachOriginOneAtATime()
    {
        await using var a = new SlowOrigin(200);
        await using var b = new SlowOrigin(200);
        await using var proxy = StartFromText(HttpConfig(
            $"    server a 127.0.0.1:{a.Port} maxconn 1\n    server b 127.0.0.1:{b.Port} maxconn 1",
            backendExtra: "    timeout queue 10s"));
        var clients = new Socket[4];
        for (int i = 0; i < clients.Length; i++) clients[i] = await proxy.ConnectAsync();
        try
        {
            var results = await Task.WhenAll(clients.Select(c => GetAsync(c)));
            Assert.That(results.Select(r => r.Response.Status), Is.All.EqualTo(200));
            Assert.That((a.MaxBusy, b.MaxBusy), Is.EqualTo((1, 1)));
            Assert.That(a.Requests + b.Requests, Is.EqualTo(4));
            Assert.That(a.Requests, Is.GreaterThanOrEqualTo(1));
            Assert.That(b.Requests, Is.GreaterThanOrEqualTo(1));
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    [Test]
    public async Task TcpServerMaxConn1_SecondConnectionWaits_ServedAfterFirstCloses()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint, maxConn: 1)],
            beTimeouts: Timeouts(connectMs: 1000, serverMs: 10000) with { Queue = TimeSpan.FromSeconds(10) });
        using var first = await proxy.ConnectAsync();
        await first.SendAsync(new byte[] { 1 }, SocketFlags.None);
        Assert.That(await first.ReceiveAsync(new byte[1], SocketFlags.None), Is.EqualTo(1));

        using var second = await proxy.ConnectAsync();
        await second.SendAsync(new byte[] { 2 }, SocketFlags.None);
        var pending = second.ReceiveAsync(new byte[1], SocketFlags.None);
        var be = proxy.Engine.Counters[1];
        await WaitUntilAsync(() => be.QueueCurrent == 1);
        await Task.Delay(200);
        Assert.That(pending.IsCompleted, Is.False, "the second connection waits for the server's only permit");
        Assert.That(echo.Accepted, Is.EqualTo(1), "and the server never saw it");

        first.Shutdown(SocketShutdown.Send);
        await ReadToEndAsync(first);
        first.Dispose();
        Assert.That(await pending, Is.EqualTo(1));
        Assert.That(echo.Accepted, Is.EqualTo(2));
        Assert.That((be.QueueCurrent, be.QueueMax), Is.EqualTo((0L, 1L)));
    }

    [Test]
    public async Task TcpTimeoutQueue_Expires_ClientClosedAndCountedAsEcon()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint, maxConn: 1)],
            beTimeouts: Timeouts(connectMs: 1000, serverMs: 10000) with { Queue = TimeSpan.FromMilliseconds(200) });
        using var first = await proxy.ConnectAsync();
        await first.SendAsync(new byte[] { 1 }, SocketFlags.None);
        Assert.That(await first.ReceiveAsync(new byte[1], SocketFlags.None), Is.EqualTo(1));

        var watch = Stopwatch.StartNew();
        using var second = await proxy.ConnectAsync();
        Assert.That(await ReadToEndAsync(second), Is.Empty);
        Assert.That(watch.ElapsedMilliseconds, Is.InRange(150, 2000));
        Assert.That(proxy.Engine.Counters[1].ConnectionErrors, Is.EqualTo(1));
        Assert.That(echo.Accepted, Is.EqualTo(1));
    }

    [Test]
    public async Task TcpQueuedClientAbortsOnDispose_EngineStopsCleanly()
    {
        await using var echo = TestServer.Echo();
        var proxy = EngineHarness.Start([Server("s1", echo.EndPoint, maxConn: 1)],
            beTimeouts: Timeouts(connectMs: 1000, serverMs: 10000) with { Queue = TimeSpan.FromSeconds(30) });
        using var first = await proxy.ConnectAsync();
        using var second = await proxy.ConnectAsync();
        await WaitUntilAsync(() => proxy.Engine.Counters[1].QueueCurrent == 1);
        var watch = Stopwatch.StartNew();
        await proxy.DisposeAsync();
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "a queued session is cancelled, not waited for");
        Assert.That(proxy.Engine.ActiveConnections, Is.EqualTo(0));
        Assert.That(proxy.Engine.Counters[1].QueueCurrent, Is.EqualTo(0));
    }

    [Test]
    public async Task ServerComingOutOfMaintenance_TakesQueuedRequest()
    {
        await using var a = new SlowOrigin(2000);
        await using var b = new SlowOrigin(10);
        await using var proxy = StartFromText(HttpConfig(
            $"    server a 127.0.0.1:{a.Port} maxconn 1\n    server b 127.0.0.1:{b.Port} maxconn 1 disabled",
            backendExtra: "    timeout queue 10s"));
        using var busy = await proxy.ConnectAsync();
        _ = GetAsync(busy);
        await WaitUntilAsync(() => proxy.Engine.Counters[2].CurrentSessions == 1);
        using var c = await proxy.ConnectAsync();
        var queued = GetAsync(c);
        await WaitUntilAsync(() => proxy.Engine.Counters[1].QueueCurrent == 1);

        proxy.Engine.Backends[0].Servers[1].SetAdminState(ServerAdminState.Ready);
        var (resp, _) = await queued;
        Assert.That(resp.Status, Is.EqualTo(200));
        Assert.That(b.Requests, Is.EqualTo(1));
    }

    [Test]
    public async Task HttpRetriesAndRedispatch_DeadServerThenLiveOne_Succeeds()
    {
        await using var live = new HttpOrigin("live");
        var dead = DeadEndPoint();
        await using var proxy = StartFromText(HttpConfig(
            $"    server dead 127.0.0.1:{dead.Port}\n{HttpTestKit.Server("live", live)}",
            backendExtra: "    retries 2\n    option redispatch"));
        for (int i = 0; i < 4; i++)
        {
            using var c = await proxy.ConnectAsync();
            var (resp, _) = await GetAsync(c);
            Assert.That(resp.Status, Is.EqualTo(200));
            Assert.That(resp.Header("X-Origin"), Is.EqualTo("live"));
        }
        var be = proxy.Engine.Counters[1];
        Assert.That(be.Redispatches, Is.GreaterThanOrEqualTo(1), "the dead server's last retry went to the live one");
        Assert.That(be.Retries, Is.EqualTo(2 * be.Redispatches));
        Assert.That(be.ConnectionErrors, Is.EqualTo(0));
    }

    [Test]
    public async Task HttpEveryServerDown_503AtOnce_EvenWithMaxConn()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(
            $"    server a 127.0.0.1:{origin.EndPoint.Port} maxconn 1 disabled\n    server b 127.0.0.1:{origin.EndPoint.Port} weight 0",
            backendExtra: "    timeout queue 10s"));
        using var c = await proxy.ConnectAsync();
        var (resp, ms) = await GetAsync(c);
        Assert.That(resp.Status, Is.EqualTo(503));
        Assert.That(resp.BodyText, Does.Contain("No server is available"));
        Assert.That(ms, Is.LessThan(1000), "no usable server: no queueing, no retries");
        Assert.That(origin.Connections, Is.EqualTo(0));
    }

    [TestCase(10_000, true)]   // every request waits its turn and is served
    [TestCase(40, false)]      // a short `timeout queue`: some may get 503, none is lost
    public async Task HttpManyClientsRacingForTwoPermits_LimitHolds_NoPermitOrTicketLeaks(int queueTimeoutMs, bool allServed)
    {
        await using var a = new SlowOrigin(15);
        await using var b = new SlowOrigin(15);
        await using var proxy = StartFromText(HttpConfig(
            $"    server a 127.0.0.1:{a.Port} maxconn 1\n    server b 127.0.0.1:{b.Port} maxconn 1",
            backendExtra: $"    timeout queue {queueTimeoutMs}ms"));
        const int clients = 30, perClient = 4;
        var statuses = await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            var got = new List<int>();
            for (int i = 0; i < perClient; i++)
            {
                using var c = await proxy.ConnectAsync();   // a new connection each time: no keep-alive shortcut
                got.Add((await GetAsync(c)).Response.Status);
            }
            return got;
        }));
        var all = statuses.SelectMany(s => s).ToList();
        Assert.That(all, Has.Count.EqualTo(clients * perClient));
        Assert.That(all, Is.All.EqualTo(200).Or.EqualTo(503));
        if (allServed) Assert.That(all, Is.All.EqualTo(200));
        Assert.That((a.MaxBusy, b.MaxBusy), Is.EqualTo((1, 1)), "never two requests at once on a server");
        Assert.That(a.Requests + b.Requests, Is.EqualTo(all.Count(s => s == 200)));
        var be = proxy.Engine.Backends[0];
        await WaitUntilAsync(() => be.Servers[0].Served == 0 && be.Servers[1].Served == 0);
        Assert.That(be.Counters.QueueCurrent, Is.EqualTo(0));
        Assert.That(be.Counters.QueueMax, Is.GreaterThan(0));
    }

    [Test]
    public async Task TcpManyShortConnections_MaxConn1_AllServed_PermitReturned()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint, maxConn: 1)],
            beTimeouts: Timeouts(connectMs: 1000, serverMs: 10000) with { Queue = TimeSpan.FromSeconds(20) });
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var c = await proxy.ConnectAsync();
            await c.SendAsync(new[] { (byte)i }, SocketFlags.None);
            c.Shutdown(SocketShutdown.Send);
            return await ReadToEndAsync(c);
        }));
        Assert.That(results.Select(r => r.Length), Is.All.EqualTo(1));
        await WaitUntilAsync(() => proxy.Engine.Backends[0].Servers[0].Served == 0);
        Assert.That(proxy.Engine.Counters[1].QueueCurrent, Is.EqualTo(0));
        Assert.That(proxy.Engine.Counters[2].MaxSessions, Is.EqualTo(1));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        long deadline = Environment.TickCount64 + 5000;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) Assert.Fail("condition not reached within 5 s");
            await Task.Delay(10);
        }
    }
}
