using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Proxy.Worker.Io;

/// <summary>
/// One direction (read or write) of an <see cref="IoRegistration"/>: a count of the readiness events the loop saw, and
/// at most one parked operation waiting for the count to move. The waiter owns no buffer and no descriptor: a woken
/// operation always retries its syscall (a wake-up says "something happened", never "data is there"), so a stale or
/// spurious wake costs one EAGAIN, never a wrong result. See README.md for the ordering argument.
/// </summary>
internal sealed class IoWaiter : IValueTaskSource<SocketError>
{
    private int _sequence;   // readiness events seen for this direction (the loop increments it)
    private int _parked;     // 1 while an operation waits; whoever moves it 1 -> 0 completes _core, exactly once
    private ManualResetValueTaskSourceCore<SocketError> _core;

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
        // Full fence (Interlocked) before re-reading the count: an event incremented it before this line and we see it
        // here, or it comes after and the loop sees _parked == 1 (both sides write, then read: Dekker).
        Interlocked.Exchange(ref _parked, 1);
        if ((Volatile.Read(ref _sequence) != seen || registration.IsClosed(generation))
            && Interlocked.CompareExchange(ref _parked, 0, 1) == 1)
        {
            return new(registration.IsClosed(generation) ? SocketError.OperationAborted : SocketError.Success);
        }
        // Pending, or completed meanwhile by the loop or a close (which won _parked): the ValueTask sees either.
        return new ValueTask<SocketError>(this, _core.Version);
    }

    /// <summary>The loop saw readiness: counts it and wakes the parked operation inline, on the loop thread.</summary>
    internal void Signal()
    {
        Interlocked.Increment(ref _sequence);
        if (Volatile.Read(ref _parked) == 1 && Interlocked.CompareExchange(ref _parked, 0, 1) == 1) _core.SetResult(SocketError.Success);
    }

    /// <summary>
    /// A close from another thread (the engine's timer): wakes the parked operation on the thread pool, not inline, so
    /// a session's whole ending never runs inside the timer's pass over the sessions.
    /// </summary>
    internal void WakeForClose()
    {
        if (Interlocked.CompareExchange(ref _parked, 0, 1) != 1) return;
        _core.RunContinuationsAsynchronously = true;
        _core.SetResult(SocketError.OperationAborted);
    }

    SocketError IValueTaskSource<SocketError>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<SocketError>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<SocketError>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
