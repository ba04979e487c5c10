using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Worker.Io;

namespace Proxy.Tests.Worker;

/// <summary>
/// A listener accepted on the worker's loop (worker/Io/LoopAcceptor.cs, issue 15), on real sockets over 127.0.0.1:
/// accept4 until EAGAIN with the peer's address, a parked wait woken by a new connection, a stop that fails a parked
/// wait, and the listener leaving the epoll set on dispose while its descriptor stays open (a shared listener).
/// </summary>
public class LoopAcceptorTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        return listener;
    }

    private static Socket Connect(Socket listener)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        return client;
    }

    /// <summary>Finds the queue empty (EAGAIN) and parks on it, as the accept loop does.</summary>
    private static ValueTask<SocketError> ParkOnEmpty(LoopAcceptor acceptor)
    {
        int seen = acceptor.Sequence;
        Assert.That(acceptor.TryAccept(out int error), Is.Null);
        Assert.That(error, Is.EqualTo(Tmds.Linux.LibC.EAGAIN), "the listener is non-blocking: an empty queue never blocks the loop");
        return acceptor.WaitAsync(seen);
    }

    [Test]
    public void AcceptsEveryQueuedConnection_ThenEagain_WithEachPeersAddress()
    {
        using var listener = Listen();
        var acceptor = LoopAcceptor.TryCreate(listener)!;
        Assert.That(acceptor, Is.Not.Null, "the loop started");
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++) clients.Add(Connect(listener));
            for (int i = 0; i < 3; i++)
            {
                using var accepted = acceptor.TryAccept(out int error);
                Assert.That(accepted, Is.Not.Null, $"connection {i}: errno {error}");
                Assert.That(accepted!.RemoteEndPoint, Is.EqualTo(clients[i].LocalEndPoint), "the peer, from accept4's address");
                Assert.That(accepted.LocalEndPoint, Is.EqualTo(listener.LocalEndPoint));
                Assert.That(accepted.Connected, Is.True);
                clients[i].Send([(byte)i]);
                var one = new byte[1];
                Assert.That(accepted.Receive(one), Is.EqualTo(1));
                Assert.That(one[0], Is.EqualTo((byte)i), "the connection carries bytes");
            }
            Assert.That(acceptor.TryAccept(out int empty), Is.Null);
            Assert.That(empty, Is.EqualTo(Tmds.Linux.LibC.EAGAIN), "the listener is non-blocking: an empty queue never blocks the loop");
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
            acceptor.Dispose();
        }
    }

    [Test]
    public async Task AParkedWait_WakesOnANewConnection_ManyTimes()
    {
        using var listener = Listen();
        using var acceptor = LoopAcceptor.TryCreate(listener)!;
        // Each round: the queue is empty, the wait parks, and the next connection must wake it (edge-triggered:
        // a missed edge would hang here). The client connects right away, racing the park.
        for (int i = 0; i < 50; i++)
        {
            var wait = ParkOnEmpty(acceptor);
            using var client = Connect(listener);
            Assert.That(await wait.AsTask().WaitAsync(Limit), Is.EqualTo(SocketError.Success), $"round {i}");
            using var accepted = acceptor.TryAccept(out int error);
            Assert.That(accepted, Is.Not.Null, $"round {i}: errno {error}");
        }
    }

    [Test]
    public async Task Stop_FailsAParkedWait_AndEveryLaterOne()
    {
        using var listener = Listen();
        using var acceptor = LoopAcceptor.TryCreate(listener)!;
        var wait = ParkOnEmpty(acceptor);
        Assert.That(wait.IsCompleted, Is.False, "nothing queued: the wait parks");
        await Task.Run(acceptor.Stop);
        Assert.That(await wait.AsTask().WaitAsync(Limit), Is.EqualTo(SocketError.OperationAborted));
        Assert.That(acceptor.WaitAsync(acceptor.Sequence).Result, Is.EqualTo(SocketError.OperationAborted));
    }

    [Test]
    public async Task Dispose_TakesTheListenerOutOfTheEpollSet_ThoughItsDescriptorStaysOpen()
    {
        using var listener = Listen();
        var acceptor = LoopAcceptor.TryCreate(listener)!;
        int fd = (int)listener.SafeHandle.DangerousGetHandle();
        var wait = ParkOnEmpty(acceptor);   // joins the epoll set
        Assert.That(EpollWatches(fd), Is.True, "the listener is in the loop's epoll set while it accepts");
        acceptor.Stop();
        Assert.That(await wait.AsTask().WaitAsync(Limit), Is.EqualTo(SocketError.OperationAborted));
        acceptor.Dispose();
        // Another process (the supervisor, the next generation) still holds the open file: only an explicit
        // EPOLL_CTL_DEL keeps its connections from waking this worker's loop.
        Assert.That(EpollWatches(fd), Is.False, "removed from the epoll set");
        using var client = Connect(listener);   // still listening
    }

    /// <summary>Whether an epoll instance of this process watches descriptor <paramref name="fd"/> (/proc/self/fdinfo: "tfd: N").</summary>
    private static bool EpollWatches(int fd)
    {
        foreach (var path in Directory.GetFiles("/proc/self/fdinfo"))
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (IOException)
            {
                continue;   // closed meanwhile
            }
            foreach (var line in text.Split('\n'))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 2 && fields[0] == "tfd:" && fields[1] == fd.ToString()) return true;
            }
        }
        return false;
    }
}
