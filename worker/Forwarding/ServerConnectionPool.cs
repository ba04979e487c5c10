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

    // Two FIFO queues, by whether the connection was already reused (BufferedSocket.Reused, fixed while it waits
    // here): `http-reuse aggressive` takes from the proven one alone without reordering the other, and each stays
    // oldest first, which Purge relies on.
    private readonly ConcurrentQueue<BufferedSocket> _proven = new();
    private readonly ConcurrentQueue<BufferedSocket> _unproven = new();
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
        (connection.Reused ? _proven : _unproven).Enqueue(connection);
    }

    /// <summary>
    /// Takes the oldest idle connection still alive (no FIN, no stray bytes), or null. <paramref name="provenOnly"/>
    /// (`http-reuse aggressive`, a session's first request): only one already reused.
    /// </summary>
    public BufferedSocket? TryTake(bool provenOnly = false)
    {
        while (provenOnly ? _proven.TryDequeue(out var c) : TryDequeueOldest(out c))
        {
            Interlocked.Decrement(ref _count);
            if (c.IsIdleAlive()) return c;
            c.Dispose();
        }
        return null;
    }

    /// <summary>The older of the two heads (a race with another taker may yield the other one: still an idle connection).</summary>
    private bool TryDequeueOldest(out BufferedSocket c)
    {
        bool hasProven = _proven.TryPeek(out var p);
        bool hasUnproven = _unproven.TryPeek(out var u);
        var first = hasProven && (!hasUnproven || p!.LastActivity <= u!.LastActivity) ? _proven : _unproven;
        return first.TryDequeue(out c!) || (first == _proven ? _unproven : _proven).TryDequeue(out c!);
    }

    /// <summary>
    /// Closes connections idle for <paramref name="maxIdleMs"/> or more (HAProxy's `pool-purge-delay`, 5 s by
    /// default): a server keeps its own idle timer, and a connection it is about to close must not be reused.
    /// Called from the engine's timer only; takers running meanwhile are unaffected.
    /// </summary>
    public void Purge(long now, long maxIdleMs)
    {
        Purge(_proven, now, maxIdleMs);
        Purge(_unproven, now, maxIdleMs);
    }

    private void Purge(ConcurrentQueue<BufferedSocket> idle, long now, long maxIdleMs)
    {
        for (int n = Volatile.Read(ref _count); n > 0 && idle.TryPeek(out var oldest); n--)
        {
            if (now - oldest.LastActivity < maxIdleMs) return;   // FIFO: the rest are younger
            if (!idle.TryDequeue(out var c)) return;
            if (now - c.LastActivity < maxIdleMs)
            {
                idle.Enqueue(c);   // a taker got the old one first; this one is young, put it back
                return;
            }
            Interlocked.Decrement(ref _count);
            c.Dispose();
        }
    }

    /// <summary>Closes every idle connection (engine disposal).</summary>
    public void Clear()
    {
        while (_proven.TryDequeue(out var c) || _unproven.TryDequeue(out c))
        {
            Interlocked.Decrement(ref _count);
            c.Dispose();
        }
    }
}
