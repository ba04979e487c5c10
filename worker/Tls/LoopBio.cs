using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Proxy.Worker.Tls;

/// <summary>
/// An OpenSSL BIO over a socket on the worker's loop, for a TLS connection's records once SslStream finished its
/// handshake (BufferedSocket.TlsRecords.cs): reads and writes are recv/send(MSG_DONTWAIT, MSG_NOSIGNAL) on the
/// descriptor, as the plain loop path's, whatever the descriptor's own mode. OpenSSL's socket BIO would need O_NONBLOCK
/// (an fcntl) and write() raises SIGPIPE; a memory BIO (SslStream's) costs a copy each way and a buffer per connection.
/// A BIO's data is a <see cref="State"/> in native memory, freed with the BIO (when OpenSSL frees the connection).
/// What the last read saw (a short read, EAGAIN, EOF) is kept there for the caller: edge-triggered readiness needs to
/// know whether the socket was drained, as ReceiveOnLoopAsync's plain recv does.
/// </summary>
internal static unsafe partial class LoopBio
{
    /// <summary>One BIO's data.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct State
    {
        /// <summary>The descriptor; -1 once its socket closed (a later call fails with EBADF, never on a reused number).</summary>
        public int Fd;
        /// <summary><see cref="Drained"/>, <see cref="Eof"/>: what the reads since the caller last cleared it saw.</summary>
        public int Seen;
        /// <summary>The errno of the last failed recv or send (EAGAIN included).</summary>
        public int Errno;
    }

    /// <summary>A read found the socket's queue empty: a short read or EAGAIN.</summary>
    public const int Drained = 1;
    /// <summary>A read returned 0: the peer's FIN.</summary>
    public const int Eof = 2;

    private const int FlagRead = 0x01, FlagWrite = 0x02, FlagShouldRetry = 0x08, FlagsRetry = 0x0F;   // BIO_FLAGS_*
    private const int CtrlFlush = 11, CtrlEof = 2;   // BIO_CTRL_FLUSH, BIO_CTRL_EOF
    private const int TypeSourceSink = 0x0400;   // BIO_TYPE_SOURCE_SINK

    private static nint s_method;
    private static readonly Lock s_gate = new();

    /// <summary>A new BIO over <paramref name="fd"/> and its state (owned by the BIO); 0 when OpenSSL refused.</summary>
    public static nint Create(int fd, out State* state)
    {
        state = null;
        nint method = Method();
        if (method == 0) return 0;
        nint bio = BIO_new(method);
        if (bio == 0) return 0;
        state = (State*)NativeMemory.AllocZeroed((nuint)sizeof(State));
        state->Fd = fd;
        BIO_set_data(bio, (nint)state);
        BIO_set_init(bio, 1);
        return bio;
    }

    private static nint Method()
    {
        if (Volatile.Read(ref s_method) is var method and not 0) return method;
        lock (s_gate)
        {
            if (s_method != 0) return s_method;
            method = BIO_meth_new(BIO_get_new_index() | TypeSourceSink, "proxy-loop");
            if (method == 0) return 0;
            BIO_meth_set_write(method, &Write);
            BIO_meth_set_read(method, &Read);
            BIO_meth_set_ctrl(method, &Ctrl);
            BIO_meth_set_destroy(method, &Destroy);
            Volatile.Write(ref s_method, method);
            return method;
        }
    }

    [UnmanagedCallersOnly]
    private static int Read(nint bio, byte* into, int length)
    {
        var state = (State*)BIO_get_data(bio);
        BIO_clear_flags(bio, FlagsRetry);
        if (state == null || state->Fd < 0) return -1;
        long n = LibC.recv(state->Fd, into, (size_t)length, LibC.MSG_DONTWAIT);
        if (n > 0)
        {
            if (n < length) state->Seen |= Drained;
            return (int)n;
        }
        if (n == 0)
        {
            state->Seen |= Eof;
            return 0;
        }
        int error = LibC.errno;
        state->Errno = error;
        if (error == LibC.EAGAIN || error == LibC.EINTR)
        {
            if (error == LibC.EAGAIN) state->Seen |= Drained;
            BIO_set_flags(bio, FlagRead | FlagShouldRetry);
        }
        return -1;
    }

    [UnmanagedCallersOnly]
    private static int Write(nint bio, byte* data, int length)
    {
        var state = (State*)BIO_get_data(bio);
        BIO_clear_flags(bio, FlagsRetry);
        if (state == null || state->Fd < 0) return -1;
        long n = LibC.send(state->Fd, data, (size_t)length, LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL);
        if (n >= 0) return (int)n;
        int error = LibC.errno;
        state->Errno = error;
        if (error == LibC.EAGAIN || error == LibC.EINTR) BIO_set_flags(bio, FlagWrite | FlagShouldRetry);
        return -1;
    }

    /// <summary>Flush is a no-op success (every write went to the socket); EOF says whether a read saw the peer's FIN; nothing else is supported.</summary>
    [UnmanagedCallersOnly]
    private static long Ctrl(nint bio, int command, long larg, nint parg)
    {
        if (command == CtrlFlush) return 1;
        if (command != CtrlEof) return 0;
        var state = (State*)BIO_get_data(bio);
        return state != null && (state->Seen & Eof) != 0 ? 1 : 0;
    }

    [UnmanagedCallersOnly]
    private static int Destroy(nint bio)
    {
        nint state = BIO_get_data(bio);
        if (state != 0)
        {
            BIO_set_data(bio, 0);
            NativeMemory.Free((void*)state);
        }
        return 1;
    }

    private const string Crypto = "libcrypto.so.3";
    [LibraryImport(Crypto)] private static partial int BIO_get_new_index();
    [LibraryImport(Crypto, StringMarshalling = StringMarshalling.Utf8)] private static partial nint BIO_meth_new(int type, string name);
    [LibraryImport(Crypto)] private static partial int BIO_meth_set_write(nint method, delegate* unmanaged<nint, byte*, int, int> write);
    [LibraryImport(Crypto)] private static partial int BIO_meth_set_read(nint method, delegate* unmanaged<nint, byte*, int, int> read);
    [LibraryImport(Crypto)] private static partial int BIO_meth_set_ctrl(nint method, delegate* unmanaged<nint, int, long, nint, long> ctrl);
    [LibraryImport(Crypto)] private static partial int BIO_meth_set_destroy(nint method, delegate* unmanaged<nint, int> destroy);
    [LibraryImport(Crypto)] private static partial nint BIO_new(nint method);
    [LibraryImport(Crypto)] private static partial void BIO_set_data(nint bio, nint data);
    [LibraryImport(Crypto)] private static partial nint BIO_get_data(nint bio);
    [LibraryImport(Crypto)] private static partial void BIO_set_init(nint bio, int init);
    [LibraryImport(Crypto)] private static partial void BIO_set_flags(nint bio, int flags);
    [LibraryImport(Crypto)] private static partial void BIO_clear_flags(nint bio, int flags);
}
