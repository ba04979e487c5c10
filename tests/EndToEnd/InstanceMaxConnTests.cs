using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Global, frontend and server `maxconn` hold for the instance, not per worker (issue 14): two workers share one
/// count. A full frontend stops accepting (HAProxy does not reject): the extra clients wait, and are served as
/// others close.
/// </summary>
[TestFixture]
public sealed class InstanceMaxConnTests
{
    /// <summary>A TCP echo origin that records how many connections it holds at once.</summary>
    private sealed class HoldingOrigin : IAsyncDisposable
    {
        private readonly TestServer _server;
        private int _busy, _maxBusy;

        public HoldingOrigin()
        {
            _server = new TestServer(async s =>
            {
                int busy = Interlocked.Increment(ref _busy);
                int max;
                while (busy > (max = Volatile.Read(ref _maxBusy)) && Interlocked.CompareExchange(ref _maxBusy, busy, max) != max) { }
                try
                {
                    var buf = new byte[256];
                    int n;
                    while ((n = await s.ReceiveAsync(buf, SocketFlags.None)) > 0) await s.SendAsync(buf.AsMemory(0, n), SocketFlags.None);
                }
                catch (SocketException)
                {
                    // the proxy's side went away
                }
                finally
                {
                    Interlocked.Decrement(ref _busy);
                }
            });
        }

        public int Port => _server.EndPoint.Port;
        public int Busy => Volatile.Read(ref _busy);
        public int MaxBusy => Volatile.Read(ref _maxBusy);
        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }

    private static string TcpConfig(int port, int originPort, string frontendLines) => $"""
        defaults
            mode tcp
            timeout connect 2s
            timeout client 30s
            timeout server 30s
        frontend fe
            bind 127.0.0.1:{port}
        {frontendLines}
            default_backend be
        backend be
            server s 127.0.0.1:{originPort}
        """;

    /// <summary>Connects, sends a byte; the task completes once the byte came back (the connection is served).</summary>
    private static async Task<Socket> ConnectServedAsync(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        await s.SendAsync(new byte[] { 42 }, SocketFlags.None);
        var b = new byte[1];
        if (await s.ReceiveAsync(b, SocketFlags.None) != 1) throw new IOException("closed before served");
        return s;
    }

    /// <summary>
    /// 8 clients against a limit of 2 with 2 workers (the kernel spreads them over both workers' accept queues, so
    /// per-worker limits would let up to 4 through): only 2 are served at once, the others wait and are served as
    /// the served ones close, and the origin never holds more than 2.
    /// </summary>
    [TestCase("    maxconn 2", "", TestName = "FrontendMaxConn_TwoWorkers_AtMostMaxConnServedAtOnce_OthersWaitThenServed")]
    [TestCase("", "    maxconn 2\n", TestName = "GlobalMaxConn_TwoWorkers_AtMostMaxConnServedAtOnce_OthersWaitThenServed")]
    public async Task MaxConn_HeldAcrossTwoWorkers(string frontendLines, string globalLines)
    {
        const int limit = 2, clients = 8;
        await using var origin = new HoldingOrigin();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TcpConfig(port, origin.Port, frontendLines), global: "    nbproc 2\n" + globalLines).Start();
        var pending = Enumerable.Range(0, clients).Select(_ => ConnectServedAsync(port)).ToList();
        var served = new List<Socket>();
        try
        {
            while (pending.Count > 0)
            {
                // Wait for the next served clients; the others stay connected and unanswered meanwhile.
                var done = await Task.WhenAny(pending).WaitAsync(TimeSpan.FromSeconds(20));
                await Poll.UntilAsync(() => pending.Count(t => t.IsCompleted) == Math.Min(limit, pending.Count)
                    || pending.Count(t => t.IsCompleted) > limit, "the places taken");
                // A few of the engine's timer ticks (at most 100 ms each) for a third to be let through wrongly.
                await Task.Delay(300);
                var now = pending.Where(t => t.IsCompleted).ToList();
                Assert.That(now, Has.Count.LessThanOrEqualTo(limit), "served at once, instance-wide");
                Assert.That(origin.Busy, Is.LessThanOrEqualTo(limit));
                foreach (var t in now)
                {
                    pending.Remove(t);
                    served.Add(await t);
                }
                // Close what was served: the waiting ones get the places.
                foreach (var s in served) s.Dispose();
                served.Clear();
            }
            Assert.That(origin.MaxBusy, Is.EqualTo(limit), "the limit reached and never passed");
            if (globalLines.Length > 0)
            {
                var info = await ControlClient.SendAsync(proxy.SocketPath, "show info", TimeSpan.FromSeconds(5));
                Assert.That(info, Does.Contain($"Maxconn: {limit}\n"), "show info gives the instance's maxconn, not a sum over workers");
            }
        }
        finally
        {
            foreach (var s in served) s.Dispose();
            foreach (var t in pending) _ = t.ContinueWith(c => { if (c.IsCompletedSuccessfully) c.Result.Dispose(); }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Workers killed while holding every place: the supervisor gives their reservations back when it reaps them,
    /// so the respawned workers serve new clients (a leak would keep the frontend full forever).
    /// </summary>
    [Test]
    public async Task FrontendMaxConn_WorkersKilledHoldingEveryPlace_PlacesComeBack()
    {
        await using var origin = new HoldingOrigin();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TcpConfig(port, origin.Port, "    maxconn 2")).Start();
        var held = new[] { await ConnectServedAsync(port), await ConnectServedAsync(port) };
        try
        {
            var before = proxy.Workers();
            foreach (var w in before) Posix.Signal(w.Pid, Posix.SIGKILL);
            await Poll.UntilAsync(() => proxy.Workers() is var now && now.Count == 2 && now.All(w => before.All(b => b.Pid != w.Pid) && w.State == "running"),
                "both slots respawned", TimeSpan.FromSeconds(20));
            foreach (var s in held) s.Dispose();
            using var a = await ConnectServedAsync(port).WaitAsync(TimeSpan.FromSeconds(10));
            using var b = await ConnectServedAsync(port).WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            foreach (var s in held) s.Dispose();
        }
    }

    private static string HttpConfig(int port, int originPort, int maxConn, string queueTimeout) => $"""
        defaults
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
            timeout queue {queueTimeout}
        frontend fe
            bind 127.0.0.1:{port}
            default_backend be
        backend be
            server s 127.0.0.1:{originPort} maxconn {maxConn}
        """;

    /// <summary>Server `maxconn 1` with 2 workers: the origin never works on 2 requests at once (per-worker shares gave 2), and every request is served.</summary>
    [Test]
    public async Task ServerMaxConn1_TwoWorkers_OriginNeverSeesTwo_AllServed()
    {
        await using var origin = new SlowOrigin(150);
        int port = Ports.Free();
        using var proxy = new ProxyInstance(HttpConfig(port, origin.Port, 1, "20s")).Start();
        var clients = Enumerable.Range(0, 8).Select(_ => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) }).ToList();
        try
        {
            var responses = await Task.WhenAll(clients.Select(c => c.GetAsync("/")));
            Assert.That(responses.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
            Assert.That(origin.Requests, Is.EqualTo(8));
            Assert.That(origin.MaxBusy, Is.EqualTo(1), "one request at the origin at a time, across both workers");
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    /// <summary>Server `maxconn 1`, 2 workers, `timeout queue` shorter than a request: the waiting ones get 503 (HAProxy's sQ), the origin still sees one at a time.</summary>
    [Test]
    public async Task ServerMaxConn1_TwoWorkers_QueueTimeout_503_OriginNeverSeesTwo()
    {
        await using var origin = new SlowOrigin(1500);
        int port = Ports.Free();
        using var proxy = new ProxyInstance(HttpConfig(port, origin.Port, 1, "300ms")).Start();
        var clients = Enumerable.Range(0, 6).Select(_ => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) }).ToList();
        try
        {
            var codes = (await Task.WhenAll(clients.Select(c => c.GetAsync("/")))).Select(r => r.StatusCode).ToList();
            Assert.That(codes, Has.Some.EqualTo(HttpStatusCode.OK));
            Assert.That(codes, Has.Some.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(codes.Count(c => c == HttpStatusCode.OK) + codes.Count(c => c == HttpStatusCode.ServiceUnavailable), Is.EqualTo(6));
            Assert.That(origin.MaxBusy, Is.EqualTo(1));
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }
}
