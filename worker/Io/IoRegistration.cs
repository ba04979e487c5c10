using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using Tmds.Linux;

namespace Proxy.Worker.Io;

/// <summary>
/// A socket's place in the worker's <see cref="IoLoop"/>: an entry of its registration table, lent to one connection
/// for its lifetime (<see cref="IoLoop.Rent"/>) and then to later ones, so a connection allocates nothing here.
/// The socket joins the epoll set the first time an operation must wait (<see cref="TryAdd"/>), once, edge-triggered
/// for both directions. Each lending is a generation: the epoll event carries (index, generation), and an event or a
/// close for an older generation does nothing.
/// </summary>
internal sealed class IoRegistration : IValueTaskSource<SocketError>
{
    // Mutable struct fields, used in place (registration.Read.WaitAsync(...)): never readonly, never copied to a local.
    public IoWaiter Read;
    public IoWaiter Write;
    internal readonly int Index;
    private readonly IoLoop _loop;

    /// <summary>The loop this entry belongs to.</summary>
    internal IoLoop Loop => _loop;
    private int _state;   // generation << 1 | 1 when closed (or not lent)
    private int _holds;   // the owner's hold (until Return) plus one per operation whose result is not yet taken
    private bool _added;  // the descriptor of this generation is in the epoll set (touched by the owner only)
    // The epoll flags seen so far, or-ed, tagged with their lending's generation (generation << 32 | flags): written by
    // the loop thread only, and a value whose tag is not the reader's generation is an earlier lending's and reads as
    // none. The tag, not a reset in Open, keeps them apart: OnEvent may still be or-ing an earlier lending's flags when
    // another thread lends the entry again (review finding).
    private long _writeEvents;   // EPOLLOUT, EPOLLERR, EPOLLHUP
    private long _readHangups;   // EPOLLRDHUP, EPOLLHUP: the peer's FIN (or more) has arrived

    internal IoRegistration(IoLoop loop, int index)
    {
        _loop = loop;
        Index = index;
        _state = 1;
        Read = new IoWaiter(parity: 0);
        Write = new IoWaiter(parity: 1);
    }

    /// <summary>The current lending's generation: the owner keeps it and passes it back to every call.</summary>
    public int Generation => Volatile.Read(ref _state) >> 1;

    /// <summary>
    /// The epoll flags of lending <paramref name="generation"/>'s write wake-ups so far (EPOLLOUT, EPOLLERR, EPOLLHUP),
    /// or-ed; 0 before any. A connect that woke with EPOLLOUT alone has succeeded (BufferedSocket.ConnectAsync).
    /// </summary>
    public int WriteEventsOf(int generation) => FlagsOf(ref _writeEvents, generation);

    /// <summary>Whether lending <paramref name="generation"/> saw EPOLLRDHUP or EPOLLHUP: the peer closed its side.</summary>
    public bool PeerClosedIn(int generation) => FlagsOf(ref _readHangups, generation) != 0;

    private static int FlagsOf(ref long tagged, int generation)
    {
        long v = Volatile.Read(ref tagged);
        return (int)(v >> 32) == generation ? (int)v : 0;
    }

    /// <summary>Ors <paramref name="flags"/> into <paramref name="tagged"/> for <paramref name="generation"/> (loop thread only: no other writer).</summary>
    private static void Record(ref long tagged, int generation, int flags)
    {
        Volatile.Write(ref tagged, (long)generation << 32 | (uint)(FlagsOf(ref tagged, generation) | flags));
    }

    /// <summary>Whether the socket is in the epoll set already (events count only from then on).</summary>
    public bool Added => _added;

    /// <summary>A new lending (under the loop's table lock): the next generation, open, not in the epoll set.</summary>
    internal void Open()
    {
        // Generations start at 1 and skip 0 when they wrap: a waiter's _parked uses 0 for "none".
        int next = (Volatile.Read(ref _state) >> 1) + 1 & int.MaxValue >> 1;
        Volatile.Write(ref _state, (next == 0 ? 1 : next) << 1);
        _added = false;
        Volatile.Write(ref _holds, 1);
    }

    /// <summary>Closed by <see cref="Close"/>, or lent to another connection since.</summary>
    public bool IsClosed(int generation)
    {
        int s = Volatile.Read(ref _state);
        return (s & 1) != 0 || s >> 1 != generation;
    }

    /// <summary>
    /// Adds <paramref name="fd"/> to the epoll set (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET). Call with the descriptor held
    /// (SafeHandle.DangerousAddRef) so it cannot be a reused number. An edge-triggered add reports the readiness already
    /// there, so bytes that arrived before it still wake the wait that follows. Returns 0 or an errno.
    /// </summary>
    public int TryAdd(int fd, int generation)
    {
        if (_added) return 0;
        int error = _loop.Add(fd, Index, generation);
        if (error == 0) _added = true;
        return error;
    }

    /// <summary>
    /// Marks this lending closed and fails its parked operations: the owner calls it before closing the descriptor
    /// (a closed descriptor leaves the epoll set silently, and nothing would wake them). Any thread; idempotent.
    /// </summary>
    public void Close(int generation)
    {
        while (true)
        {
            int s = Volatile.Read(ref _state);
            if ((s & 1) != 0 || s >> 1 != generation) return;
            if (Interlocked.CompareExchange(ref _state, s | 1, s) == s) break;
        }
        Read.WakeForClose(generation);
        Write.WakeForClose(generation);
    }

    /// <summary>
    /// Closes this lending and gives the entry back to the loop; the owner's last call. An operation still parked or
    /// woken but not yet resumed holds the entry: it goes back to the table when that operation takes its result,
    /// never while a continuation could still read a waiter that a next lending reset.
    /// </summary>
    public void Return(int generation)
    {
        Close(generation);
        Release();
    }

    /// <summary>An operation parks (<see cref="IoWaiter.WaitAsync"/>): the entry stays out of the table until its result is taken.</summary>
    internal void Hold() => Interlocked.Increment(ref _holds);

    /// <summary>The owner returned the entry, or a parked operation took its result: the last one gives it back.</summary>
    internal void Release()
    {
        if (Interlocked.Decrement(ref _holds) == 0) _loop.Return(this);
    }

    /// <summary>An epoll event for (this entry, <paramref name="generation"/>), on the loop thread.</summary>
    internal void OnEvent(int generation, int events)
    {
        // For an earlier lending: its socket is gone. Checked again before the second wake: the first one runs its
        // continuation inline, which may end the connection, return the entry and let a new lending park here.
        if (Volatile.Read(ref _state) >> 1 != generation) return;
        int error = LibC.EPOLLHUP | LibC.EPOLLERR;
        if ((events & (LibC.EPOLLIN | LibC.EPOLLRDHUP | error)) != 0)
        {
            if ((events & (LibC.EPOLLRDHUP | LibC.EPOLLHUP)) != 0) Record(ref _readHangups, generation, events & (LibC.EPOLLRDHUP | LibC.EPOLLHUP));
            Read.Signal(generation);
        }
        if (Volatile.Read(ref _state) >> 1 != generation) return;
        if ((events & (LibC.EPOLLOUT | error)) != 0)
        {
            Record(ref _writeEvents, generation, events & (LibC.EPOLLOUT | error));
            Write.Signal(generation);
        }
    }

    // The parked operation's IValueTaskSource: the token's lowest bit is its direction (IoWaiter.WaitAsync).
    SocketError IValueTaskSource<SocketError>.GetResult(short token)
    {
        var result = (token & 1) == 0 ? Read.GetResult(token) : Write.GetResult(token);
        Release();   // last touch of the waiter: from here the entry may be lent again and the waiter reset
        return result;
    }

    ValueTaskSourceStatus IValueTaskSource<SocketError>.GetStatus(short token)
        => (token & 1) == 0 ? Read.GetStatus(token) : Write.GetStatus(token);

    void IValueTaskSource<SocketError>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        if ((token & 1) == 0) Read.OnCompleted(continuation, state, token, flags);
        else Write.OnCompleted(continuation, state, token, flags);
    }
}
