using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Worker.Forwarding;

namespace Proxy.Tests.Worker;

/// <summary>An idle connection keeps no buffer reachable: neither its receive buffer nor the last ones its operations used.</summary>
public class BufferedSocketTests
{
    internal static async Task<(Socket a, Socket b)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var a = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await a.ConnectAsync(listener.LocalEndPoint!);
        var b = await listener.AcceptAsync();
        return (a, b);
    }

    [Test]
    public async Task AfterAnExchange_ReleaseBufferIfEmpty_LeavesNoBufferReachable()
    {
        var (a, b) = await ConnectedPairAsync();
        using var peer = b;
        using var conn = new BufferedSocket(a, 16384);
        var payload = new byte[] { 1, 2, 3, 4 };
        Assert.That(await conn.SendAsync(payload), Is.True);
        var got = new byte[16];
        Assert.That(await peer.ReceiveAsync(got.AsMemory(), SocketFlags.None), Is.EqualTo(4));
        await peer.SendAsync(payload.AsMemory(), SocketFlags.None);
        Assert.That(await conn.ReceiveAsync(expectData: true), Is.EqualTo(4));
        conn.Consume(conn.Buffered);
        Assert.That(conn.HoldsBuffer, Is.True);

        conn.ReleaseBufferIfEmpty();

        Assert.That(conn.HoldsBuffer, Is.False);
    }

    [Test]
    public async Task PooledOperation_ForgetsItsBufferAndEndPoint_WhenReturned()
    {
        var (a, b) = await ConnectedPairAsync();
        using var peer = b;
        using var sender = a;
        var op = SocketOperationPool.Rent();
        var array = new byte[64];
        Assert.That(await op.SendAsync(sender, array.AsMemory(0, 8)), Is.EqualTo(SocketError.Success));
        Assert.That(op.MemoryBuffer.IsEmpty, Is.False, "the args keep the last buffer after the operation");
        op.RemoteEndPoint = peer.LocalEndPoint;

        SocketOperationPool.Return(op);

        Assert.That(op.MemoryBuffer.IsEmpty, Is.True);
        Assert.That(op.RemoteEndPoint, Is.Null);
        Assert.That(SocketOperationPool.Rent(), Is.SameAs(op), "the same thread gets its spare operation back");
    }

    [Test]
    public async Task BufferedBytes_AreKept()
    {
        var (a, b) = await ConnectedPairAsync();
        using var peer = b;
        using var conn = new BufferedSocket(a, 16384);
        await peer.SendAsync(new byte[] { 9, 9 }.AsMemory(), SocketFlags.None);
        Assert.That(await conn.ReceiveAsync(expectData: true), Is.EqualTo(2));
        conn.ReleaseBufferIfEmpty();
        Assert.That(conn.Buffered, Is.EqualTo(2));
        Assert.That(conn.Data.FirstSpan.ToArray(), Is.EqualTo(new byte[] { 9, 9 }));
    }

    [Test]
    public async Task BulkReceives_TakeBiggerBuffersWhileReadsFill_AndOtherReceivesGoBackToBufsize()
    {
        var (a, b) = await ConnectedPairAsync();
        using var peer = b;
        using var conn = new BufferedSocket(a, 4096);
        var body = new byte[64 * 1024];
        for (int i = 0; i < body.Length; i++) body[i] = (byte)(i * 7);
        // All queued before the first read (loopback's socket buffers hold it), so each read fills what it is given.
        Assert.That(await peer.SendAsync(body.AsMemory(), SocketFlags.None), Is.EqualTo(body.Length));

        var got = new List<byte>();
        var capacities = new List<int>();
        while (got.Count < body.Length)
        {
            int n = await conn.ReceiveAsync(bulk: true);
            Assert.That(n, Is.GreaterThan(0));
            capacities.Add(conn.BufferCapacity);
            got.AddRange(conn.DataMemory.ToArray());
            conn.Consume(conn.Buffered);
        }
        Assert.That(got.ToArray(), Is.EqualTo(body), "every byte, in order");
        Assert.That(capacities[0], Is.EqualTo(4096), "the first read: tune.bufsize");
        Assert.That(capacities[1], Is.EqualTo(4096 * BufferedSocket.BulkFactor), "once a read filled the buffer");

        // A read for a parser (a head) never gets more than tune.bufsize.
        await peer.SendAsync(new byte[] { 1, 2, 3 }.AsMemory(), SocketFlags.None);
        Assert.That(await conn.ReceiveAsync(expectData: true), Is.EqualTo(3));
        Assert.That(conn.BufferCapacity, Is.EqualTo(4096));
    }
}
