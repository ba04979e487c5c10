using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Proxy.Shared.Interop;

/// <summary>
/// A connected pair of Unix stream sockets (socketpair(2)), both ends close-on-exec from birth (SOCK_CLOEXEC), so
/// no child inherits either end unless an end is made inheritable on purpose (<see cref="SetInheritable"/>). The
/// supervisor keeps one end and hands the other to exactly one worker: no name, no file, nothing another process
/// can connect to.
/// </summary>
public static unsafe class SocketPair
{
    /// <summary>Creates the pair; returns the parent's end as a Socket and the child's end as a raw descriptor.</summary>
    public static (Socket Parent, int ChildFd) Create()
    {
        int* sv = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
            throw new IOException($"socketpair failed: errno {Marshal.GetLastPInvokeError()}");
        return (new Socket(new SafeSocketHandle(sv[0], ownsHandle: true)), sv[1]);
    }

    /// <summary>Clears (true) or sets (false) FD_CLOEXEC on <paramref name="fd"/>; returns 0 or errno.</summary>
    public static int SetInheritable(int fd, bool inheritable)
    {
        int flags = fcntl(fd, F_GETFD);
        if (flags == -1) return Marshal.GetLastPInvokeError();
        int wanted = inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
        return fcntl(fd, F_SETFD, wanted) == -1 ? Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>Closes a raw descriptor (the child's end, once the child holds its copy). EINTR is not retried: see close(2).</summary>
    public static void Close(int fd) => close(fd);

    /// <summary>
    /// Adopts an inherited descriptor as a Socket after checking it is a Unix stream socket (SO_DOMAIN, SO_TYPE), and
    /// makes it close-on-exec again. Throws IOException for anything else (a wrong number passed on the command line).
    /// </summary>
    public static Socket Adopt(int fd)
    {
        int domain = 0, type = 0;
        socklen_t len = (uint)sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1)
            throw new IOException($"descriptor {fd} is not a socket: errno {Marshal.GetLastPInvokeError()}");
        len = (uint)sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 || domain != AF_UNIX || type != SOCK_STREAM)
            throw new IOException($"descriptor {fd} is not a Unix stream socket");
        SetInheritable(fd, false);
        return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
    }
}
