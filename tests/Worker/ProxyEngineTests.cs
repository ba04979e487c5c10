using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NLog.Config;
using NLog.Targets;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker;

[TestFixture]
public sealed class ProxyEngineTests
{
    /// <summary>Sends <paramref name="size"/> random bytes through the proxy to an echo server; checks what comes back.</summary>
    private static async Task EchoRoundTripAsync(IPEndPoint proxy, int size, int seed)
    {
        var payload = new byte[size];
        new Random(seed).NextBytes(payload);
        using var s = await ConnectAsync(proxy);
        var reading = ReadToEndAsync(s);
        await SendAllAsync(s, payload);
        s.Shutdown(SocketShutdown.Send);
        var echoed = await reading;
        Assert.That(echoed.Length, Is.EqualTo(size), "length");
        Assert.That(Checksum(echoed), Is.EqualTo(Checksum(payload)), "checksum");
    }

    private static ulong Checksum(byte[] data)
    {
        // FNV-1a 64: enough to catch a lost, duplicated or reordered chunk.
        ulong h = 14695981039346656037;
        foreach (byte b in data) h = (h ^ b) * 1099511628211;
        return h;
    }

    [Test]
    public async Task Forward_1000SequentialConnections_ByteForByte()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint)]);
        var rng = new Random(1);
        long total = 0;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 1000; i++)
        {
            // Mostly small payloads, every 50th up to 1 MiB, so the run stays within a few seconds.
            int size = i % 50 == 0 ? rng.Next(1, 1 << 20) : rng.Next(0, 8192);
            total += size;
            await EchoRoundTripAsync(proxy.EndPoint, size, i);
        }
        TestContext.Out.WriteLine($"1000 sequential: {total} bytes each way in {watch.ElapsedMilliseconds} ms");
        var fe = proxy.Engine.Counters[0];
        Assert.That(proxy.Engine.TotalConnections, Is.EqualTo(1000));
        Assert.That(fe.TotalSessions, Is.EqualTo(1000));
        Assert.That(fe.BytesIn, Is.EqualTo(total));
        Assert.That(fe.BytesOut, Is.EqualTo(total));
    }

    [Test]
    public async Task Forward_200ConcurrentConnections_ByteForByte()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint)]);
        var rng = new Random(2);
        var sizes = new int[200];
        for (int i = 0; i < sizes.Length; i++) sizes[i] = i % 10 == 0 ? rng.Next(1, 1 << 20) : rng.Next(0, 65536);
        var watch = Stopwatch.StartNew();
        var tasks = new Task[sizes.Length];
        for (int i = 0; i < tasks.Length; i++)
        {
            int k = i;
            tasks[i] = Task.Run(() => EchoRoundTripAsync(proxy.EndPoint, sizes[k], 1000 + k));
        }
        await Task.WhenAll(tasks);
        TestContext.Out.WriteLine($"200 concurrent in {watch.ElapsedMilliseconds} ms");
        var fe = proxy.Engine.Counters[0];
        Assert.That(fe.TotalSessions, Is.EqualTo(200));
        Assert.That(fe.MaxSessions, Is.GreaterThan(1));
        await WaitUntilAsync(() => proxy.Engine.ActiveConnections == 0);
        Assert.That(fe.CurrentSessions, Is.EqualTo(0));
    }

    [Test]
    public async Task HalfClose_ClientShutsDownSend_StillReceivesReplySentAfterFin()
    {
        // The server answers only once it has seen the client's FIN: the length of what it read.
        await using var server = new TestServer(async s =>
        {
            var data = await ReadToEndAsync(s);
            await s.SendAsync(BitConverter.GetBytes(data.Length), SocketFlags.None);
            s.Shutdown(SocketShutdown.Send);
        });
        await using var proxy = EngineHarness.Start([Server("s1", server.EndPoint)]);
        using var c = await proxy.ConnectAsync();
        await SendAllAsync(c, new byte[300_000]);
        c.Shutdown(SocketShutdown.Send);
        var reply = await ReadToEndAsync(c);
        Assert.That(reply.Length, Is.EqualTo(4));
        Assert.That(BitConverter.ToInt32(reply), Is.EqualTo(300_000));
    }

    [Test]
    public async Task DeadServer_WithRetries_ClosesClientPromptly()
    {
        await using var proxy = EngineHarness.Start([Server("dead", DeadEndPoint())], retries: 3);
        var watch = Stopwatch.StartNew();
        using var c = await proxy.ConnectAsync();
        var got = await ReadToEndAsync(c);
        Assert.That(got, Is.Empty);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
        var be = proxy.Engine.Counters[1];
        var srv = proxy.Engine.Counters[2];
        await WaitUntilAsync(() => be.ConnectionErrors == 1);
        Assert.That(srv.ConnectionErrors, Is.EqualTo(1));
        Assert.That(be.Retries, Is.EqualTo(3));
    }

    [Test]
    public async Task NoUsableServer_ClosesClientPromptly_CountsBackendEcon()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("off", echo.EndPoint, disabled: true), Server("zero", echo.EndPoint, weight: 0)]);
        var watch = Stopwatch.StartNew();
        using var c = await proxy.ConnectAsync();
        Assert.That(await ReadToEndAsync(c), Is.Empty);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
        await WaitUntilAsync(() => proxy.Engine.Counters[1].ConnectionErrors == 1);
        Assert.That(echo.Accepted, Is.EqualTo(0));
    }

    [Test]
    public async Task ConnectTimeout_ServerNeverAnswers_ClosesClientAfterRetries()
    {
        // A full accept queue drops SYNs: only `timeout connect` ends each attempt.
        var (listener, filler, ep) = await SaturatedListenerAsync();
        using var l = listener;
        using var f = filler;
        await using var proxy = EngineHarness.Start([Server("hang", ep)], beTimeouts: Timeouts(connectMs: 100), retries: 1);
        var watch = Stopwatch.StartNew();
        using var c = await proxy.ConnectAsync();
        Assert.That(await ReadToEndAsync(c), Is.Empty);
        Assert.That(watch.ElapsedMilliseconds, Is.InRange(150, 1500), "two attempts of 100 ms, checked by a 25 ms timer");
        var be = proxy.Engine.Counters[1];
        await WaitUntilAsync(() => be.ConnectionErrors == 1);
        Assert.That(be.Retries, Is.EqualTo(1));
    }

    [Test]
    public async Task Redispatch_DeadServerThenLiveOne_ConnectionSucceeds()
    {
        await using var live = TestServer.Identify(7);
        await using var proxy = EngineHarness.Start([Server("dead", DeadEndPoint()), Server("live", live.EndPoint)],
            retries: 2, redispatch: true);
        for (int i = 0; i < 4; i++)
        {
            using var c = await proxy.ConnectAsync();
            Assert.That(await ReadToEndAsync(c), Is.EqualTo(new byte[] { 7 }));
        }
        // Round robin keeps landing on the dead server first: 2 retries each, the last one redispatched.
        Assert.That(proxy.Engine.Counters[1].Redispatches, Is.EqualTo(4));
        Assert.That(proxy.Engine.Counters[1].Retries, Is.EqualTo(8));
    }

    [Test]
    public async Task RoundRobin_Weights123_DistributesProportionally()
    {
        await using var a = TestServer.Identify(1);
        await using var b = TestServer.Identify(2);
        await using var c = TestServer.Identify(3);
        await using var proxy = EngineHarness.Start([Server("a", a.EndPoint, weight: 1), Server("b", b.EndPoint, weight: 2), Server("c", c.EndPoint, weight: 3)]);
        var counts = new int[4];
        for (int i = 0; i < 60; i++)
        {
            using var s = await proxy.ConnectAsync();
            counts[(await ReadToEndAsync(s))[0]]++;
        }
        Assert.That(counts[1..], Is.EqualTo(new[] { 10, 20, 30 }));
    }

    [Test]
    public async Task Backup_ActiveUp_GetsNothing_ActiveDown_GetsEverything()
    {
        await using var active = TestServer.Identify(1);
        await using var backup = TestServer.Identify(2);
        await using var proxy = EngineHarness.Start([
            Server("act", active.EndPoint, check: true, interMs: 50, fall: 1, rise: 1),
            Server("bak", backup.EndPoint, backup: true)]);
        for (int i = 0; i < 10; i++)
        {
            using var s = await proxy.ConnectAsync();
            Assert.That(await ReadToEndAsync(s), Is.EqualTo(new byte[] { 1 }));
        }
        await active.DisposeAsync();   // nothing listens there any more: the check marks it DOWN
        var act = proxy.Engine.Backends[0].Servers[0];
        await WaitUntilAsync(() => !act.IsUp);
        for (int i = 0; i < 10; i++)
        {
            using var s = await proxy.ConnectAsync();
            Assert.That(await ReadToEndAsync(s), Is.EqualTo(new byte[] { 2 }));
        }
    }

    [Test]
    public async Task HealthCheck_ServerStopsThenReturns_MarkedDownThenUp_AndLogged()
    {
        var (log, memory) = MemoryLog();
        var server = TestServer.Identify(1);
        var ep = server.EndPoint;
        await using var proxy = EngineHarness.Start([Server("s1", ep, check: true, interMs: 50, rise: 2, fall: 2)], log: log);
        var s1 = proxy.Engine.Backends[0].Servers[0];
        Assert.That(s1.IsUp, Is.True, "servers start UP");
        await server.DisposeAsync();
        await WaitUntilAsync(() => !s1.IsUp);
        await using (var again = TestServer.Identify(1, ep))
        {
            await WaitUntilAsync(() => s1.IsUp);
        }
        var lines = memory.Logs;
        Assert.That(lines, Has.Some.Matches<string>(l => l.StartsWith("Server be/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: ")
            && l.EndsWith("0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.")));
        Assert.That(lines, Has.Some.StartsWith("backend be has no server available!"));
        Assert.That(lines, Has.Some.Matches<string>(l => l.StartsWith("Server be/s1 is UP, reason: Layer4 check passed, check duration: ")
            && l.EndsWith("1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.")));
    }

    [Test]
    public async Task TimeoutClient_IdleConnection_IsClosed()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint)], feTimeouts: Timeouts(clientMs: 300));
        using var c = await proxy.ConnectAsync();
        var watch = Stopwatch.StartNew();   // before the send: the idle timer cannot start before it
        await c.SendAsync(new byte[] { 1, 2, 3 }, SocketFlags.None);
        var got = await ReadToEndAsync(c);   // the echo, then the close at the timeout
        Assert.That(got, Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(watch.ElapsedMilliseconds, Is.InRange(250, 1500));
        await WaitUntilAsync(() => proxy.Engine.ActiveConnections == 0);
    }

    [Test]
    public async Task TimeoutTunnel_ReplacesClientTimeout()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint)], feTimeouts: Timeouts(clientMs: 100),
            beTimeouts: Timeouts(connectMs: 1000, serverMs: 100, tunnelMs: 1500));
        using var c = await proxy.ConnectAsync();
        await Task.Delay(400);
        await c.SendAsync(new byte[] { 9 }, SocketFlags.None);
        var buf = new byte[1];
        Assert.That(await c.ReceiveAsync(buf, SocketFlags.None), Is.EqualTo(1), "still open after 4x timeout client");
    }

    [Test]
    public async Task DrainAsync_WaitsForInFlightConnection()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint)]);
        using var c = await proxy.ConnectAsync();
        await c.SendAsync(new byte[] { 1 }, SocketFlags.None);
        Assert.That(await c.ReceiveAsync(new byte[1], SocketFlags.None), Is.EqualTo(1));
        Assert.That(proxy.Engine.ActiveConnections, Is.EqualTo(1));

        Assert.That(await proxy.Engine.DrainAsync(TimeSpan.FromMilliseconds(200)), Is.False, "drain times out while in flight");
        var drain = proxy.Engine.DrainAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(100);
        Assert.That(drain.IsCompleted, Is.False);
        // The connection still works while draining.
        await c.SendAsync(new byte[] { 2 }, SocketFlags.None);
        Assert.That(await c.ReceiveAsync(new byte[1], SocketFlags.None), Is.EqualTo(1));
        c.Shutdown(SocketShutdown.Send);
        await ReadToEndAsync(c);
        Assert.That(await drain, Is.True);
        Assert.That(proxy.Engine.ActiveConnections, Is.EqualTo(0));
    }

    [Test]
    public async Task StopAccepting_SharedListener_StillAcceptsThroughOtherOwner()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint)]);
        await EchoRoundTripAsync(proxy.EndPoint, 1000, 1);
        proxy.Engine.StopAccepting();
        proxy.Engine.StopAccepting();   // idempotent
        await Task.Delay(50);           // let the accept loop end and dispose its Socket

        // The supervisor's copy still listens: a new connection is queued and accepted through it.
        using var client = await ConnectAsync(proxy.EndPoint);
        using var cts = new CancellationTokenSource(2000);
        using var accepted = await proxy.SupervisorCopy.AcceptAsync(cts.Token);
        Assert.That(accepted.RemoteEndPoint, Is.EqualTo(client.LocalEndPoint));
        Assert.That(proxy.Engine.TotalConnections, Is.EqualTo(1));
    }

    [Test]
    public async Task StopAccepting_NextGenerationOnSameListener_Serves()
    {
        // A reload in miniature: generation 2 gets its duplicate while generation 1 still runs, then generation 1
        // drains. (In one process the two duplicates must have different fd numbers: epoll keeps a registration
        // until every descriptor of the socket is closed, so re-registering the same number fails with EEXIST.
        // Real generations are separate processes, each with its own epoll.)
        await using var echo = TestServer.Echo();
        using var listener = Listen();
        var ep = (IPEndPoint)listener.LocalEndPoint!;
        var config = TcpTestKit.Config(Frontend(ep), Backend([Server("s1", echo.EndPoint)]));
        var fe = config.Frontends[0];
        await using var gen1 = new ProxyEngine(config, [new BoundListener(fe, fe.Binds[0], Duplicate(listener))], NullLog);
        gen1.Start();
        await EchoRoundTripAsync(ep, 100, 1);
        var gen2Socket = Duplicate(listener);
        Assert.That(await gen1.DrainAsync(TimeSpan.FromSeconds(2)), Is.True);
        await using var gen2 = new ProxyEngine(config, [new BoundListener(fe, fe.Binds[0], gen2Socket)], NullLog);
        gen2.Start();
        for (int i = 0; i < 20; i++) await EchoRoundTripAsync(ep, 100, i);
        Assert.That(gen1.TotalConnections, Is.EqualTo(1));
        Assert.That(gen2.TotalConnections, Is.EqualTo(20));
    }

    [Test]
    public async Task FrontendMaxConn_AtLimit_NextConnectionWaitsUntilOneEnds()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint)], feMaxConn: 1);
        using var first = await proxy.ConnectAsync();
        await first.SendAsync(new byte[] { 1 }, SocketFlags.None);
        Assert.That(await first.ReceiveAsync(new byte[1], SocketFlags.None), Is.EqualTo(1));

        using var second = await proxy.ConnectAsync();   // completes in the kernel's accept queue
        await second.SendAsync(new byte[] { 2 }, SocketFlags.None);
        var pending = second.ReceiveAsync(new byte[1], SocketFlags.None);
        await Task.Delay(200);
        Assert.That(pending.IsCompleted, Is.False, "second connection must not be served at maxconn");
        Assert.That(proxy.Engine.TotalConnections, Is.EqualTo(1));

        first.Shutdown(SocketShutdown.Send);
        await ReadToEndAsync(first);
        Assert.That(await pending, Is.EqualTo(1));
    }

    [Test]
    public async Task ClientReset_CountsClientAbort_AndClosesServerSide()
    {
        var serverSawEnd = new TaskCompletionSource();
        await using var server = new TestServer(async s =>
        {
            await ReadToEndAsync(s);
            serverSawEnd.TrySetResult();
        });
        await using var proxy = EngineHarness.Start([Server("s1", server.EndPoint)]);
        var c = await proxy.ConnectAsync();
        await c.SendAsync(new byte[] { 1 }, SocketFlags.None);
        await WaitUntilAsync(() => proxy.Engine.Counters[0].BytesIn == 1);
        c.LingerState = new LingerOption(true, 0);   // close with RST
        c.Dispose();
        await serverSawEnd.Task.WaitAsync(TimeSpan.FromSeconds(2));
        var fe = proxy.Engine.Counters[0];
        await WaitUntilAsync(() => fe.ClientAborts == 1);
        Assert.That(proxy.Engine.Counters[2].ClientAborts, Is.EqualTo(1), "server counter");
        await WaitUntilAsync(() => proxy.Engine.ActiveConnections == 0);
    }

    [Test]
    public async Task ServerClosesFirst_ClientStillSends_ServerStillReceives()
    {
        // The server says hello and shuts down its sending side, then keeps reading: the other half stays open.
        var received = new TaskCompletionSource<int>();
        await using var server = new TestServer(async s =>
        {
            await s.SendAsync("hi"u8.ToArray(), SocketFlags.None);
            s.Shutdown(SocketShutdown.Send);
            received.TrySetResult((await ReadToEndAsync(s)).Length);
        });
        await using var proxy = EngineHarness.Start([Server("s1", server.EndPoint)]);
        using var c = await proxy.ConnectAsync();
        Assert.That(await ReadToEndAsync(c), Is.EqualTo("hi"u8.ToArray()), "FIN relayed to the client");
        await SendAllAsync(c, new byte[200_000]);
        c.Shutdown(SocketShutdown.Send);
        Assert.That(await received.Task.WaitAsync(TimeSpan.FromSeconds(5)), Is.EqualTo(200_000));
        await WaitUntilAsync(() => proxy.Engine.ActiveConnections == 0);
    }

    [Test]
    public async Task TimeoutServer_SilentServer_ClosesBothSides()
    {
        await using var silent = new TestServer(s => ReadToEndAsync(s));
        await using var proxy = EngineHarness.Start([Server("s1", silent.EndPoint)], feTimeouts: Timeouts(clientMs: 10_000),
            beTimeouts: Timeouts(connectMs: 1000, serverMs: 200));
        using var c = await proxy.ConnectAsync();
        // One byte, accepted by the server, then nothing either way: the server side is idle past `timeout server`
        // while `timeout client` is far away.
        var watch = Stopwatch.StartNew();   // before the send: the server side's idle timer cannot start before it
        await c.SendAsync(new byte[] { 1 }, SocketFlags.None);
        Assert.That(await ReadToEndAsync(c), Is.Empty);
        Assert.That(watch.ElapsedMilliseconds, Is.InRange(150, 1500));
    }

    [Test]
    public async Task DisposeAsync_OpenConnections_AreClosed()
    {
        await using var echo = TestServer.Echo();
        var proxy = EngineHarness.Start([Server("s1", echo.EndPoint)]);
        using var c1 = await proxy.ConnectAsync();
        using var c2 = await proxy.ConnectAsync();
        await WaitUntilAsync(() => proxy.Engine.Counters[2].CurrentSessions == 2);
        var watch = Stopwatch.StartNew();
        await proxy.DisposeAsync();
        Assert.That(await ReadToEndAsync(c1), Is.Empty);
        Assert.That(await ReadToEndAsync(c2), Is.Empty);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
        Assert.That(proxy.Engine.ActiveConnections, Is.EqualTo(0));
        Assert.That(proxy.Engine.Counters[0].CurrentSessions, Is.EqualTo(0));
    }

    [Test]
    public async Task GlobalMaxConn_AtLimit_NextConnectionWaits()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = EngineHarness.Start(ep => TcpTestKit.Config(Frontend(ep), Backend([Server("s1", echo.EndPoint)]), globalMaxConn: 2));
        using var a = await proxy.ConnectAsync();
        using var b = await proxy.ConnectAsync();
        await WaitUntilAsync(() => proxy.Engine.ActiveConnections == 2);
        using var third = await proxy.ConnectAsync();
        await Task.Delay(150);
        Assert.That(proxy.Engine.TotalConnections, Is.EqualTo(2));
        a.Shutdown(SocketShutdown.Send);
        await ReadToEndAsync(a);
        await WaitUntilAsync(() => proxy.Engine.TotalConnections == 3);
    }

    [Test]
    public void Constructor_HttpFrontend_ThrowsNotSupported()
    {
        using var listener = Listen();
        var ep = (IPEndPoint)listener.LocalEndPoint!;
        var fe = Frontend(ep) with { Mode = ProxyMode.Http };
        var config = TcpTestKit.Config(fe, Backend([Server("s1", ep)]));
        Assert.Throws<NotSupportedException>(() => _ = new ProxyEngine(config, [new BoundListener(fe, fe.Binds[0], listener)], NullLog));
    }

    /// <summary>A logger whose lines (messages only) collect in memory, for asserting on log output.</summary>
    internal static (NLog.ILogger, MemoryTarget) MemoryLog()
    {
        var factory = new NLog.LogFactory();
        var config = new LoggingConfiguration(factory);
        var memory = new MemoryTarget("memory") { Layout = "${message}" };
        config.AddRuleForAllLevels(memory);
        factory.Configuration = config;
        return (factory.GetLogger("test"), memory);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, int timeoutMs = 5000)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.ElapsedMilliseconds > timeoutMs) Assert.Fail("condition not reached in time");
            await Task.Delay(10);
        }
    }
}
