using System.Net.Sockets;
using static Tmds.Linux.LibC;

namespace Proxy.Worker;

/// <summary>
/// Closing the worker's copy of a listening socket the supervisor also holds, without ever disturbing the shared
/// socket itself.
/// </summary>
internal static class SharedListener
{
    /// <summary>
    /// Disposes <paramref name="socket"/> once no accept is pending on it. Before that, FD_CLOEXEC is cleared:
    /// .NET's close path (SafeSocketHandle.TryUnblockSocket) may call connect(AF_UNSPEC) on a descriptor that an
    /// in-flight syscall still uses, which on Linux turns a listening socket into a closed one for every process
    /// sharing it; it skips that step for descriptors without FD_CLOEXEC, which it treats as shared. The flag
    /// does not matter afterwards: the descriptor is closed right away and the worker does not exec.
    /// </summary>
    public static void ReleaseWorkerCopy(Socket socket, NLog.ILogger log)
    {
        int fd;
        try
        {
            fd = (int)socket.Handle;
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        int rv, error = 0;
        do
        {
            rv = fcntl(fd, F_SETFD, 0);   // fcntl(2): -1 on error, errno set
            if (rv == -1) error = errno;
        }
        while (rv == -1 && error == EINTR);
        if (rv == -1) log.Warn($"fcntl(F_SETFD) on listener fd {fd} failed: errno {error}");
        socket.Dispose();
    }
}
