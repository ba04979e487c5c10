using Tmds.Linux;
using Proxy.Worker.Io;

namespace Proxy.Worker.Forwarding;

internal sealed partial class BufferedSocket
{
    /// <summary>
    /// One recv(MSG_DONTWAIT) straight into a buffer, before the first wait of a new client connection: a client sends
    /// its request right after the handshake, so it is usually queued by the time the session starts, and HAProxy too
    /// reads a new connection speculatively once before it waits for readiness. Without this, the session's first idle
    /// wait cost two receives (.NET's zero-byte receive is a 1-byte MSG_PEEK, then the real read): strace counted 5.5
    /// recvfrom per `Connection: close` request against HAProxy's 3.1 (perf/README.md, "issue 15, second pass").
    /// Returns the bytes read (and buffered, as <see cref="ReceiveAsync"/> would), or 0 when nothing was read: nothing
    /// queued yet, EOF, an error, TLS, or bytes already buffered. Then the usual wait and receive see the EOF, or the
    /// error kept for them. The descriptor is used directly, outside .NET's socket engine,
    /// which has no such read; MSG_DONTWAIT keeps the call non-blocking whatever mode the descriptor is in.
    /// </summary>
    public unsafe int TryReceiveQueued()
    {
        if (Tls is not null || _start != _end || Volatile.Read(ref _disposed) != 0) return 0;
        var handle = Socket.SafeHandle;
        if (handle.IsClosed) return 0;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);   // an abort closing the socket meanwhile waits for this call
            if (_buffer.Length == 0) _buffer = RentBuffer();
            _start = _end = 0;
            long n;
            int error = 0;
            int seen = _io?.Read.Sequence ?? 0;
            fixed (byte* p = _buffer)
            {
                n = LibC.recv((int)handle.DangerousGetHandle(), p, (size_t)_buffer.Length, LibC.MSG_DONTWAIT);
                if (n < 0) error = LibC.errno;
            }
            if (_io is not null)
            {
                // On the worker's loop: a short read or EAGAIN means drained, the next wait parks without trying.
                _drained = n < 0 ? error == LibC.EAGAIN : n > 0 && n < _buffer.Length;
                _readSeen = seen;
            }
            if (n <= 0)
            {
                // A reset read here is consumed (the next read would see a plain EOF): keep it for the next receive,
                // as a failed idle wait, so the session ends as a reset, not as a clean close.
                if (n < 0 && error != LibC.EAGAIN && error != LibC.EINTR) _idleWait = IdleFailed;
                ReleaseBufferIfEmpty();
                return 0;
            }
            _end = (int)n;
            _lastReadFilled = n == _buffer.Length;
            LastActivity = LoopClock.Milliseconds;
            return (int)n;
        }
        catch (ObjectDisposedException)
        {
            return 0;   // closed between the IsClosed check and DangerousAddRef: the session is being aborted
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }
}
