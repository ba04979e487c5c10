using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Proxy.Worker.Io;

/// <summary>
/// One direction (read or write) of an <see cref="IoRegistration"/>: a count of the readiness events the loop saw, and
/// at most one parked operation waiting for the count to move. The waiter owns no buffer and no descriptor: a woken
/// operation always retries its syscall (a wake-up says "something happened", never "data is there"). A parked
/// operation is tagged with its lending's generation, and only a wake for that exact generation completes it, so a
/// late close or event of an earlier lending never completes a later one. See README.md for the ordering argument.
/// <para>
/// A struct, a field of its registration, not an object of its own (issue 15): the registration is the operation's
/// IValueTaskSource, and the token's lowest bit says which direction it is (<see cref="WaitAsync"/> keeps the read
/// direction's versions even and the write direction's odd). Two objects fewer per socket: 128 bytes less per idle
/// http session (perf/README.md, "thirteenth session"). Use it only in place, as <c>registration.Read.X()</c>: a copy
/// would park on a waiter nobody signals.
/// </para>
/// </summary>
internal struct IoWaiter
{
    private int _sequence;   // readiness events seen for this direction (the loop increments it)
    private int _parked;     // the generation of the waiting operation, 0 when none (generations are never 0);
                             // whoever moves it from that generation to 0 completes _core, exactly once
    private readonly short _parity;   // 0: the read direction, 1: the write direction (the token's lowest bit)
    private ManualResetValueTaskSourceCore<SocketError> _core;

    internal IoWaiter(short parity) => _parity = parity;

    /// <summary>The event count; read it before a syscall, give it to <see cref="WaitAsync"/> when that syscall found nothing.</summary>
    public int Sequence => Volatile.Read(ref _sequence);

    /// <summary>
    /// Parks until the event count differs from <paramref name="seen"/> (Success: retry the syscall) or the
    /// registration's lending <paramref name="generation"/> closes (OperationAborted); completes at once when either holds.
    /// <paramref name="registration"/> is the one whose field this waiter is.
    /// </summary>
    public ValueTask<SocketError> WaitAsync(int seen, IoRegistration registration, int generation)
    {
        _core.Reset();
        if ((_core.Version & 1) != _parity) _core.Reset();   // the token tells the registration which direction it is
        _core.RunContinuationsAsynchronously = false;
        // The entry goes back to the table only once this operation's result is taken (GetResult): see IoRegistration.Return.
        registration.Hold();
        // Full fence (Interlocked) before re-reading the count: an event incremented it before this line and we see it
        // here, or it comes after and the loop sees _parked == generation (both sides write, then read: Dekker).
        Interlocked.Exchange(ref _parked, generation);
        if ((Volatile.Read(ref _sequence) != seen || registration.IsClosed(generation))
            && Interlocked.CompareExchange(ref _parked, 0, generation) == generation)
        {
            registration.Release();
            return new(registration.IsClosed(generation) ? SocketError.OperationAborted : SocketError.Success);
        }
        // Pending, or completed meanwhile by the loop or a close (which won _parked): the ValueTask sees either.
        return new ValueTask<SocketError>(registration, _core.Version);
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

    // The IValueTaskSource calls, through the registration (IoRegistration.GetResult and the others).
    internal SocketError GetResult(short token) => _core.GetResult(token);

    internal ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    internal void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
