using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Worker.Io;
using Tmds.Linux;

namespace Proxy.Worker.Forwarding;

// The worker's own readiness loop as a BufferedSocket's transport (worker/Io, issue 15): a plain socket given to
// UseIoLoop is read and written with recv/send(MSG_DONTWAIT) and waits through its IoRegistration; .NET's socket
// engine never sees it (no SocketAsyncContext, no O_NONBLOCK fcntl, no receive tried before each wait, no MSG_PEEK
// for the idle wait). Same contract as the .NET path: counts, 0 at EOF, -1 / false on any error, no exceptions.
internal sealed partial class BufferedSocket
{
    private IoRegistration? _io;   // set by UseIoLoop: this socket lives in the worker's loop, never in .NET's engine
    private int _ioGeneration;     // the lending of _io this socket holds
    // The last receive found the queue empty (a short read or EAGAIN) as of the read-event count _readSeen, taken
    // before that syscall: the next receive waits for a later event first instead of trying (edge-triggered, as
    // HAProxy), so no recv returns EAGAIN in the steady state.
    private bool _drained;
    private int _readSeen;

    /// <summary>
    /// Moves this plain socket to the worker's loop (before any I/O through .NET's engine ever touched it); false when
    /// the loop is off (PROXY_IO_LOOP=0) or could not start, and the socket stays on .NET's engine.
    /// </summary>
    public bool UseIoLoop()
    {
        if (Tls is not null || !IoLoop.Enabled || IoLoop.Shared is not { } loop) return false;
        var io = loop.Rent();
        _ioGeneration = io.Generation;
        // The entry's counts go on from its earlier lendings: start from where they are (not in the epoll set yet,
        // they cannot move for this socket before it is added).
        _readSeen = io.Read.Sequence;
        Volatile.Write(ref _io, io);   // after _ioGeneration: the engine's timer reads _io, then _ioGeneration (Close)
        return true;
    }

    /// <summary>Whether the peer's FIN (or a hang-up) has been seen, by a receive or by the loop's events.</summary>
    private bool PeerClosed => ReceivedEof || (_io is { } io && io.PeerClosedIn(_ioGeneration));

    /// <summary>Whether this socket is served by the worker's loop.</summary>
    internal bool OnIoLoop => _io is not null;

    /// <summary>The loop entry and lending this socket holds (tests inject readiness events through it).</summary>
    internal (IoRegistration? Registration, int Generation) IoLending => (_io, _ioGeneration);

    /// <summary>The idle wait on the loop: parks on readability holding no buffer; the receive after it reads at once.</summary>
    private ValueTask<SocketError> WaitIdleOnLoop(IoRegistration io)
    {
        ReleaseBufferIfEmpty();
        // Not known empty (and already in the epoll set): the receive tries at once.
        if (!_drained && io.Added) return new(SocketError.Success);
        return WaitReadable(io);
    }

    /// <summary>Parks until a read event after <see cref="_readSeen"/> (the socket joins the epoll set first if needed).</summary>
    private ValueTask<SocketError> WaitReadable(IoRegistration io)
    {
        if (!io.Added && AddToLoop(io) is int error and not 0) return new(AddError(error));
        return io.Read.WaitAsync(_readSeen, io, _ioGeneration);
    }

    /// <summary>The receive of <see cref="ReceiveAsync"/> on the loop, after its buffer bookkeeping.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReceiveOnLoopAsync(IoRegistration io, bool waitFirst)
    {
        if (waitFirst && (_drained || !io.Added))
        {
            // Idle (no idle wait ran before): wait without a buffer, as WaitIdleAsync does.
            if (await WaitReadable(io).ConfigureAwait(false) != SocketError.Success) return -1;
            _drained = false;
        }
        while (true)
        {
            if (_drained)
            {
                // Nothing buffered: the wait holds no buffer (a receive that found the queue empty: a spurious wake, a
                // client slow to send, TLS before its first record; an idle TLS session held 16 KB more without this).
                ReleaseBufferIfEmpty();
                if (await WaitReadable(io).ConfigureAwait(false) != SocketError.Success) return -1;
                _drained = false;
            }
            if (_buffer.Length == 0)
            {
                if (Volatile.Read(ref _disposed) != 0) return -1;
                _buffer = RentBuffer();
            }
            int seen = io.Read.Sequence;
            int room = _buffer.Length - _end;
            // TLS (BufferedSocket.TlsRecords.cs): drained only when the BIO's read found the queue empty and OpenSSL holds no record.
            bool drained = true;
            long n = _tlsState is { OwnRecords: true } tls ? SslRead(tls, _buffer.AsSpan(_end), out int error, out drained) : Recv(_buffer.AsSpan(_end), out error);
            if (n > 0)
            {
                // A read that filled the room: more is probably queued, the next receive tries at once (see ReceiveAsync).
                _lastReadFilled = n == room;
                _drained = !_lastReadFilled && drained;
                _readSeen = seen;
                _end += (int)n;
                LastActivity = LoopClock.Milliseconds;
                return (int)n;
            }
            if (n == 0)
            {
                _lastReadFilled = false;
                ReceivedEof = true;
                return 0;
            }
            if (error == LibC.EAGAIN)
            {
                _drained = true;
                _readSeen = seen;
                continue;
            }
            if (error == SslWantsWrite)
            {
                // OpenSSL must send before it reads on (a reply to the peer's KeyUpdate, a refused renegotiation's alert)
                // and the socket is full. Rare enough to retry after a pause rather than park on the write waiter, which
                // a send of this connection may hold (a tunnel) and which takes one operation at a time; a timeout's
                // shutdown(SHUT_RD) (seen as a hang-up by the loop) or a close ends it, as it ends a parked receive.
                if (Volatile.Read(ref _disposed) != 0 || PeerClosed) return -1;
                await Task.Delay(1).ConfigureAwait(false);
                continue;
            }
            if (error != LibC.EINTR) return -1;   // a reset (ECONNRESET), closed by an abort, a bad TLS record (EPROTO)
        }
    }

    /// <summary>The send of <see cref="SendAsync"/> on the loop: parks on EPOLLOUT only when the socket buffer is full.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendOnLoopAsync(IoRegistration io, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            int seen = io.Write.Sequence;
            long n = _tlsState is { OwnRecords: true } tls ? SslWrite(tls, data.Span, out int error) : Send(data.Span, out error);
            if (n > 0)
            {
                data = data[(int)n..];
                LastActivity = LoopClock.Milliseconds;
                continue;
            }
            if (error == SslWantsRead)
            {
                // SSL_write must read first (the rest of a post-handshake message): the receive side brings it; retried
                // after a pause, ended as above.
                if (Volatile.Read(ref _disposed) != 0 || PeerClosed) return false;
                await Task.Delay(1).ConfigureAwait(false);
                continue;
            }
            if (error == LibC.EAGAIN)
            {
                if (!io.Added && AddToLoop(io) is int addError and not 0)
                {
                    AddError(addError);   // logged once; the send fails as before
                    return false;
                }
                SendWaited = true;
                if (await io.Write.WaitAsync(seen, io, _ioGeneration).ConfigureAwait(false) != SocketError.Success) return false;
                continue;
            }
            if (error != LibC.EINTR) return false;   // EPIPE, ECONNRESET, or closed by an abort
        }
        return true;
    }

    /// <summary>
    /// Connects this socket (new, on the loop) to <paramref name="target"/>: O_NONBLOCK with one fcntl(F_SETFL) unless
    /// it was made so (<see cref="NonBlocking"/>; connect has no MSG_DONTWAIT), connect, park on EPOLLOUT while in
    /// progress; a wake with EPOLLOUT alone is the success, any other asks the kernel (getsockopt(SO_ERROR), then
    /// getpeername).
    /// Returns Success or the failure as a SocketError; OperationAborted when closed meanwhile (`timeout connect`, abort).
    /// </summary>
    public ValueTask<SocketError> ConnectAsync(EndPoint target) => ConnectAsync(target.Serialize());

    /// <summary>The same, to an address already serialized (a server's, cached: ServerRuntime.SocketAddressOf).</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    public async ValueTask<SocketError> ConnectAsync(SocketAddress target)
    {
        var io = _io!;
        int seen = io.Write.Sequence;
        // Read before connect(): the server's first bytes (or FIN) may arrive before the epoll ADD below, which then
        // reports them as a read event; taken after it, that event would be "already seen" and the first receive,
        // parking without trying (see _drained), would never wake.
        int readSeen = io.Read.Sequence;
        int error = StartConnect(target);
        if (error == 0) return SocketError.Success;
        if (error != LibC.EINPROGRESS) return ErrorOf(error);
        error = AddToLoop(io);
        if (error != 0) return AddError(error);
        while (true)
        {
            if (await io.Write.WaitAsync(seen, io, _ioGeneration).ConfigureAwait(false) != SocketError.Success) return SocketError.OperationAborted;
            seen = io.Write.Sequence;   // before the checks: an event after them wakes the next park
            // EPOLLOUT without EPOLLERR or EPOLLHUP for this lending: connected, no syscall to ask (HAProxy's
            // sock_conn_check). The kernel gives a socket in SYN_SENT no EPOLLOUT, and an earlier lending's flags never
            // count here (IoRegistration tags them with their generation); anything else asks the kernel below.
            if ((io.WriteEventsOf(_ioGeneration) & (LibC.EPOLLOUT | LibC.EPOLLERR | LibC.EPOLLHUP)) == LibC.EPOLLOUT) break;
            error = PendingError();
            if (error != 0) return ErrorOf(error);
            // SO_ERROR 0 also while still in progress (SYN_SENT): a wake that was not EPOLLOUT alone is no proof the
            // connect ended (an earlier lending's count moved it), so it counts only once the socket has a peer; else park again.
            error = PeerError();
            if (error == 0) break;
            if (error != LibC.ENOTCONN) return ErrorOf(error);
        }
        _drained = true;
        _readSeen = readSeen;
        return SocketError.Success;
    }

    private unsafe int StartConnect(SocketAddress address)
    {
        var handle = Socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            // A new socket's status flags are O_RDWR only: F_SETFL with O_NONBLOCK alone needs no F_GETFL first.
            if (!NonBlocking && LibC.fcntl(fd, LibC.F_SETFL, LibC.O_NONBLOCK) != 0) return LibC.errno;
            fixed (byte* p = address.Buffer.Span)
            {
                return LibC.connect(fd, (sockaddr*)p, (socklen_t)address.Size) == 0 ? 0 : LibC.errno;
            }
        }
        catch (ObjectDisposedException)
        {
            return LibC.EBADF;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>getsockopt(SO_ERROR): the outcome of a connect that was in progress; 0 when it succeeded.</summary>
    private unsafe int PendingError()
    {
        var handle = Socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int value = 0;
            socklen_t length = sizeof(int);
            if (LibC.getsockopt((int)handle.DangerousGetHandle(), LibC.SOL_SOCKET, LibC.SO_ERROR, &value, &length) != 0) return LibC.errno;
            return value;
        }
        catch (ObjectDisposedException)
        {
            return LibC.EBADF;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>getpeername(): 0 once the socket is connected, ENOTCONN while its connect is still in progress.</summary>
    private unsafe int PeerError()
    {
        var handle = Socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            byte* address = stackalloc byte[128];   // sockaddr_storage: the address itself is not needed
            socklen_t length = 128;
            return LibC.getpeername((int)handle.DangerousGetHandle(), (sockaddr*)address, &length) == 0 ? 0 : LibC.errno;
        }
        catch (ObjectDisposedException)
        {
            return LibC.EBADF;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private static int s_addErrorLogged;

    /// <summary>
    /// An epoll ADD that failed: ENOSPC (fs.epoll.max_user_watches) or ENOMEM is the kernel's limit, reported as
    /// NoBufferSpaceAvailable and logged once per worker, not as an abort; EBADF (closed by an abort) is an abort.
    /// </summary>
    internal static SocketError AddError(int errno)
    {
        if (errno == LibC.EBADF) return SocketError.OperationAborted;
        if (Interlocked.Exchange(ref s_addErrorLogged, 1) == 0)
            NLog.LogManager.GetLogger("worker").Warn($"io-loop: epoll_ctl(ADD) failed, errno {errno} (fs.epoll.max_user_watches or memory): connections fail");
        return errno == LibC.ENOSPC || errno == LibC.ENOMEM ? SocketError.NoBufferSpaceAvailable : SocketError.SocketError;
    }

    /// <summary>A connect's errno as the SocketError .NET's engine would have reported.</summary>
    private static SocketError ErrorOf(int errno)
    {
        if (errno == LibC.ECONNREFUSED) return SocketError.ConnectionRefused;
        if (errno == LibC.ETIMEDOUT) return SocketError.TimedOut;
        if (errno == LibC.EHOSTUNREACH) return SocketError.HostUnreachable;
        if (errno == LibC.ENETUNREACH) return SocketError.NetworkUnreachable;
        if (errno == LibC.EADDRNOTAVAIL) return SocketError.AddressNotAvailable;
        if (errno == LibC.ECONNRESET) return SocketError.ConnectionReset;
        if (errno == LibC.EBADF) return SocketError.OperationAborted;
        return SocketError.SocketError;
    }

    private unsafe long Recv(Span<byte> into, out int error)
    {
        var handle = Socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);   // a close from another thread waits for this call: never a reused descriptor
            fixed (byte* p = into)
            {
                long n = LibC.recv((int)handle.DangerousGetHandle(), p, (size_t)into.Length, LibC.MSG_DONTWAIT);
                error = n < 0 ? LibC.errno : 0;
                return n;
            }
        }
        catch (ObjectDisposedException)
        {
            error = LibC.EBADF;   // closed by an abort before this call
            return -1;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private unsafe long Send(ReadOnlySpan<byte> data, out int error)
    {
        var handle = Socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            fixed (byte* p = data)
            {
                long n = LibC.send((int)handle.DangerousGetHandle(), p, (size_t)data.Length, LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL);
                error = n < 0 ? LibC.errno : 0;
                return n;
            }
        }
        catch (ObjectDisposedException)
        {
            error = LibC.EBADF;
            return -1;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>Adds the descriptor to the loop's epoll set, held so that it cannot be a reused number; 0 or an errno.</summary>
    private int AddToLoop(IoRegistration io)
    {
        var handle = Socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return io.TryAdd((int)handle.DangerousGetHandle(), _ioGeneration);
        }
        catch (ObjectDisposedException)
        {
            return LibC.EBADF;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }
}
