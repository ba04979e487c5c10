using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>`option splice-auto` in `mode tcp`: bulk data moves through kernel pipes, byte for byte, both ways.</summary>
[TestFixture]
public sealed class SpliceForwardingTests
{
    private static EngineHarness StartSpliced(TestServer origin, SpliceDirections splice, bool noSplice = false)
        => EngineHarness.Start(ep =>
        {
            var config = TcpTestKit.Config(Frontend(ep) with { Splice = splice }, Backend([Server("s1", origin.EndPoint)]));
            return config with { Global = config.Global with { NoSplice = noSplice } };
        });

    private static ulong Checksum(ReadOnlySpan<byte> data)
    {
        ulong h = 14695981039346656037;   // FNV-1a 64: catches a lost, duplicated or reordered chunk
        foreach (byte b in data) h = (h ^ b) * 1099511628211;
        return h;
    }

    [TestCase(SpliceDirections.Both)]
    [TestCase(SpliceDirections.Request)]
    [TestCase(SpliceDirections.Response)]
    public async Task EchoOf8MiB_ArrivesByteForByte(SpliceDirections splice)
    {
        await using var echo = TestServer.Echo();
        await using var proxy = StartSpliced(echo, splice);
        var payload = new byte[8 << 20];
        new Random(7).NextBytes(payload);
        using var c = await proxy.ConnectAsync();
        var reading = ReadToEndAsync(c);
        await SendAllAsync(c, payload);
        c.Shutdown(SocketShutdown.Send);
        var echoed = await reading;
        Assert.That(echoed.Length, Is.EqualTo(payload.Length));
        Assert.That(Checksum(echoed), Is.EqualTo(Checksum(payload)));
        var fe = proxy.Engine.Counters[0];
        Assert.That(fe.BytesIn, Is.EqualTo(payload.Length), "bin counts spliced bytes");
        Assert.That(fe.BytesOut, Is.EqualTo(payload.Length), "bout counts spliced bytes");
    }

    [Test]
    public async Task SlowReader_DestinationFull_SpilledBytesStillArriveInOrder()
    {
        // The origin sends 16 MiB at once; the client reads slowly with a small receive buffer, so the proxy's
        // splices into it find the socket full and the rest goes through the ordinary send path.
        var payload = new byte[16 << 20];
        new Random(8).NextBytes(payload);
        await using var origin = new TestServer(async s =>
        {
            await s.SendAsync(payload, SocketFlags.None);
            s.Shutdown(SocketShutdown.Send);
            var buf = new byte[16];
            while (await s.ReceiveAsync(buf, SocketFlags.None) > 0) { }
        });
        await using var proxy = StartSpliced(origin, SpliceDirections.Both);
        using var c = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await c.ConnectAsync(proxy.EndPoint);
        var got = new MemoryStream();
        var chunk = new byte[8192];
        int reads = 0;
        while (true)
        {
            int n = await c.ReceiveAsync(chunk, SocketFlags.None);
            if (n == 0) break;
            got.Write(chunk, 0, n);
            if (++reads % 64 == 0) await Task.Delay(1);
        }
        Assert.That(got.Length, Is.EqualTo(payload.Length));
        Assert.That(Checksum(got.ToArray()), Is.EqualTo(Checksum(payload)));
    }

    [Test]
    public async Task HalfClose_IsRelayedWhileSplicing()
    {
        // The server answers once it has seen the client's FIN: the length of what it read.
        await using var server = new TestServer(async s =>
        {
            var data = await ReadToEndAsync(s);
            await s.SendAsync(BitConverter.GetBytes(data.Length), SocketFlags.None);
            s.Shutdown(SocketShutdown.Send);
        });
        await using var proxy = StartSpliced(server, SpliceDirections.Both);
        using var c = await proxy.ConnectAsync();
        await SendAllAsync(c, new byte[3_000_000]);
        c.Shutdown(SocketShutdown.Send);
        var reply = await ReadToEndAsync(c);
        Assert.That(reply.Length, Is.EqualTo(4));
        Assert.That(BitConverter.ToInt32(reply), Is.EqualTo(3_000_000));
    }

    [Test]
    public async Task ManyConcurrentSplicedSessions_AllIntact_NoDescriptorLeft()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = StartSpliced(echo, SpliceDirections.Both);
        int fdsBefore = Directory.GetFiles("/proc/self/fd").Length;
        var tasks = new Task[40];
        for (int i = 0; i < tasks.Length; i++)
        {
            int seed = 100 + i;
            tasks[i] = Task.Run(async () =>
            {
                var payload = new byte[1 << 20];
                new Random(seed).NextBytes(payload);
                using var c = await proxy.ConnectAsync();
                var reading = ReadToEndAsync(c);
                await SendAllAsync(c, payload);
                c.Shutdown(SocketShutdown.Send);
                var echoed = await reading;
                Assert.That(Checksum(echoed), Is.EqualTo(Checksum(payload)));
            });
        }
        await Task.WhenAll(tasks);
        await ProxyEngineTests.WaitUntilAsync(() => proxy.Engine.ActiveConnections == 0);
        // One kernel pipe per thread that spliced (two descriptors each): bounded by the thread count, not sessions.
        int fdsAfter = Directory.GetFiles("/proc/self/fd").Length;
        Assert.That(fdsAfter - fdsBefore, Is.LessThan(2 * Environment.ProcessorCount * 8 + 16));
    }

    [Test]
    public async Task NoSplice_Global_StillForwards()
    {
        await using var echo = TestServer.Echo();
        await using var proxy = StartSpliced(echo, SpliceDirections.Both, noSplice: true);
        var payload = new byte[2 << 20];
        new Random(9).NextBytes(payload);
        using var c = await proxy.ConnectAsync();
        var reading = ReadToEndAsync(c);
        await SendAllAsync(c, payload);
        c.Shutdown(SocketShutdown.Send);
        Assert.That(Checksum(await reading), Is.EqualTo(Checksum(payload)));
    }
}
