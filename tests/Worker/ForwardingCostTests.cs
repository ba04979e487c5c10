using System.Diagnostics;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>Pins the cost model of the forwarding loops: no allocation per read, bounded allocation per connection.</summary>
[NonParallelizable]
[TestFixture]
public sealed class ForwardingCostTests
{
    private const int Chunk = 64 * 1024;

    /// <summary>A server that discards everything and, at FIN, answers with the number of bytes it read.</summary>
    private static TestServer Sink() => new(async s =>
    {
        var buf = new byte[Chunk];
        long total = 0;
        while (true)
        {
            int n = await s.ReceiveAsync(buf.AsMemory(), SocketFlags.None);
            if (n == 0) break;
            total += n;
        }
        await s.SendAsync(BitConverter.GetBytes(total).AsMemory(), SocketFlags.None);
        s.Shutdown(SocketShutdown.Send);
    });

    [Test]
    public async Task Forward_256MiB_AllocatesNothingPerRead()
    {
        // The figure is whole-process (test host, thread pool growth on a busy box included), so the best of
        // three runs is what says whether the forwarding loop itself allocates per read.
        long best = long.MaxValue, reads = 1;
        for (int attempt = 0; attempt < 3 && best >= reads * 16; attempt++)
        {
            var (allocated, r) = await MeasureForwardAsync();
            (best, reads) = (Math.Min(best, allocated), r);
        }
        // One 24-byte object per read would already be 16384 * 24 bytes; the slack absorbs thread-pool growth.
        Assert.That(best, Is.LessThan(reads * 16));
    }

    private static async Task<(long Allocated, long Reads)> MeasureForwardAsync()
    {
        await using var sink = Sink();
        await using var proxy = EngineHarness.Start([Server("sink", sink.EndPoint)]);
        using var c = await proxy.ConnectAsync();
        var buf = new byte[Chunk].AsMemory();
        new Random(3).NextBytes(buf.Span);
        const long total = 256L * 1024 * 1024;

        // Warm up the pipes, pools and the thread pool before measuring.
        for (int i = 0; i < 64; i++) await c.SendAsync(buf, SocketFlags.None);
        await Poll.UntilAsync(() => proxy.Engine.Counters[0].BytesIn >= 64 * Chunk, "the warm-up through the proxy");

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        for (long sent = 64 * Chunk; sent < total; sent += Chunk) await c.SendAsync(buf, SocketFlags.None);
        c.Shutdown(SocketShutdown.Send);
        var reply = new byte[8];
        int got = 0;
        while (got < 8)
        {
            int n = await c.ReceiveAsync(reply.AsMemory(got), SocketFlags.None);
            if (n == 0) break;
            got += n;
        }
        watch.Stop();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.That(BitConverter.ToInt64(reply), Is.EqualTo(total));
        long reads = total / (16 * 1024);   // at least one proxy read per tune.bufsize
        double mibPerSecond = total / 1048576.0 / watch.Elapsed.TotalSeconds;
        TestContext.Out.WriteLine($"256 MiB client->server through the proxy in {watch.ElapsedMilliseconds} ms ({mibPerSecond:F0} MiB/s); "
            + $"{allocated} bytes allocated in the whole process (>= {reads} proxy reads)");
        return (allocated, reads);
    }

    [Test]
    public async Task Session_SmallExchange_AllocationPerConnectionStaysBounded()
    {
        // Whole-process figure: best of three runs, for the same reason as above.
        long best = long.MaxValue;
        for (int attempt = 0; attempt < 3 && best >= 24 * 1024; attempt++)
            best = Math.Min(best, await MeasureSessionsAsync());
        Assert.That(best, Is.LessThan(24 * 1024));
    }

    private static async Task<long> MeasureSessionsAsync()
    {
        await using var echo = TestServer.Echo(bufferSize: 128);
        await using var proxy = EngineHarness.Start([Server("s1", echo.EndPoint)]);
        var buf = new byte[100];
        async Task OneAsync()
        {
            using var c = await proxy.ConnectAsync();
            await c.SendAsync(buf.AsMemory(), SocketFlags.None);
            c.Shutdown(SocketShutdown.Send);
            while (await c.ReceiveAsync(buf.AsMemory(), SocketFlags.None) > 0) { }
        }
        for (int i = 0; i < 50; i++) await OneAsync();   // warm-up
        await ProxyEngineTests.WaitUntilAsync(() => proxy.Engine.ActiveConnections == 0);
        const int n = 500;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) await OneAsync();
        watch.Stop();
        await ProxyEngineTests.WaitUntilAsync(() => proxy.Engine.ActiveConnections == 0);
        long perConnection = (GC.GetTotalAllocatedBytes(precise: true) - before) / n;
        TestContext.Out.WriteLine($"{n} sequential short sessions in {watch.ElapsedMilliseconds} ms "
            + $"({n * 1000.0 / watch.ElapsedMilliseconds:F0}/s); {perConnection} bytes allocated per session, "
            + "test client and echo server included");
        return perConnection;
    }
}
