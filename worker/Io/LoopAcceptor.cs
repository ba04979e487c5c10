using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Tmds.Linux;

namespace Proxy.Worker.Io;

/// <summary>
/// A listening socket accepted on the worker's <see cref="IoLoop"/> (issue 15): the listener joins the loop's epoll
/// set (edge-triggered, as every loop socket), the accept loop calls accept4 until EAGAIN and then parks on the
/// listener's read waiter, and a wake-up resumes it inline on the loop thread, which starts the new session there
/// (HAProxy's listener_accept runs on its thread's poller the same way). .NET's socket engine never sees the listener:
/// no epoll thread of its own to wake per connection, no SocketAsyncContext, no hop to start the session.
/// The accepted connection still becomes a .NET <see cref="Socket"/> (the session's type), built exactly as .NET's
/// own accept builds it (Socket.CreateAcceptSocket: the listener's family and type, the peer from accept4's address,
/// no syscall; probed once, and without it the listener stays with .NET's engine); its descriptor is left blocking, as .NET's accept leaves it: the loop reads and writes with
/// MSG_DONTWAIT, and a socket that moves to .NET's engine (an `expect-proxy` rule) is made non-blocking there.
/// </summary>
internal sealed unsafe class LoopAcceptor : IDisposable
{
    private const int AddressSize = 128;   // sizeof(struct sockaddr_storage)

    private readonly Socket _listener;
    private readonly IoRegistration _io;
    private readonly int _generation;
    private readonly int _fd;
    private bool _removed;

    private LoopAcceptor(Socket listener, IoRegistration io, int fd)
    {
        _listener = listener;
        _io = io;
        _generation = io.Generation;
        _fd = fd;
    }

    /// <summary>
    /// Moves <paramref name="listener"/> to the loop, or null when the loop is off (PROXY_IO_LOOP=0) or could not
    /// start: the caller accepts through .NET's engine as before. The listener's descriptor is made non-blocking (it
    /// is shared with the supervisor and the other workers, whose .NET engine sets the same flag on it): accept4 on
    /// an empty queue, another worker having taken the connection, must return EAGAIN and never block the loop.
    /// </summary>
    public static LoopAcceptor? TryCreate(Socket listener)
    {
        if (!IoLoop.Enabled || !CanCreateAcceptSockets(listener) || IoLoop.Shared is not { } loop) return null;
        var handle = listener.SafeHandle;
        bool added = false;
        handle.DangerousAddRef(ref added);   // released by Dispose: the descriptor outlives every accept4 on it
        int fd = (int)handle.DangerousGetHandle();
        // fcntl, not Socket.Blocking = false: .NET copies the listener's Blocking into every accepted Socket
        // (UpdateAcceptSocket), which would then cost each connection two fcntl of its own.
        int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        if (flags < 0 || ((flags & LibC.O_NONBLOCK) == 0 && LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK) != 0))
        {
            handle.DangerousRelease();
            return null;
        }
        return new LoopAcceptor(listener, loop.Rent(), fd);
    }

    /// <summary>The read-event count: read it before <see cref="TryAccept"/>, give it to <see cref="WaitAsync"/> when that found nothing.</summary>
    public int Sequence => _io.Read.Sequence;

    /// <summary>
    /// One accept4 (SOCK_CLOEXEC): the connection, or null with the errno (EAGAIN: the queue is empty; ECONNABORTED:
    /// reset while queued; EMFILE, ENFILE, ENOBUFS, ENOMEM: out of resources).
    /// </summary>
    public Socket? TryAccept(out int error)
    {
        byte* address = stackalloc byte[AddressSize];
        socklen_t length = AddressSize;
        int fd;
        do
        {
            fd = LibC.accept4(_fd, (sockaddr*)address, &length, LibC.SOCK_CLOEXEC);
            error = fd < 0 ? LibC.errno : 0;
        }
        while (error == LibC.EINTR);
        if (fd < 0) return null;
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            return CreateAcceptSocket(_listener, handle, PeerOf(address, length));
        }
        catch
        {
            handle.Dispose();   // closed now, not by the finalizer
            throw;
        }
    }

    // Once per process (0: not probed, 1: yes, -1: no); a race only probes twice.
    private static int s_canCreateAcceptSockets;

    /// <summary>Whether the probe found Socket.CreateAcceptSocket missing (the accept loop says so in the process log).</summary>
    public static bool AcceptSocketsMissing => Volatile.Read(ref s_canCreateAcceptSockets) < 0;

    /// <summary>
    /// Whether .NET's private Socket.CreateAcceptSocket is there (an UnsafeAccessor binds by name at the first call:
    /// a servicing update renaming it would throw MissingMethodException at the first accept, and the accept loop
    /// would stop that listener for good). Without it the listener is accepted through .NET's engine, as before, and
    /// server sockets are made by .NET (<see cref="LoopConnectSocket"/>).
    /// </summary>
    internal static bool CanCreateAcceptSockets(Socket listener)
    {
        int known = Volatile.Read(ref s_canCreateAcceptSockets);
        if (known != 0) return known > 0;
        // Out of descriptors, nothing is learned (not remembered): the loop's accepts will fail the same way.
        if (Probe(listener, static (l, h, peer) => CreateAcceptSocket(l, h, peer)) is not { } found) return true;
        Volatile.Write(ref s_canCreateAcceptSockets, found ? 1 : -1);
        return found;
    }

    /// <summary>
    /// Builds one socket with <paramref name="create"/> over a fresh unconnected descriptor (closed again): false when
    /// the constructor is missing (MissingMethodException) or fails in any other way (the accept loop would meet the
    /// same at each accept), null when no descriptor could be had to try.
    /// </summary>
    internal static bool? Probe(Socket listener, Func<Socket, SafeSocketHandle, EndPoint?, Socket> create)
    {
        int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) return null;
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            create(listener, handle, null).Dispose();
            return true;
        }
        catch (Exception)
        {
            return false;
        }
        finally
        {
            handle.Dispose();
        }
    }

    /// <summary>
    /// Parks until the listener is readable after <paramref name="seen"/> (Success: accept again) or <see cref="Stop"/>
    /// (OperationAborted). The listener joins the epoll set on the first wait; an add refused (the kernel's limits:
    /// ENOSPC, ENOMEM) is NoBufferSpaceAvailable, which the accept loop logs and retries after a pause.
    /// </summary>
    public ValueTask<SocketError> WaitAsync(int seen)
    {
        if (!_io.Added && _io.TryAdd(_fd, _generation) != 0) return new(SocketError.NoBufferSpaceAvailable);
        return _io.Read.WaitAsync(seen, _io, _generation);
    }

    /// <summary>Stops accepting (any thread): a parked <see cref="WaitAsync"/> ends with OperationAborted, and so does every later one.</summary>
    public void Stop() => _io.Close(_generation);

    /// <summary>
    /// Leaves the loop; the accept loop's last call, before it closes its descriptor. The listener's open file is shared
    /// with the supervisor and the other workers, so closing this process's descriptor would not take it out of the
    /// epoll set (epoll(7): a registration lives as long as the open file): it is removed explicitly, or every
    /// connection queued for the new generation would still wake this draining worker's loop.
    /// </summary>
    public void Dispose()
    {
        if (_removed) return;
        _removed = true;
        if (_io.Added) _io.Loop.Remove(_fd);
        _io.Return(_generation);
        _listener.SafeHandle.DangerousRelease();
    }

    /// <summary>The peer's address from accept4's sockaddr_in / sockaddr_in6 (an IPv4 client of a dual-stack listener stays ::ffff:a.b.c.d, as in .NET).</summary>
    private static IPEndPoint? PeerOf(byte* address, socklen_t length)
    {
        var bytes = new ReadOnlySpan<byte>(address, (int)Math.Min((uint)length, AddressSize));
        if (bytes.Length < 2) return null;
        int family = BinaryPrimitives.ReadUInt16LittleEndian(bytes);   // sa_family_t, host order (x86-64, arm64)
        if (family == LibC.AF_INET && bytes.Length >= 8)
            return new IPEndPoint(new IPAddress(bytes.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]));
        if (family == LibC.AF_INET6 && bytes.Length >= 28)
            return new IPEndPoint(new IPAddress(bytes.Slice(8, 16), BinaryPrimitives.ReadUInt32LittleEndian(bytes[24..])), BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]));
        return null;
    }

    // .NET's own constructor of an accepted socket (Socket.Unix: Accept builds the result with it): the listener's
    // family, type and protocol, connected, the given peer, no syscall. The public Socket(SafeSocketHandle) would ask
    // the kernel instead (getsockopt SO_DOMAIN, SO_TYPE, SO_PROTOCOL, SO_ACCEPTCONN, fcntl, getsockname, getpeername).
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "CreateAcceptSocket")]
    internal static extern Socket CreateAcceptSocket(Socket listener, SafeSocketHandle handle, EndPoint? remoteEndPoint);
}
