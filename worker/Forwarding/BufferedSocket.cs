using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Tmds.Linux;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// One side of an HTTP session: a socket, a receive buffer of tune.bufsize bytes (or a bulk one while relaying a
/// body: ReceiveAsync) holding the unconsumed bytes [Start, End). Each receive or send borrows a SocketOperation (errors are values, not exceptions) from
/// SocketOperationPool for its duration, so a connection not moving bytes holds none.
/// The head parser and the body framer read <see cref="Data"/>; what they take is dropped with <see cref="Consume"/>.
/// </summary>
internal sealed partial class BufferedSocket : IDisposable
{
    private byte[] _buffer;               // empty while idle: see ReceiveAsync
    private int _bufferSize;
    private int _start, _end;
    private bool _lastReadFilled;         // the last receive filled the buffer: more is probably waiting
    private bool _bulkBuffer;             // _buffer is a bulk one (BulkFactor times tune.bufsize): see ReceiveAsync's `bulk`
    private bool _relayWaited;            // the last RelayToAsync's send had to wait for the destination
    private int _disposed;
    private TlsState? _tlsState;          // `bind ... ssl` (BufferedSocket.Tls.cs, .TlsRecords.cs); null: a plain connection
    private SocketOperation? _idleOp;     // the zero-byte receive of WaitIdleAsync, until EndIdleWait
    private int _idleWait;                // what the last idle wait ended with, for the next receive: IdleNone, IdleReadable, IdleFailed
    private const int IdleNone = 0, IdleReadable = 1, IdleFailed = 2;

    public BufferedSocket(Socket socket, int bufferSize)
    {
        Socket = socket;
        _bufferSize = bufferSize;
        _buffer = [];
    }

    public Socket Socket { get; private set; }
    /// <summary>Environment.TickCount64 of the last byte received from or accepted by the peer.</summary>
    public long LastActivity;
    /// <summary>A server connection that served a request after its first (`http-reuse aggressive` takes only those first).</summary>
    public bool Reused;
    /// <summary>A server connection that offered NTLM/Negotiate (ConnectionBoundAuth): its session's alone, never pooled.</summary>
    public bool Private;
    /// <summary>A TCP server connection: closed before the server's FIN was seen, it sends a reset (ServerCloseReset).</summary>
    public bool ResetOnClose;
    /// <summary>The descriptor is O_NONBLOCK already (made so by LoopConnectSocket): a connect on the loop sets no flag first.</summary>
    public bool NonBlocking;
    /// <summary>A send on the loop had to wait for room (EAGAIN) since the flag was last cleared: the peer reads slowly.</summary>
    internal bool SendWaited;
    /// <summary>Set when the peer sent FIN (a receive returned 0).</summary>
    public bool ReceivedEof { get; private set; }

    public int Buffered => _end - _start;

    /// <summary>Whether this connection holds a receive buffer.</summary>
    internal bool HoldsBuffer => _buffer.Length > 0;
    /// <summary>The receive buffer's length (0 while none is held): tune.bufsize, or a bulk one (tests).</summary>
    internal int BufferCapacity => _buffer.Length;
    public ReadOnlySequence<byte> Data => new(_buffer, _start, _end - _start);
    public ReadOnlyMemory<byte> DataMemory => _buffer.AsMemory(_start, _end - _start);

    public void Consume(long count) => _start += (int)count;

    /// <summary>Consumes up to <paramref name="position"/>, a position of <paramref name="data"/> (the last <see cref="Data"/>).</summary>
    public void ConsumeTo(in ReadOnlySequence<byte> data, SequencePosition position) => _start += (int)data.Slice(data.Start, position).Length;

    /// <summary>
    /// Whether <see cref="WaitIdleAsync"/> applies: nothing buffered, no TLS, and the last read did not fill the buffer
    /// (when it did, more is probably queued and the next receive reads it at once), and no failure is kept for the
    /// next receive (BufferedSocket.FirstRead.cs).
    /// </summary>
    public bool CanWaitIdle => _start == _end && (Tls is null || OwnsTlsRecords) && !_lastReadFilled && _idleWait != IdleFailed;

    /// <summary>
    /// Waits, holding no buffer, until the peer sends something, closes or resets (a zero-byte receive), then
    /// <see cref="EndIdleWait"/> with the result; the next <see cref="ReceiveAsync"/> reads straight into a buffer.
    /// Not an async method on purpose: awaited in the session's top-level frame, an idle keep-alive session holds that
    /// one state machine and one socket operation instead of a chain of nested ones (request, head read, receive).
    /// Measured with 4,000 idle http keep-alive sessions: perf/README.md, "Memory per idle session".
    /// </summary>
    public ValueTask<SocketError> WaitIdleAsync()
    {
        if (_io is { } io) return WaitIdleOnLoop(io);
        ReleaseBufferIfEmpty();
        var op = SocketOperationPool.Rent();
        _idleOp = op;
        return op.ReceiveAsync(Socket, Memory<byte>.Empty);
    }

    /// <summary>Ends <see cref="WaitIdleAsync"/>: gives its operation back and keeps the result for the next receive.</summary>
    public void EndIdleWait(SocketError result)
    {
        if (_idleOp is { } op)
        {
            _idleOp = null;
            SocketOperationPool.Return(op);
        }
        _idleWait = result == SocketError.Success ? IdleReadable : IdleFailed;
        _drained = false;   // on the loop: woken by a read event, the receive tries at once
    }

    /// <summary>
    /// Receives more bytes after the buffered ones. Returns the count, 0 at EOF, -1 on an error (reset, abort,
    /// or the buffer is full of unconsumed bytes, which the callers never allow).
    /// </summary>
    /// <param name="expectData">
    /// Data is on its way (a server's response to the request just sent): receive straight into the buffer instead of
    /// first waiting without one. The zero-byte wait costs a syscall per message and only pays off on connections that
    /// may stay idle (a client between requests); measured with strace on the http keep-alive bench it was one of four
    /// recv calls per request.
    /// </param>
    /// <param name="bulk">
    /// The bytes are relayed unparsed (a response body, a tunnel): while reads keep filling the buffer, the next one
    /// reads into a buffer <see cref="BulkFactor"/> times tune.bufsize, a quarter of the syscalls per byte moved. Never
    /// for bytes that a parser reads next (heads): those stay within tune.bufsize, as HAProxy's. Measured on the 1 MiB
    /// http bench: perf/README.md, "bulk reads".
    /// </param>
    /// <remarks>
    /// Not an async method itself: it does the buffer's bookkeeping and hands over the transport's own receive (the
    /// loop's, TLS's or .NET's), one async frame fewer per receive and per suspended one.
    /// </remarks>
    public ValueTask<int> ReceiveAsync(bool expectData = false, bool bulk = false)
    {
        if (_start == _end)
        {
            _start = _end = 0;
            // Nothing buffered: give the buffer back while waiting, so an idle keep-alive connection (client or pooled
            // server) holds no receive buffer (Kestrel's WaitForDataBeforeAllocatingBuffer); and swap it when the next
            // read wants the other size.
            // Not through TLS (SslStream returns about one 16 KB record per read: a bulk read would rarely fill), and
            // not while the destination is slow (its last relayed send had to wait): a slow reader holds one
            // tune.bufsize buffer per direction, as HAProxy's, not a bulk one (review finding).
            bool wantBulk = bulk && _lastReadFilled && Tls is null && !_relayWaited;
            if (_buffer.Length > 0 && ((!_lastReadFilled && !expectData) || wantBulk != _bulkBuffer))
            {
                ThreadArrayPool<byte>.Return(_buffer);
                _buffer = [];
            }
            _bulkBuffer = wantBulk;
        }
        else if (_end == _buffer.Length && _start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_buffer.Length > 0 && _end == _buffer.Length) return new(-1);
        if (_tlsState is { Stream: { } tls, OwnRecords: false }) return ReceiveTlsAsync(tls, expectData);
        int idleWait = _idleWait;
        _idleWait = IdleNone;
        if (idleWait == IdleFailed) return new(-1);
        if (_io is { } io) return ReceiveOnLoopAsync(io, waitFirst: _start == _end && !_lastReadFilled && !expectData && idleWait == IdleNone);
        return ReceiveOnEngineAsync(expectData, idleWait);
    }

    /// <summary>The receive of <see cref="ReceiveAsync"/> through .NET's socket engine, after its buffer bookkeeping.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReceiveOnEngineAsync(bool expectData, int idleWait)
    {
        var op = SocketOperationPool.Rent();
        try
        {
            if (_start == _end && !_lastReadFilled && !expectData && idleWait == IdleNone)
            {
                // Idle: wait with a zero-byte receive (Kestrel's WaitForDataBeforeAllocatingBuffer) so FIN and data both wake us.
                if (await op.ReceiveAsync(Socket, Memory<byte>.Empty).ConfigureAwait(false) != SocketError.Success) return -1;
            }
            if (_buffer.Length == 0)
            {
                if (Volatile.Read(ref _disposed) != 0) return -1;
                _buffer = RentBuffer();
            }
            int room = _buffer.Length - _end;
            if (await op.ReceiveAsync(Socket, _buffer.AsMemory(_end)).ConfigureAwait(false) != SocketError.Success) return -1;
            int n = op.BytesTransferred;
            // A read that filled the room means more is probably queued (a body in bulk): the next receive keeps the
            // buffer and skips the zero-byte wait, one syscall and one pool round trip fewer per buffer, as TcpSession's
            // relay. Measured on the 1 MiB http bench: CPU per response 856 µs before (HAProxy 539 µs).
            _lastReadFilled = n == room;
            if (n == 0) { ReceivedEof = true; return 0; }
            _end += n;
            LastActivity = Environment.TickCount64;
            return n;
        }
        finally
        {
            SocketOperationPool.Return(op);
        }
    }

    /// <summary>How many times tune.bufsize a bulk read takes (see ReceiveAsync's `bulk`): 64 KB with the default 16 KB, loopback's largest segment.</summary>
    internal const int BulkFactor = 4;

    /// <summary>A receive buffer of tune.bufsize bytes, or a bulk one while a relay's reads keep filling it.</summary>
    private byte[] RentBuffer() => ThreadArrayPool<byte>.Rent(_bulkBuffer ? _bufferSize * BulkFactor : _bufferSize);

    /// <summary>
    /// Gives the receive buffer back when nothing is buffered, so a connection between messages (an idle server
    /// connection kept for reuse) holds none; the next receive rents one again.
    /// </summary>
    public void ReleaseBufferIfEmpty()
    {
        if (_start != _end || _buffer.Length == 0) return;
        _start = _end = 0;
        ThreadArrayPool<byte>.Return(_buffer);
        _buffer = [];
    }

    /// <summary>Sends all of <paramref name="data"/>; false on any socket error. The transport's own send (as <see cref="ReceiveAsync"/>).</summary>
    public ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data)
    {
        if (_tlsState is { Stream: { } tls, OwnRecords: false }) return SendTlsAsync(tls, data);
        if (_io is { } io) return SendOnLoopAsync(io, data);
        return SendOnEngineAsync(data);
    }

    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendOnEngineAsync(ReadOnlyMemory<byte> data)
    {
        var op = SocketOperationPool.Rent();
        try
        {
            while (!data.IsEmpty)
            {
                if (await op.SendAsync(Socket, data).ConfigureAwait(false) != SocketError.Success) return false;
                data = data.Slice(op.BytesTransferred);
                LastActivity = Environment.TickCount64;
            }
            return true;
        }
        finally
        {
            SocketOperationPool.Return(op);
        }
    }

    /// <summary>Sends the first <paramref name="count"/> buffered bytes (body relayed unchanged) and consumes them.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    public async ValueTask<bool> RelayToAsync(BufferedSocket destination, long count)
    {
        destination.SendWaited = false;
        bool ok = await destination.SendAsync(_buffer.AsMemory(_start, (int)count)).ConfigureAwait(false);
        _relayWaited = destination.SendWaited;
        _start += (int)count;
        return ok;
    }

    /// <summary>shutdown(SHUT_WR): relays a FIN. A peer already gone is not an error here.</summary>
    public void ShutdownSend() => Shutdown(SocketShutdown.Send);

    /// <summary>shutdown(SHUT_RD): a pending receive completes with 0, so a timeout can end a wait without closing the socket.</summary>
    public void ShutdownReceive() => Shutdown(SocketShutdown.Receive);

    private void Shutdown(SocketShutdown how)
    {
        try
        {
            Socket.Shutdown(how);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // reset or closed meanwhile
        }
    }

    /// <summary>
    /// Whether bytes wait in the kernel's receive queue (FIONREAD); false once reset or closed. One ioctl on the held
    /// descriptor, not Socket.Available's managed layers (once per `Connection: close` request).
    /// </summary>
    public unsafe bool HasUnreadBytes()
    {
        var handle = Socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int count = 0;
            return LibC.ioctl((int)handle.DangerousGetHandle(), LibC.FIONREAD, &count) == 0 && count > 0;
        }
        catch (ObjectDisposedException)
        {
            return false;   // closed: nothing to protect
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Whether an idle pooled connection is still usable: nothing readable (no FIN, no stray bytes) and no error.
    /// <paramref name="poll"/> false: only what is known without a syscall (the caller retries a failed reuse).
    /// </summary>
    public bool IsIdleAlive(bool poll = true)
    {
        if (Volatile.Read(ref _disposed) != 0 || Buffered != 0 || ReceivedEof) return false;
        if (!poll) return true;
        try
        {
            // One poll: a FIN, stray bytes and a pending error (a reset) all make the socket readable.
            return !Socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Closes the socket only (pending operations fail); the buffers stay until <see cref="Dispose"/>.</summary>
    public void Close()
    {
        _io?.Close(_ioGeneration);   // first: a parked receive or send fails now (a closed descriptor leaves epoll silently)
        if (ResetOnClose && !PeerClosed) ServerCloseReset.Arm(Socket);
        Socket.Dispose();
    }

    /// <summary>
    /// As new over <paramref name="socket"/>, after <see cref="Dispose"/>: a pooled http session's client side for its
    /// next connection (HttpSession.Reuse; HttpSessionReuseTests compares every field with a new one's).
    /// </summary>
    public unsafe void Reuse(Socket socket, int bufferSize)
    {
        Socket = socket;
        _bufferSize = bufferSize;
        _buffer = [];
        _start = _end = 0;
        _lastReadFilled = false;
        _bulkBuffer = false;
        _relayWaited = false;
        _disposed = 0;
        _idleOp = null;
        _idleWait = IdleNone;
        LastActivity = 0;
        Reused = false;
        Private = false;
        ResetOnClose = false;
        NonBlocking = false;
        SendWaited = false;
        ReceivedEof = false;
        // the loop's (BufferedSocket.Loop.cs), TLS's (.Tls.cs, .TlsRecords.cs, .TlsTransport.cs)
        _io = null;
        _ioGeneration = 0;
        _drained = false;
        _readSeen = 0;
        _tlsState = null;
    }

    /// <summary>Closes the socket and returns the buffer; call once no operation is pending.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _io?.Close(_ioGeneration);
        ReleaseRecords();   // before the descriptor closes, after any SSL call in flight
        if (ResetOnClose && !PeerClosed) ServerCloseReset.Arm(Socket);
        Socket.Dispose();
        _io?.Return(_ioGeneration);
        if (_tlsState is { } t)
        {
            t.Stream?.Dispose();
            ReleaseSsl(t);       // after SslStream's own hold: the SSL (and its BIO) is freed here
            if (t.Counted) Proxy.Worker.Tls.TlsCounters.Release();
        }
        var b = _buffer;
        _buffer = [];
        if (b.Length > 0) ThreadArrayPool<byte>.Return(b);
    }
}
