using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Worker.Forwarding;
using Proxy.Worker.Io;

namespace Proxy.Tests.Worker;

/// <summary>
/// The worker's own readiness loop (worker/Io, issue 15) under a BufferedSocket, on real socket pairs over 127.0.0.1:
/// a parked receive or send wakes on readiness, a close from another thread fails it, an event racing the park is
/// never lost, shutdown(SHUT_RD) ends a parked receive as an EOF, and a peer's reset is an error, not an EOF.
/// </summary>
public class IoLoopTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    /// <summary>A connected pair: the accepted side (never touched by .NET's async engine) on the loop, and its peer.</summary>
    private static async Task<(BufferedSocket conn, Socket peer)> LoopPairAsync(int bufferSize = 16384)
    {
        var (a, b) = await BufferedSocketTests.ConnectedPairAsync();
        var conn = new BufferedSocket(b, bufferSize);
        Assert.That(conn.UseIoLoop(), Is.True, "the loop started");
        return (conn, a);
    }

    [Test]
    public async Task ParkedIdleWait_WakesOnData_AndTheReceiveReadsIt()
    {
        var (conn, peer) = await LoopPairAsync();
        using var _ = conn;
        using var __ = peer;
        var wait = conn.WaitIdleAsync();
        Assert.That(wait.IsCompleted, Is.False, "nothing sent yet: the wait parks");
        Assert.That(conn.HoldsBuffer, Is.False);
        peer.Send([1, 2, 3]);
        conn.EndIdleWait(await wait.AsTask().WaitAsync(Limit));
        Assert.That(await conn.ReceiveAsync().AsTask().WaitAsync(Limit), Is.EqualTo(3));
        Assert.That(conn.DataMemory.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public async Task ParkedReceive_WakesOnData_ManyTimes()
    {
        var (conn, peer) = await LoopPairAsync();
        using var _ = conn;
        using var __ = peer;
        // Each round: the receive drains, parks, and the peer's next byte must wake it (edge-triggered: a missed
        // edge would hang here). The peer sends right away, racing the park.
        for (int i = 0; i < 500; i++)
        {
            var receive = conn.ReceiveAsync(expectData: true);
            peer.Send([(byte)i]);
            Assert.That(await receive.AsTask().WaitAsync(Limit), Is.EqualTo(1), $"round {i}");
            conn.Consume(1);
        }
    }

    [Test]
    public async Task CloseWhileParked_FailsTheParkedReceive()
    {
        var (conn, peer) = await LoopPairAsync();
        using var __ = peer;
        var receive = conn.ReceiveAsync(expectData: true);
        Assert.That(receive.IsCompleted, Is.False);
        conn.Close();   // as the engine's timer does on an abort
        Assert.That(await receive.AsTask().WaitAsync(Limit), Is.EqualTo(-1));
        conn.Dispose();
    }

    [Test]
    public async Task CloseWhileParked_FailsTheParkedSend_AndAFullBufferParksIt()
    {
        var (conn, peer) = await LoopPairAsync();
        using var __ = peer;
        peer.ReceiveBufferSize = 4096;
        var big = new byte[16 << 20];   // more than both socket buffers hold: the send must park on EPOLLOUT
        var send = conn.SendAsync(big);
        await Poll.UntilAsync(() => peer.Available > 0, "the first bytes reached the peer");
        Assert.That(send.IsCompleted, Is.False, "the socket buffer is full: the send parks");
        conn.Close();
        Assert.That(await send.AsTask().WaitAsync(Limit), Is.False);
        conn.Dispose();
    }

    [Test]
    public async Task ParkedSend_ResumesWhenThePeerReads()
    {
        var (conn, peer) = await LoopPairAsync();
        using var _ = conn;
        using var __ = peer;
        var big = new byte[4 << 20];
        var send = conn.SendAsync(big).AsTask();
        var buffer = new byte[65536];
        long total = 0;
        while (total < big.Length)
        {
            int n = await peer.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Limit);
            Assert.That(n, Is.GreaterThan(0));
            total += n;
        }
        Assert.That(await send.WaitAsync(Limit), Is.True);
    }

    [Test]
    public async Task ShutdownReceive_WakesAParkedReceive_WithAnEof()
    {
        var (conn, peer) = await LoopPairAsync();
        using var _ = conn;
        using var __ = peer;
        var receive = conn.ReceiveAsync(expectData: true);
        Assert.That(receive.IsCompleted, Is.False);
        conn.ShutdownReceive();   // `timeout http-request`, tarpit: the engine's timer ends the wait this way
        Assert.That(await receive.AsTask().WaitAsync(Limit), Is.EqualTo(0));
        Assert.That(conn.ReceivedEof, Is.True);
    }

    [Test]
    public async Task PeerReset_FailsAParkedReceive_NotAnEof()
    {
        var (conn, peer) = await LoopPairAsync();
        using var _ = conn;
        var receive = conn.ReceiveAsync(expectData: true);
        Assert.That(receive.IsCompleted, Is.False);
        peer.LingerState = new LingerOption(true, 0);   // close with RST
        peer.Dispose();
        Assert.That(await receive.AsTask().WaitAsync(Limit), Is.EqualTo(-1));
        Assert.That(conn.ReceivedEof, Is.False);
    }

    [Test]
    public async Task PeerFin_IsAnEof()
    {
        var (conn, peer) = await LoopPairAsync();
        using var _ = conn;
        var wait = conn.WaitIdleAsync();
        peer.Shutdown(SocketShutdown.Send);
        conn.EndIdleWait(await wait.AsTask().WaitAsync(Limit));
        Assert.That(await conn.ReceiveAsync().AsTask().WaitAsync(Limit), Is.EqualTo(0));
        Assert.That(conn.ReceivedEof, Is.True);
        peer.Dispose();
    }

    [Test]
    public void Waiter_AnEventBetweenTheTryAndThePark_CompletesThePark()
    {
        // The lost-wakeup race made deterministic: the count is read before the syscall, the event comes after the
        // syscall found nothing and before the park; the park must not wait for another event.
        var loop = IoLoop.Shared!;
        var registration = loop.Rent();
        int generation = registration.Generation;
        try
        {
            int seen = registration.Read.Sequence;
            registration.OnEvent(generation, Tmds.Linux.LibC.EPOLLIN);
            var wait = registration.Read.WaitAsync(seen, registration, generation);
            Assert.That((wait.IsCompleted, wait.Result), Is.EqualTo((true, SocketError.Success)));
        }
        finally
        {
            registration.Return(generation);
        }
    }

    [Test]
    public void Registration_AnEventForAnEarlierLending_IsDropped_AndAStaleCloseDoesNothing()
    {
        var loop = IoLoop.Shared!;
        var first = loop.Rent();
        int old = first.Generation;
        first.Return(old);
        // Lent again (the free list gives the same entry back first): the earlier generation's event and close miss it.
        var registration = loop.Rent();
        int generation = registration.Generation;
        try
        {
            Assert.That(registration, Is.SameAs(first));
            Assert.That(generation, Is.Not.EqualTo(old));
            int seen = registration.Read.Sequence;
            var wait = registration.Read.WaitAsync(seen, registration, generation);
            Assert.That(wait.IsCompleted, Is.False);
            registration.OnEvent(old, Tmds.Linux.LibC.EPOLLIN);
            registration.Close(old);
            Assert.That(wait.IsCompleted, Is.False, "an earlier lending's event and close do not wake this one");
            registration.OnEvent(generation, Tmds.Linux.LibC.EPOLLIN);
            Assert.That((wait.IsCompleted, wait.Result), Is.EqualTo((true, SocketError.Success)));
        }
        finally
        {
            registration.Return(generation);
        }
    }

    [Test]
    public void Waiter_AWakeForAnotherGeneration_NeverCompletesTheParkedOne()
    {
        // A close (or event) of lending G that lost the race to the owner's return must not complete the operation
        // lending G+1 parked on the same entry: the waiter completes only for the generation that parked.
        var registration = IoLoop.Shared!.Rent();
        int generation = registration.Generation;
        try
        {
            var wait = registration.Write.WaitAsync(registration.Write.Sequence, registration, generation);
            Assert.That(wait.IsCompleted, Is.False);
            registration.Write.WakeForClose(generation + 1);
            registration.Write.Signal(generation + 1);
            Assert.That(wait.IsCompleted, Is.False, "a wake for another generation left the parked operation alone");
            registration.Write.WakeForClose(generation);
            var task = wait.AsTask();
            Assert.That(task.Wait(Limit), Is.True);
            Assert.That(task.Result, Is.EqualTo(SocketError.OperationAborted));
        }
        finally
        {
            registration.Return(generation);
        }
    }

    [Test]
    public async Task Waiters_ReadAndWriteParkedTogether_EachWakesItsOwn_AcrossTheTokenWrap()
    {
        // Both directions are fields of one registration, which is the IValueTaskSource of both parks: the token's
        // lowest bit says which (read versions even, write odd). Parked together, a read event completes the read and
        // leaves the write parked, and the other way round; 70,000 cycles take the short versions past their wrap.
        var registration = IoLoop.Shared!.Rent();
        int generation = registration.Generation;
        try
        {
            for (int i = 0; i < 70_000; i++)
            {
                var read = registration.Read.WaitAsync(registration.Read.Sequence, registration, generation);
                var write = registration.Write.WaitAsync(registration.Write.Sequence, registration, generation);
                Assert.That((read.IsCompleted, write.IsCompleted), Is.EqualTo((false, false)), $"cycle {i}: both parked");
                bool readFirst = i % 2 == 0;
                registration.OnEvent(generation, readFirst ? Tmds.Linux.LibC.EPOLLIN : Tmds.Linux.LibC.EPOLLOUT);
                Assert.That((read.IsCompleted, write.IsCompleted), Is.EqualTo((readFirst, !readFirst)), $"cycle {i}: only the signalled one woke");
                Assert.That(readFirst ? await read : await write, Is.EqualTo(SocketError.Success));
                registration.OnEvent(generation, readFirst ? Tmds.Linux.LibC.EPOLLOUT : Tmds.Linux.LibC.EPOLLIN);
                Assert.That((read.IsCompleted, write.IsCompleted), Is.EqualTo((true, true)), $"cycle {i}: the other one woke too");
                Assert.That(readFirst ? await write : await read, Is.EqualTo(SocketError.Success));
            }
        }
        finally
        {
            registration.Return(generation);
        }
    }

    [Test]
    public void EventFlags_CountOnlyForTheLendingTheyCameFor()
    {
        // A connect trusts EPOLLOUT alone without asking the kernel, and a server connection whose peer hung up closes
        // without a reset: flags the loop recorded for lending G (it may still be or-ing them when another thread lends
        // the entry again) must read as none for any other lending.
        var registration = IoLoop.Shared!.Rent();
        int generation = registration.Generation;
        try
        {
            Assert.That(registration.WriteEventsOf(generation), Is.Zero);
            Assert.That(registration.PeerClosedIn(generation), Is.False);
            registration.OnEvent(generation, Tmds.Linux.LibC.EPOLLOUT | Tmds.Linux.LibC.EPOLLRDHUP);
            Assert.That(registration.WriteEventsOf(generation), Is.EqualTo(Tmds.Linux.LibC.EPOLLOUT));
            Assert.That(registration.PeerClosedIn(generation), Is.True);
            Assert.That(registration.WriteEventsOf(generation + 1), Is.Zero, "another lending's flags read as none");
            Assert.That(registration.PeerClosedIn(generation + 1), Is.False);
            registration.OnEvent(generation, Tmds.Linux.LibC.EPOLLERR);
            Assert.That(registration.WriteEventsOf(generation), Is.EqualTo(Tmds.Linux.LibC.EPOLLOUT | Tmds.Linux.LibC.EPOLLERR), "or-ed");
        }
        finally
        {
            registration.Return(generation);
        }
    }

    [Test]
    public void Return_WhileAnOperationIsStillParked_KeepsTheEntryOutOfTheTable()
    {
        // Returned with a parked read whose result is not taken yet: lending the entry again would reset the waiter
        // under that continuation. The entry goes back only once the result is taken.
        var loop = IoLoop.Shared!;
        var registration = loop.Rent();
        int generation = registration.Generation;
        var wait = registration.Read.WaitAsync(registration.Read.Sequence, registration, generation);
        registration.Return(generation);   // the close completes the park; its result is not taken yet
        var next = loop.Rent();
        try
        {
            Assert.That(next, Is.Not.SameAs(registration), "an entry with an untaken result is not lent again");
        }
        finally
        {
            next.Return(next.Generation);
        }
        var task = wait.AsTask();
        Assert.That(task.Wait(Limit), Is.True);
        Assert.That(task.Result, Is.EqualTo(SocketError.OperationAborted));
    }

    [Test]
    public void AnEpollAddFailure_IsNoBufferSpace_NotAnAbort()
    {
        Assert.That(BufferedSocket.AddError(Tmds.Linux.LibC.ENOSPC), Is.EqualTo(SocketError.NoBufferSpaceAvailable));
        Assert.That(BufferedSocket.AddError(Tmds.Linux.LibC.ENOMEM), Is.EqualTo(SocketError.NoBufferSpaceAvailable));
        Assert.That(BufferedSocket.AddError(Tmds.Linux.LibC.EBADF), Is.EqualTo(SocketError.OperationAborted));
    }
}

/// <summary>A server connection's connect on the loop (ServerConnector for plain `mode http` servers).</summary>
public class IoLoopConnectTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Test]
    public async Task Connect_ToAListener_Succeeds_AndTheConnectionCarriesBytes()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);
        using var conn = new BufferedSocket(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), 16384);
        Assert.That(conn.UseIoLoop(), Is.True);
        Assert.That(await conn.ConnectAsync(listener.LocalEndPoint!).AsTask().WaitAsync(Limit), Is.EqualTo(SocketError.Success));
        using var peer = await listener.AcceptAsync();
        Assert.That(await conn.SendAsync(new byte[] { 7 }).AsTask().WaitAsync(Limit), Is.True);
        var one = new byte[1];
        Assert.That(await peer.ReceiveAsync(one.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Limit), Is.EqualTo(1));
        // The response is parked for first (nothing can be queued before the connection existed), then read.
        var receive = conn.ReceiveAsync(expectData: true);
        peer.Send([8, 9]);
        Assert.That(await receive.AsTask().WaitAsync(Limit), Is.EqualTo(2));
    }

    [Test]
    public async Task Connect_ToAClosedPort_IsRefused_AsAValue()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));   // bound, never listening: refused
            port = ((System.Net.IPEndPoint)probe.LocalEndPoint!).Port;
            using var conn = new BufferedSocket(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), 16384);
            Assert.That(conn.UseIoLoop(), Is.True);
            var result = await conn.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port)).AsTask().WaitAsync(Limit);
            Assert.That(result, Is.EqualTo(SocketError.ConnectionRefused));
        }
    }

    [Test]
    public async Task CloseWhileConnecting_FailsTheParkedConnect()
    {
        // 192.0.2.1 (TEST-NET-1, RFC 5737) is not routed: the connect stays in progress until closed, as under
        // `timeout connect`. Where the box has no route at all, the connect fails at once instead: also a failure.
        using var conn = new BufferedSocket(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), 16384);
        Assert.That(conn.UseIoLoop(), Is.True);
        var connect = conn.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("192.0.2.1"), 9));
        conn.Close();
        Assert.That(await connect.AsTask().WaitAsync(Limit), Is.Not.EqualTo(SocketError.Success));
    }

    [Test]
    public async Task AnErrorWake_DuringAConnect_AsksTheKernel_AndParksAgainWhileInProgress()
    {
        // A listener whose accept queue is full drops the next SYN: that connect stays in SYN_SENT, where SO_ERROR is
        // 0. EPOLLOUT alone ends a connect without a syscall (the kernel gives a SYN_SENT socket no EPOLLOUT, and an
        // earlier lending's events never reach this one: IoRegistration's generations); any other wake asks the
        // kernel (SO_ERROR, then getpeername), which says the connect is still in progress: it parks again.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);   // the queue holds two: fill it
        using var fill1 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var fill2 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        fill1.Connect(listener.LocalEndPoint!);
        fill2.Connect(listener.LocalEndPoint!);
        var conn = new BufferedSocket(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), 16384);
        Assert.That(conn.UseIoLoop(), Is.True);
        var connect = conn.ConnectAsync(listener.LocalEndPoint!);
        Assert.That(connect.IsCompleted, Is.False, "setup: the accept queue is full, the SYN is dropped");
        var (registration, generation) = conn.IoLending;
        registration!.OnEvent(generation, Tmds.Linux.LibC.EPOLLERR);   // runs the connect's continuation inline
        Assert.That(connect.IsCompleted, Is.False, "still in SYN_SENT: the connect parks again");
        conn.Close();
        Assert.That(await connect.AsTask().WaitAsync(Limit), Is.EqualTo(SocketError.OperationAborted));
        conn.Dispose();
    }
}
