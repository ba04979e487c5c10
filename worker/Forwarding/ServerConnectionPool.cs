using System.Collections.Concurrent;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// Idle keep-alive connections to one server, shared by the worker's HTTP sessions (HAProxy's idle connection
/// pool with `http-reuse safe`: only a connection whose previous response was completely read comes back here,
/// and a session's first request never takes one). Lock-free; a connection found dead on the way out is closed.
/// </summary>
internal sealed class ServerConnectionPool
{
    /// <summary>Idle connections kept per server and worker (HAProxy's `pool-max-conn` is unlimited by default).</summary>
    public const int MaxIdle = 64;

    private readonly ConcurrentQueue<BufferedSocket> _idle = new();
    private int _count;

    public int IdleCount => Volatile.Read(ref _count);

    /// <summary>Parks a connection for reuse; closes it instead when the pool is full.</summary>
    public void Return(BufferedSocket connection)
    {
        if (Interlocked.Increment(ref _count) > MaxIdle)
        {
            Interlocked.Decrement(ref _count);
            connection.Dispose();
            return;
        }
        _idle.Enqueue(connection);
    }

    /// <summary>Takes the oldest idle connection still alive (no FIN, no stray bytes), or null.</summary>
    public BufferedSocket? TryTake()
    {
        while (_idle.TryDequeue(out var c))
        {
            Interlocked.Decrement(ref _count);
            if (c.IsIdleAlive()) return c;
            c.Dispose();
        }
        return null;
    }

    /// <summary>Closes every idle connection (engine disposal).</summary>
    public void Clear()
    {
        while (_idle.TryDequeue(out var c))
        {
            Interlocked.Decrement(ref _count);
            c.Dispose();
        }
    }
}
