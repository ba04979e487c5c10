using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Proxy.Worker.Io;

/// <summary>
/// One direction (read or write) of an <see cref="IoRegistration"/>: a count of the readiness events the loop saw, and
/// at most one parked operation waiting for the count to move. The waiter owns no buffer and no descriptor: a woken
/// operation always retries its syscall (a wake-up says "something happened", never "data is there"). A parked
/// operation is tagged with its lending's generation, and only a wake for that exact generation completes it, so a
/// late close or event of an earlier lending never completes a later one. See README.md for the ordering argument.
/// </summary>
internal sealed class IoWaiter : IValueTaskSource<SocketError>
{
    private readonly IoRegistration _owner;
    private int _sequence;   // readiness events seen for this direction (the loop increments it)
    private int _parked;     // the generation of the waiting operation, 0 when none (generations are never 0);
                             // whoever moves it from that generation to 0 completes _core, exactly once
    private ManualResetValueTaskSourceCore<SocketError> _core;

    internal IoWaiter(IoRegistration owner) => _owner = owner;

    /// <summary>The event count; read it before a syscall, give it to <see cref="WaitAsync"/> when that syscall found nothing.</summary>
    public int Sequence => Volatile.Read(ref _sequence);

    /// <summary>
    /// Parks until the event count differs from <paramref name="seen"/> (Success: retry the syscall) or the
    /// registration's lending <paramref name="generation"/> closes (OperationAborted); completes at once when either holds.
    /// </summary>
    public ValueTask<SocketError> WaitAsync(int seen, IoRegistration registration, int generation)
    {
        _core.Reset();
        _core.RunContinuationsAsynchronously = false;
        // The entry goes back to the table only once this operation's result is taken (GetResult): see IoRegistration.Return.
        _owner.Hold();
        // Full fence (Interlocked) before re-reading the count: an event incremented it before this line and we see it
        // here, or it comes after and the loop sees _parked == generation (both sides write, then read: Dekker).
        Interlocked.Exchange(ref _parked, generation);
        if ((Volatile.Read(ref _sequence) != seen || registration.IsClosed(generation))
            && Interlocked.CompareExchange(ref _parked, 0, generation) == generation)
        {
            _owner.Release();
            return new(registration.IsClosed(generation) ? SocketError.OperationAborted : SocketError.Success);
        }
        // Pending, or completed meanwhile by the loop or a close (which won _parked): the ValueTask sees either.
        return new ValueTask<SocketError>(this, _core.Version);
    }

    /// <summary>
    /// The loop saw readiness for lending <paramref name="generation"/>: counts it and wakes the operation parked by
    /// that lending (no other) inline, on the loop thread.
    /// </summary>
    internal void Signal(int generation)
    {
        Interlocked.Increment(ref _sequence);
        if (generation != 0 && Volatile.Read(ref _parked) == generation && Interlocked.CompareExchange(ref _parked, 0, generation) == generation)
            _core.SetResult(SocketError.Success);
    }

    /// <summary>
    /// A close of lending <paramref name="generation"/> from another thread (the engine's timer): wakes the operation
    /// that lending parked (no later one) on the thread pool, not inline, so a session's whole ending never runs inside
    /// the timer's pass over the sessions.
    /// </summary>
    internal void WakeForClose(int generation)
    {
        if (generation == 0 || Interlocked.CompareExchange(ref _parked, 0, generation) != generation) return;
        _core.RunContinuationsAsynchronously = true;
        _core.SetResult(SocketError.OperationAborted);
    }

    SocketError IValueTaskSource<SocketError>.GetResult(short token)
    {
        var result = _core.GetResult(token);
        _owner.Release();   // last touch of _core: from here the entry may be lent again and _core reset
        return result;
    }

    ValueTaskSourceStatus IValueTaskSource<SocketError>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<SocketError>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
