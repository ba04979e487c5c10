using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Worker.Forwarding;

namespace Proxy.Tests.Worker;

/// <summary>ServerConnectionPool: oldest first, and `pool-purge-delay` reaches every idle connection.</summary>
public class ServerConnectionPoolTests
{
    private TcpListener _listener = null!;
    private readonly List<Socket> _open = [];

    [SetUp]
    public void Listen()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
    }

    [TearDown]
    public void Close()
    {
        foreach (var s in _open) s.Dispose();
        _open.Clear();
        _listener.Stop();
    }

    /// <summary>A live idle server connection, last active at <paramref name="lastActivity"/>.</summary>
    private BufferedSocket Connection(long lastActivity, bool reused)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect((IPEndPoint)_listener.LocalEndpoint);
        _open.Add(_listener.AcceptSocket());
        return new BufferedSocket(client, 4096) { LastActivity = lastActivity, Reused = reused };
    }

    [Test]
    public void Aggressive_TakingAProvenConnection_LeavesOlderOnesInReachOfThePurge()
    {
        long now = Environment.TickCount64;
        var pool = new ServerConnectionPool();
        var old = Connection(now - 10_000, reused: false);
        var proven = Connection(now, reused: true);
        var young = Connection(now, reused: false);
        pool.Return(old);
        pool.Return(proven);
        pool.Return(young);

        Assert.That(pool.TryTake(provenOnly: true), Is.SameAs(proven));
        pool.Purge(now, 5_000);
        Assert.That(pool.IdleCount, Is.EqualTo(1));
        Assert.That(old.IsIdleAlive(), Is.False, "idle past the purge delay: closed");
        Assert.That(pool.TryTake(), Is.SameAs(young));
        proven.Dispose();
        young.Dispose();
    }

    [Test]
    public void TryTake_GivesTheOldestFirst_ProvenOrNot()
    {
        long now = Environment.TickCount64;
        var pool = new ServerConnectionPool();
        var a = Connection(now - 30, reused: true);
        var b = Connection(now - 20, reused: false);
        var c = Connection(now - 10, reused: true);
        pool.Return(a);
        pool.Return(b);
        pool.Return(c);
        Assert.That(new[] { pool.TryTake(), pool.TryTake(), pool.TryTake(), pool.TryTake() }, Is.EqualTo(new[] { a, b, c, null }));
        Assert.That(pool.TryTake(provenOnly: true), Is.Null);
        a.Dispose();
        b.Dispose();
        c.Dispose();
    }
}
