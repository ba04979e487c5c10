using System.Net.Security;
using System.Runtime.InteropServices;
using Proxy.Worker.Tls;
using Tmds.Linux;

namespace Proxy.Worker.Forwarding;

// A `bind ... ssl` connection's records after its handshake, on the worker's loop (issue 16): SslStream makes the
// handshake (the certificate by SNI, ALPN, client certificates, what the ssl_fc* fetches answer), then this socket
// reads and writes the records itself, SSL_read/SSL_write on that same OpenSSL connection through a BIO that does
// recv/send on the descriptor (worker/Tls/LoopBio.cs), in the receive and send loops of BufferedSocket.Loop.cs. What
// it saves per read and per write is SslStream's: its async frames, its record framing in managed code, the copy of
// every record into and out of its memory BIOs, and its idle zero-byte read; per connection, the memory BIOs' buffers.
// Measured with perf/tls-bench.sh: perf/README.md, "TLS records on the loop". PROXY_TLS_OWN_RECORDS=0 in the worker's
// environment keeps SslStream's reads and writes (the behaviour before), to compare.
internal sealed unsafe partial class BufferedSocket
{
    private static readonly bool s_ownRecords = Environment.GetEnvironmentVariable("PROXY_TLS_OWN_RECORDS") != "0";

    /// <summary>SSL_read or SSL_write wants the socket writable first (a reply OpenSSL must send): wait, then call again.</summary>
    private const int SslWantsWrite = int.MinValue;
    /// <summary>SSL_write wants the socket readable first: a renegotiation, which these connections refuse.</summary>
    private const int SslWantsRead = int.MinValue + 1;

    /// <summary>Whether the records of this socket's TLS are read and written here (after <see cref="TakeRecords"/>).</summary>
    internal bool OwnsTlsRecords => _tlsState is { OwnRecords: true };

    /// <summary>
    /// After the handshake of an SslStream over <see cref="TlsTransport"/>: moves the connection's record I/O here when
    /// the handshake ended on a record boundary and the SSL* is SslStream's over memory BIOs as expected (else SslStream
    /// keeps reading and writing, as before). The SSL keeps SslStream's settings; added: read-ahead (one recv per batch
    /// of records instead of a header and a body), partial writes (a send that would block returns what went), no
    /// client renegotiation (as HAProxy), a FIN without close_notify read as an end, not an error (as SslStream does),
    /// and a quiet shutdown: nothing is written when SslStream frees the SSL, after this socket's descriptor is closed.
    /// </summary>
    private void TakeRecords(SslStream tls)
    {
        var t = TlsSide;
        bool bounded = t.RecordBounded;
        t.RecordBounded = false;   // SslStream's own reads (when not taken) need no record bounds after the handshake
        if (!bounded || t.RecordLeft != 0 || t.HeaderGot != 0 || _io is null) return;
        if (TlsContexts.ConnectionOf(tls) is not { } handle) return;
        var socketHandle = Socket.SafeHandle;
        bool sslAdded = false, socketAdded = false;
        try
        {
            handle.DangerousAddRef(ref sslAdded);
            socketHandle.DangerousAddRef(ref socketAdded);
            nint ssl = handle.DangerousGetHandle();
            if (ssl == 0 || LibSsl.BIO_method_type(LibSsl.SSL_get_rbio(ssl)) != LibSsl.BioTypeMem) return;
            nint bio = LoopBio.Create((int)socketHandle.DangerousGetHandle(), out var state);
            if (bio == 0) return;
            // One BIO both ways; the SSL frees SslStream's memory BIOs now (it owns them: SslStream never frees them itself).
            LibSsl.SSL_set_bio(ssl, bio, bio);
            LibSsl.SSL_set_read_ahead(ssl, 1);
            LibSsl.SSL_set_mode(ssl, LibSsl.ModeEnablePartialWrite | LibSsl.ModeAcceptMovingWriteBuffer | LibSsl.ModeReleaseBuffers);
            LibSsl.SSL_set_options(ssl, LibSsl.OpIgnoreUnexpectedEof | LibSsl.OpNoRenegotiation);
            LibSsl.SSL_set_quiet_shutdown(ssl, 1);
            t.Bio = state;
            t.SslHandle = handle;
            t.Ssl = ssl;
            t.OwnRecords = true;
            sslAdded = false;   // kept until Dispose
            ReturnHandshakeBuffer(tls);
        }
        catch (ObjectDisposedException)
        {
            // closed by an abort meanwhile: SslStream's path fails as it would have
        }
        finally
        {
            if (sslAdded) handle.DangerousRelease();
            if (socketAdded) socketHandle.DangerousRelease();
        }
    }

    /// <summary>
    /// SslStream keeps the buffer its handshake read into (rented, 4 KB and more) until its next read, which never comes
    /// here: an idle TLS session held it for its whole life (6 KB more per session than through SslStream's reads,
    /// measured with PROXY_HEAP_REPORT). Its private ReturnReadBufferIfEmpty gives it back; a runtime without it keeps it.
    /// </summary>
    private static void ReturnHandshakeBuffer(SslStream tls)
    {
        if (s_noReturnReadBuffer) return;
        try
        {
            ReturnReadBufferIfEmpty(tls);
        }
        catch (MissingMethodException)
        {
            s_noReturnReadBuffer = true;
        }
    }

    private static bool s_noReturnReadBuffer;

    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Method, Name = "ReturnReadBufferIfEmpty")]
    private static extern void ReturnReadBufferIfEmpty(SslStream stream);

    /// <summary>
    /// SSL_read into <paramref name="into"/>: the count (&gt; 0); 0 at the peer's close_notify or FIN; -1 with
    /// <paramref name="error"/> EAGAIN (wait readable), <see cref="SslWantsWrite"/>, or the failure's errno (EPROTO for
    /// a bad record). <paramref name="drained"/>: the socket's queue was found empty and OpenSSL holds nothing more.
    /// </summary>
    private long SslRead(TlsState t, Span<byte> into, out int error, out bool drained)
    {
        drained = false;
        var handle = Socket.SafeHandle;
        bool added = false;
        EnterSsl(t);
        try
        {
            nint ssl = t.Ssl;
            var bio = t.Bio;
            if (ssl == 0)
            {
                error = LibC.EBADF;   // disposed: an operation that outlived its session
                return -1;
            }
            handle.DangerousAddRef(ref added);   // the BIO's recv never reaches a descriptor number reused by another connection
            bio->Seen = 0;
            bio->Errno = 0;
            LibSsl.ERR_clear_error();   // per thread: what another call left would make SSL_get_error say SSL_ERROR_SSL
            int n;
            fixed (byte* p = into) n = LibSsl.SSL_read(ssl, p, into.Length);
            if (n > 0)
            {
                error = 0;
                drained = (bio->Seen & LoopBio.Drained) != 0 && LibSsl.SSL_has_pending(ssl) == 0;
                return n;
            }
            int reason = LibSsl.SSL_get_error(ssl, n);
            if (reason == LibSsl.ErrorZeroReturn || (bio->Seen & LoopBio.Eof) != 0)
            {
                error = 0;
                return 0;
            }
            // Wanting to read when the socket was not found empty (OpenSSL handled a record that carried no data for
            // this call): try again at once rather than wait for an edge that may not come.
            error = reason == LibSsl.ErrorWantRead && (bio->Seen & LoopBio.Drained) == 0 ? LibC.EINTR : Failure(ssl, bio, reason);
            return -1;
        }
        catch (ObjectDisposedException)
        {
            error = LibC.EBADF;   // closed by an abort
            return -1;
        }
        finally
        {
            if (added) handle.DangerousRelease();
            ExitSsl(t);
        }
    }

    /// <summary>SSL_write of <paramref name="data"/>: the bytes taken (whole records); -1 with <paramref name="error"/> EAGAIN (wait writable) or a failure.</summary>
    private long SslWrite(TlsState t, ReadOnlySpan<byte> data, out int error)
    {
        var handle = Socket.SafeHandle;
        bool added = false;
        EnterSsl(t);
        try
        {
            nint ssl = t.Ssl;
            var bio = t.Bio;
            if (ssl == 0)
            {
                error = LibC.EBADF;
                return -1;
            }
            handle.DangerousAddRef(ref added);
            bio->Errno = 0;
            LibSsl.ERR_clear_error();
            int length = TlsContexts.MaxRecord is > 0 and var limit && data.Length > limit ? limit : data.Length;   // tune.ssl.maxrecord
            int n;
            fixed (byte* p = data) n = LibSsl.SSL_write(ssl, p, length);
            if (n > 0)
            {
                error = 0;
                return n;
            }
            int reason = LibSsl.SSL_get_error(ssl, n);
            error = reason == LibSsl.ErrorWantWrite ? LibC.EAGAIN : reason == LibSsl.ErrorWantRead ? SslWantsRead : Failure(ssl, bio, reason);
            return -1;
        }
        catch (ObjectDisposedException)
        {
            error = LibC.EBADF;
            return -1;
        }
        finally
        {
            if (added) handle.DangerousRelease();
            ExitSsl(t);
        }
    }

    /// <summary>What an SSL_read or SSL_write that returned &lt;= 0 means for the loop; a real failure clears OpenSSL's error queue (per thread: SslStream reads it too).</summary>
    private static int Failure(nint ssl, LoopBio.State* bio, int reason)
    {
        if (reason == LibSsl.ErrorWantRead) return LibC.EAGAIN;
        if (reason == LibSsl.ErrorWantWrite) return SslWantsWrite;
        LibSsl.ERR_clear_error();
        return reason == LibSsl.ErrorSyscall && bio->Errno != 0 ? bio->Errno : LibC.EPROTO;
    }

    // Readers and writers of one connection may run on two threads at once (a tunnel whose other side is on .NET's
    // engine); OpenSSL's calls on one SSL must not. Uncontended, this is one interlocked exchange each way.
    private static void EnterSsl(TlsState t)
    {
        if (Interlocked.CompareExchange(ref t.SslBusy, 1, 0) == 0) return;
        var spin = new SpinWait();
        do spin.SpinOnce(); while (Interlocked.CompareExchange(ref t.SslBusy, 1, 0) != 0);
    }

    private static void ExitSsl(TlsState t) => Volatile.Write(ref t.SslBusy, 0);

    /// <summary>The most a handshake read may hand SslStream: the rest of the current record, or of the next one's header.</summary>
    private int RecordBound(int wanted) => _tlsState is not { RecordBounded: true } t ? wanted : Math.Min(wanted, t.RecordLeft > 0 ? t.RecordLeft : 5 - t.HeaderGot);

    /// <summary>Follows the records in the bytes a handshake read handed SslStream (at most <see cref="RecordBound"/> of them).</summary>
    private void CountRecordBytes(ReadOnlySpan<byte> handed)
    {
        if (_tlsState is not { RecordBounded: true } t) return;
        if (t.RecordLeft > 0)
        {
            t.RecordLeft -= handed.Length;
            return;
        }
        foreach (byte b in handed)
        {
            // Not a TLS record header (an SSLv2-format ClientHello, garbage): no bounds from here on, and the records
            // stay SslStream's (TakeRecords requires them).
            if ((t.HeaderGot == 0 && b is < 20 or > 24) || (t.HeaderGot == 1 && b != 3))
            {
                t.RecordBounded = false;
                t.HeaderGot = -1;
                return;
            }
            if (t.HeaderGot == 3) t.RecordLength = b << 8;
            else if (t.HeaderGot == 4) t.RecordLength |= b;
            t.HeaderGot++;
        }
        if (t.HeaderGot == 5)
        {
            t.HeaderGot = 0;
            t.RecordLeft = t.RecordLength;
        }
    }

    /// <summary>At the dispose: the BIO stops using the descriptor, and the SSL goes (SslStream's hold, then this one).</summary>
    private void ReleaseRecords()
    {
        if (_tlsState is not { OwnRecords: true } t) return;
        EnterSsl(t);   // an SSL call of a late operation on another thread ends first; later ones find Ssl 0
        if (t.Bio != null)
        {
            t.Bio->Fd = -1;
            t.Bio = null;
        }
        t.Ssl = 0;
        ExitSsl(t);
    }

    private static void ReleaseSsl(TlsState t)
    {
        if (t.SslHandle is { } handle)
        {
            t.SslHandle = null;
            handle.DangerousRelease();
        }
    }
}
