namespace Proxy.Worker.Balancing;

/// <summary>
/// One request waiting in a backend queue for a server `maxconn` permit (HAProxy's pendconn), handed back by
/// <see cref="BackendQueue.Acquire"/> to whoever waits. Exactly one of three things ends it, whichever claims it
/// first: a dispatcher grants it a server with a permit already taken for it, `timeout queue` expires it
/// (<see cref="ExpireIfDue"/>, called by the waiter's timer), or the waiter cancels it. The result is the server,
/// or null. Allocated only when a request has to wait: the fast path never creates one.
/// </summary>
internal sealed class QueueTicket : TaskCompletionSource<ServerRuntime?>
{
    private const int Waiting = 0, Claimed = 1;

    private readonly BackendQueue _queue;
    private int _state;

    /// <summary>
    /// <paramref name="deadline"/>: Environment.TickCount64 at which `timeout queue` expires it, 0 for never.
    /// Continuations run asynchronously: a dispatcher (often a session ending) must not run the next request inline.
    /// </summary>
    public QueueTicket(BackendQueue queue, long deadline)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        _queue = queue;
        Deadline = deadline;
        EnqueuedAt = Environment.TickCount64;
    }

    public long Deadline { get; }
    public long EnqueuedAt { get; }

    /// <summary>Set when `timeout queue` ended the wait (the session answers 503, HAProxy's sQ).</summary>
    public bool TimedOut { get; private set; }

    /// <summary>Already granted, expired or cancelled: dispatchers skip it.</summary>
    public bool IsClaimed => Volatile.Read(ref _state) != Waiting;

    /// <summary>Hands <paramref name="server"/> (its permit already taken) to the waiter; false when it was claimed before.</summary>
    public bool TryGrant(ServerRuntime server)
    {
        if (!TryClaim(server)) return false;
        TrySetResult(server);
        return true;
    }

    /// <summary>Called by the engine's timer: ends the wait with no server once the deadline has passed.</summary>
    public void ExpireIfDue(long now)
    {
        if (Deadline == 0 || now < Deadline || !TryClaim(null)) return;
        TimedOut = true;
        TrySetResult(null);
        _queue.Dispatch(null);   // lets the queue drop this ticket if it is at the head
    }

    /// <summary>The waiter is aborting: ends the wait with no server. Idempotent.</summary>
    public void Cancel()
    {
        if (!TryClaim(null)) return;
        TrySetResult(null);
        _queue.Dispatch(null);
    }

    /// <summary>Wins the ticket for one outcome; the queue counts it out (qcur, and the wait for qtime).</summary>
    private bool TryClaim(ServerRuntime? server)
    {
        if (Interlocked.CompareExchange(ref _state, Claimed, Waiting) != Waiting) return false;
        _queue.OnTicketClaimed(Environment.TickCount64 - EnqueuedAt, server);
        return true;
    }
}
