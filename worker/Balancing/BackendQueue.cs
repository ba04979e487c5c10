using System.Collections.Concurrent;
using System.Net;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Balancing;

/// <summary>
/// Server `maxconn` permits of one backend and the FIFO queue of requests waiting for one (doc/configuration.txt
/// 5.2 "maxconn", 4.2 "timeout queue"). HAProxy keeps a queue per server (for persistence) and one per backend;
/// without persistence the backend queue is enough: a request waits there until any usable server frees a permit.
///
/// A wrapper around <see cref="ServerPicker"/>: the balancer chooses, this only checks the chosen server's
/// permits and falls back to another server of the same tier with a free one (HAProxy's balancers skip full servers).
///
/// Permits are counted instance-wide (ServerRuntime.Permits: every worker's share of the counts file), so the server
/// never sees more than `maxconn` across workers; each worker keeps its own queue, re-offered free permits on every
/// release here and on the engine's timer (a permit another worker frees is polled, not signalled). Across workers
/// the order is not FIFO: a worker with nobody queued may take a permit before another worker's queue head.
///
/// Fast path (a free permit, nobody queued): one increment of our own count and a read of every worker's, no lock, no allocation. Waiting
/// allocates one <see cref="QueueTicket"/>. Dequeuing runs in one thread at a time (a combining counter instead of a
/// lock: whoever finds it taken leaves its request to the running dispatcher), so the head can be inspected safely.
/// </summary>
internal sealed class BackendQueue
{
    private readonly BackendRuntime _be;
    private readonly ConcurrentQueue<QueueTicket> _tickets = new();
    private readonly bool _hasLimits;
    private readonly long _timeoutMs;
    private int _dispatchRequests;

    public BackendQueue(BackendRuntime be)
    {
        _be = be;
        foreach (var s in be.Servers) _hasLimits |= s.CountsPermits;
        // `timeout queue`, else `timeout connect` (HAProxy, for compatibility with versions that had no queue timeout).
        _timeoutMs = Milliseconds.From(be.Config.Timeouts.Queue ?? be.Config.Timeouts.Connect);
    }

    /// <summary>How long a request may wait for a permit, in milliseconds (0: no limit).</summary>
    public long TimeoutMs => _timeoutMs;

    /// <summary>
    /// Takes a `maxconn` permit for a connection (mode tcp) or a request (mode http, <paramref name="request"/> set).
    /// Decided at once (no allocation): returns null with <paramref name="server"/> the server whose permit is taken,
    /// or null when no server is usable. Otherwise every server is full: returns the ticket of the request's place in
    /// the queue, whose task gives the server (or null after `timeout queue` or a cancel); the caller shows it to its
    /// timer (<see cref="QueueTicket.ExpireIfDue"/>) and its abort (<see cref="QueueTicket.Cancel"/>). Either way the
    /// permit goes back with <see cref="Release"/>; no server is answered 503 in mode http, closed in mode tcp
    /// (HAProxy counts econ on the backend either way).
    /// </summary>
    public QueueTicket? Acquire(IPEndPoint? client, Http.HttpHead? request, out ServerRuntime? server, ServerRuntime? assigned = null,
        ReadOnlySpan<byte> payload = default)
    {
        server = null;
        // Persistence (a cookie, `use-server`) names the server, even a down one with `option persist` / `force-persist`;
        // not counted in lbtot (HAProxy counts load-balanced picks only). A full one falls back to balancing: there
        // is no per-server queue here (README, "Persistence").
        if (assigned is not null && (!_hasLimits || TryTakePermit(assigned)))
        {
            server = assigned;
            return null;
        }
        if (!_hasLimits)
        {
            server = _be.Picker.Pick(client, request, payload, null);
            return null;
        }
        // Requests already waiting go first (HAProxy's assign_server: a queue on the backend means every server is full).
        if (Volatile.Read(ref _be.Counters.qcur) == 0)
        {
            var picked = _be.Picker.Pick(client, request, payload, null);
            if (picked is null) return null;
            if (TryTakePermit(picked))
            {
                server = picked;
                return null;
            }
            if (TakeFreePermit(picked, null) is { } other)
            {
                MoveLoadBalancedCount(picked, other);
                server = other;
                return null;
            }
            // Every server is full: the request is counted on the server that finally takes it, at dispatch.
            ProxyCounters.Add(ref picked.Counters.lbtot, -1);
            ProxyCounters.Add(ref _be.Counters.lbtot, -1);
        }
        else if (_be.ActiveUsable + _be.BackupUsable == 0)
        {
            return null;   // nothing could ever serve it: 503 now, not after `timeout queue`
        }
        return Enqueue();
    }

    /// <summary>
    /// Redispatch (`option redispatch`): a server other than <paramref name="current"/> with a free permit taken, or
    /// null when there is none; never waits (the session then keeps retrying <paramref name="current"/>, whose permit
    /// it still holds).
    /// </summary>
    public ServerRuntime? TryAcquireOther(IPEndPoint? client, Http.HttpHead? request, ServerRuntime current)
    {
        var picked = _be.Picker.Pick(client, request, current);
        if (picked is null || picked == current) return null;
        if (!_hasLimits || TryTakePermit(picked)) return picked;
        if (TakeFreePermit(picked, current) is { } other)
        {
            MoveLoadBalancedCount(picked, other);
            return other;
        }
        return null;
    }

    /// <summary>Gives back the permit of <paramref name="server"/> (a connection or request ended) and hands it to the queue head.</summary>
    public void Release(ServerRuntime server)
    {
        if (!server.CountsPermits) return;
        server.Permits.Release();
        if (!_tickets.IsEmpty) Dispatch(server);
    }

    /// <summary>
    /// Called on the engine's timer: `maxconn` counts are instance-wide, and a permit freed by another worker is not
    /// signalled here, so waiting requests are offered the free permits again (a no-op when nobody waits).
    /// </summary>
    public void RetryWaiting()
    {
        if (!_tickets.IsEmpty) Dispatch(null);
    }

    /// <summary>
    /// Gives free permits to the oldest waiting requests, <paramref name="preferred"/>'s first (the server that just
    /// freed one). Called after a release, an enqueue, an expiry and a change of usable servers. Only one thread
    /// dequeues at a time; a caller that finds another one running counts its request, and that one loops again.
    /// </summary>
    public void Dispatch(ServerRuntime? preferred)
    {
        if (Interlocked.Increment(ref _dispatchRequests) != 1) return;
        int seen = 1;
        while (true)
        {
            DispatchOnce(preferred);
            preferred = null;
            int left = Interlocked.Add(ref _dispatchRequests, -seen);
            if (left == 0) return;
            seen = left;
        }
    }

    /// <summary>
    /// Called once per ticket when it is granted (<paramref name="server"/> set), expired or cancelled: the queue is
    /// one shorter; a granted request's wait counts toward qtime of the backend and of its server.
    /// </summary>
    internal void OnTicketClaimed(long waitedMs, ServerRuntime? server)
    {
        Interlocked.Decrement(ref _be.Counters.qcur);
        if (server is null) return;
        ProxyCounters.Add(ref _be.Counters.qtimeMs, waitedMs);
        ProxyCounters.Add(ref server.Counters.qtimeMs, waitedMs);
    }

    private QueueTicket Enqueue()
    {
        var ticket = new QueueTicket(this, _timeoutMs > 0 ? Environment.TickCount64 + _timeoutMs : 0);
        _be.Counters.EnterQueue();
        _tickets.Enqueue(ticket);
        // A permit freed between the failed attempt and the enqueue would otherwise be missed.
        Dispatch(null);
        return ticket;
    }

    /// <summary>Single consumer (see <see cref="Dispatch"/>): pairs the oldest live ticket with a free permit until either runs out.</summary>
    private void DispatchOnce(ServerRuntime? preferred)
    {
        while (true)
        {
            // Expired and cancelled tickets are dropped when they reach the head (they expire in FIFO order, since
            // every ticket of a backend has the same timeout, so the queue never keeps a long tail of dead ones).
            while (_tickets.TryPeek(out var head) && head.IsClaimed) _tickets.TryDequeue(out _);
            if (_tickets.IsEmpty) return;
            var server = TakeFreePermit(preferred, null);
            if (server is null) return;
            // Only this thread dequeues, so the head is still the ticket just peeked (or one behind it was claimed meanwhile).
            if (!_tickets.TryDequeue(out var ticket) || !ticket.TryGrant(server))
            {
                if (server.CountsPermits) server.Permits.Release();   // claimed meanwhile: the permit goes back
                continue;
            }
            ProxyCounters.Increment(ref server.Counters.lbtot);
            ProxyCounters.Increment(ref _be.Counters.lbtot);
        }
    }

    /// <summary>Takes one permit of <paramref name="server"/> if the instance has a free one under its dynamic limit (always, for a server without maxconn).</summary>
    private static bool TryTakePermit(ServerRuntime server) => server.TryTakePermit();

    /// <summary>
    /// A server that may take new traffic now (the active ones when any is usable, else the first usable backup, as
    /// ServerPicker.Rebuild decides) with a permit taken for the caller: <paramref name="start"/> itself when it is
    /// eligible, else the next ones in declaration order after it; never <paramref name="exclude"/>. Null when all are full.
    /// </summary>
    private ServerRuntime? TakeFreePermit(ServerRuntime? start, ServerRuntime? exclude)
    {
        var servers = _be.Servers;
        bool activeTier = _be.ActiveUsable > 0;
        if (!activeTier)
        {
            foreach (var s in servers)
            {
                if (!s.Config.Backup || !s.IsUsable) continue;
                return s != exclude && TryTakePermit(s) ? s : null;
            }
            return null;
        }
        int first = start?.Index ?? 0;
        for (int i = 0; i < servers.Length; i++)
        {
            var s = servers[(first + i) % servers.Length];
            if (s == exclude || s.Config.Backup || !s.IsUsable) continue;
            if (TryTakePermit(s)) return s;
        }
        return null;
    }

    /// <summary>The balancer counted lbtot for the server it chose; the connection goes to <paramref name="to"/> instead.</summary>
    private static void MoveLoadBalancedCount(ServerRuntime from, ServerRuntime to)
    {
        ProxyCounters.Add(ref from.Counters.lbtot, -1);
        ProxyCounters.Increment(ref to.Counters.lbtot);
    }
}
