using System.Net.Sockets;
using Tmds.Linux;

namespace Proxy.Worker.Io;

/// <summary>
/// A new TCP socket for a server connection on the worker's loop (issue 15), made as HAProxy's tcp_connect_server makes
/// one, with the options in the socket() and setsockopt() calls themselves:
/// - non-blocking from birth (SOCK_NONBLOCK), so the connect needs no fcntl first (BufferedSocket.StartConnect);
/// - TCP_NODELAY, and SO_KEEPALIVE with `option tcpka|srvtcpka`, set with one setsockopt each.
/// The descriptor becomes a .NET <see cref="Socket"/> (the session's type) the way <see cref="LoopAcceptor"/> builds an
/// accepted one, without a syscall: from a template of its family (one unbound, unconnected socket per family and
/// process, never used for I/O) that gives the family, type and protocol. .NET's own constructor spent about 0.9 µs of
/// user time per connection on the `Connection: close` bench, and the fcntl a syscall: perf/README.md, "fifteenth session".
/// Null when that cannot be done (the loop is off or could not start, the private constructor is missing, a family
/// other than IPv4 and IPv6): the caller makes the socket through .NET, as before. Never a socket for .NET's engine:
/// marked connected by that constructor, it would refuse .NET's own connect.
/// </summary>
internal static unsafe class LoopConnectSocket
{
    private static Socket? s_inet, s_inet6;

    /// <summary>
    /// A TCP socket of <paramref name="family"/>, O_NONBLOCK, Nagle off, keep-alive probes with
    /// <paramref name="keepAlive"/>; null when it cannot be made here (see the class). Throws SocketException when the
    /// kernel refuses the socket (out of descriptors), as .NET's constructor does.
    /// </summary>
    public static Socket? TryCreate(AddressFamily family, bool keepAlive)
    {
        if (!IoLoop.Enabled || IoLoop.Shared is null || LoopAcceptor.AcceptSocketsMissing || TemplateOf(family) is not { } template) return null;
        int fd = LibC.socket(family == AddressFamily.InterNetwork ? LibC.AF_INET : LibC.AF_INET6,
            LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, LibC.IPPROTO_TCP);
        if (fd < 0) throw new SocketException((int)SocketErrorOf(LibC.errno));
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            int on = 1;
            if (LibC.setsockopt(fd, LibC.IPPROTO_TCP, LibC.TCP_NODELAY, &on, sizeof(int)) != 0 ||
                (keepAlive && LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, &on, sizeof(int)) != 0))
                throw new SocketException((int)SocketErrorOf(LibC.errno));
            return LoopAcceptor.CreateAcceptSocket(template, handle, null);
        }
        catch
        {
            handle.Dispose();   // closed now, not by the finalizer
            throw;
        }
    }

    /// <summary>The template of <paramref name="family"/>, made on first use; null for another family or without the constructor.</summary>
    private static Socket? TemplateOf(AddressFamily family)
    {
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) return null;
        ref Socket? slot = ref family == AddressFamily.InterNetwork ? ref s_inet : ref s_inet6;
        if (Volatile.Read(ref slot) is { } known) return known;
        var template = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        if (!LoopAcceptor.CanCreateAcceptSockets(template))
        {
            template.Dispose();
            return null;
        }
        // Two threads racing here keep the first template; the other is closed.
        if (Interlocked.CompareExchange(ref slot, template, null) is { } first)
        {
            template.Dispose();
            return first;
        }
        return template;
    }

    /// <summary>An errno of socket() or setsockopt() as the SocketError .NET's constructor would have thrown.</summary>
    private static SocketError SocketErrorOf(int errno) =>
        errno == LibC.EMFILE || errno == LibC.ENFILE ? SocketError.TooManyOpenSockets
        : errno == LibC.ENOBUFS || errno == LibC.ENOMEM ? SocketError.NoBufferSpaceAvailable
        : errno == LibC.EAFNOSUPPORT ? SocketError.AddressFamilyNotSupported
        : SocketError.SocketError;
}
