using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Worker.Forwarding;

namespace Proxy.Tests.Worker;

/// <summary>
/// <see cref="BufferedSocket.TryReceiveQueued"/>, the one speculative read of a new client connection: it takes what
/// is queued, and in every other case changes nothing, leaving the wait, EOF and errors to the usual receive.
/// </summary>
public class BufferedSocketFirstReadTests
{
    [Test]
    public async Task QueuedRequest_IsReadWithoutWaiting()
    {
        var (a, b) = await BufferedSocketTests.ConnectedPairAsync();
        using var peer = b;
        using var conn = new BufferedSocket(a, 16384);
        var request = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        await peer.SendAsync(request.AsMemory(), SocketFlags.None);
        await Poll.UntilAsync(() => a.Available == request.Length, "the request queued on the accepted side");

        Assert.That(conn.TryReceiveQueued(), Is.EqualTo(request.Length));
        Assert.That(conn.DataMemory.ToArray(), Is.EqualTo(request));
        Assert.That((conn.Buffered, conn.ReceivedEof), Is.EqualTo((request.Length, false)));
    }

    [Test]
    public async Task NothingQueued_ReadsNothing_HoldsNoBuffer_AndTheUsualReceiveStillWorks()
    {
        var (a, b) = await BufferedSocketTests.ConnectedPairAsync();
        using var peer = b;
        using var conn = new BufferedSocket(a, 16384);

        Assert.That(conn.TryReceiveQueued(), Is.EqualTo(0));
        Assert.That((conn.Buffered, conn.HoldsBuffer, conn.ReceivedEof), Is.EqualTo((0, false, false)));

        await peer.SendAsync(new byte[] { 1, 2, 3 }.AsMemory(), SocketFlags.None);
        Assert.That(await conn.ReceiveAsync(), Is.EqualTo(3));
    }

    [Test]
    public async Task PeerClosed_ReadsNothing_AndLeavesTheEofToTheUsualReceive()
    {
        var (a, b) = await BufferedSocketTests.ConnectedPairAsync();
        using var conn = new BufferedSocket(a, 16384);
        b.Dispose();
        await Poll.UntilAsync(() => a.Poll(0, SelectMode.SelectRead), "the FIN queued on the accepted side");

        Assert.That(conn.TryReceiveQueued(), Is.EqualTo(0));
        Assert.That((conn.ReceivedEof, conn.HoldsBuffer), Is.EqualTo((false, false)));
        Assert.That(await conn.ReceiveAsync(), Is.EqualTo(0));
        Assert.That(conn.ReceivedEof, Is.True);
    }

    [Test]
    public async Task PeerReset_ReadsNothing_AndTheNextReceiveFails_NotAnEof()
    {
        var (a, b) = await BufferedSocketTests.ConnectedPairAsync();
        using var conn = new BufferedSocket(a, 16384);
        b.LingerState = new LingerOption(true, 0);   // close with RST
        b.Dispose();
        await Poll.UntilAsync(() => a.Poll(0, SelectMode.SelectRead), "the RST queued on the accepted side");

        // The reset is consumed by this read: it must come back as the next receive's failure, not as a clean close.
        Assert.That(conn.TryReceiveQueued(), Is.EqualTo(0));
        Assert.That(conn.CanWaitIdle, Is.False);
        Assert.That(await conn.ReceiveAsync(), Is.EqualTo(-1));
        Assert.That(conn.ReceivedEof, Is.False);
    }

    [Test]
    public async Task ClosedSocket_ReadsNothing()
    {
        var (a, b) = await BufferedSocketTests.ConnectedPairAsync();
        using var peer = b;
        using var conn = new BufferedSocket(a, 16384);
        conn.Close();

        Assert.That(conn.TryReceiveQueued(), Is.EqualTo(0));
    }
}
