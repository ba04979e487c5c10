using System.Collections.Concurrent;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// Idle keep-alive connections to one server, shared by the worker's HTTP sessions (HAProxy's idle connection
/// pool: only a connection whose previous response was completely read comes back here; the backend's `http-reuse`
/// says which requests may take one, HttpServerConnection). Lock-free; a connection found dead on the way out is closed.
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

    /// <summary>
    /// Takes the oldest idle connection still alive (no FIN, no stray bytes), or null. <paramref name="provenOnly"/>
    /// (`http-reuse aggressive`, a session's first request): only one already reused; the others met on the way go
    /// back at the tail (at most once each), which leaves them for <see cref="Purge"/> a little later.
    /// </summary>
    public BufferedSocket? TryTake(bool provenOnly = false)
    {
        for (int skipped = 0; _idle.TryDequeue(out var c);)
        {
            Interlocked.Decrement(ref _count);
            if (!c.IsIdleAlive())
            {
                c.Dispose();
                continue;
            }
            if (!provenOnly || c.Reused) return c;
            Return(c);
            if (++skipped >= Volatile.Read(ref _count)) return null;
        }
        return null;
    }

    /// <summary>
    /// Closes connections idle for <paramref name="maxIdleMs"/> or more (HAProxy's `pool-purge-delay`, 5 s by
    /// default): a server keeps its own idle timer, and a connection it is about to close must not be reused.
    /// Called from the engine's timer only; takers running meanwhile are unaffected.
    /// </summary>
    public void Purge(long now, long maxIdleMs)
    {
        for (int n = Volatile.Read(ref _count); n > 0 && _idle.TryPeek(out var oldest); n--)
        {
            if (now - oldest.LastActivity < maxIdleMs) return;   // FIFO: the rest are younger
            if (!_idle.TryDequeue(out var c)) return;
            if (now - c.LastActivity < maxIdleMs)
            {
                _idle.Enqueue(c);   // a taker got the old one first; this one is young, put it back
                return;
            }
            Interlocked.Decrement(ref _count);
            c.Dispose();
        }
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
