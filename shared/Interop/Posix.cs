using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Proxy.Shared.Interop;

/// <summary>The few process-level syscalls the supervisor and workers need, checked as their man pages say.</summary>
public static unsafe class Posix
{
    public static int GetPid() => getpid();

    public static uint GetEffectiveUid() => geteuid();

    /// <summary>Detaches from the controlling terminal (setsid(2)); false when already a group leader.</summary>
    public static bool CreateSession() => setsid() != -1;

    /// <summary>Points stdin, stdout and stderr at /dev/null, as a daemon does once it has reported readiness.</summary>
    public static void RedirectStdioToDevNull()
    {
        int fd;
        fixed (byte* path = "/dev/null\0"u8) fd = open(path, O_RDWR);
        if (fd == -1) return;
        for (int target = 0; target <= 2; target++)
            while (dup2(fd, target) == -1 && Marshal.GetLastPInvokeError() == EINTR) { }
        if (fd > 2) close(fd);
    }

    /// <summary>chown(2) of <paramref name="path"/>; a null id stays as it is (-1). Returns null, or the errno's text.</summary>
    public static string? ChangeOwner(string path, uint? uid, uint? gid)
    {
        int rv;
        fixed (byte* p = System.Text.Encoding.UTF8.GetBytes(path + "\0"))
            rv = chown(p, uid ?? uint.MaxValue, gid ?? uint.MaxValue);
        return rv == -1 ? Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()) : null;
    }

    /// <summary>The peer's credentials on a connected Unix socket (SO_PEERCRED), or null.</summary>
    public static (int Pid, uint Uid, uint Gid)? PeerCredentials(Socket socket)
    {
        ucred cred;
        socklen_t len = (uint)sizeof(ucred);
        if (getsockopt((int)socket.Handle, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) return null;
        return (cred.pid, cred.uid, cred.gid);
    }

    /// <summary>True while a process with that pid exists (kill(pid, 0); EPERM still means it exists).</summary>
    public static bool ProcessExists(int pid)
    {
        if (pid <= 0) return false;
        if (kill(pid, 0) == 0) return true;
        return Marshal.GetLastPInvokeError() == EPERM;
    }

    /// <summary>Sends a signal; returns false when the process is gone.</summary>
    public static bool Signal(int pid, int signal) => kill(pid, signal) == 0;

    /// <summary>
    /// Puts <paramref name="signal"/> back to its default action. A signal ignored by whoever started this process (as
    /// `nohup` ignores SIGHUP) stays ignored across exec, and the .NET runtime then never runs a handler registered
    /// for it: the supervisor calls this before registering the signals it must act on.
    /// </summary>
    public static void RestoreDefaultAction(int signal) => SetSignalAction(signal, 0 /* SIG_DFL */);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "signal")]
    private static extern nint SetSignalAction(int signum, nint handler);

    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGUSR2 = 12, SIGTERM = 15;

    /// <summary>Sets close-on-exec on a descriptor received from elsewhere, so no child inherits it.</summary>
    public static void SetCloseOnExec(int fd)
    {
        int flags = fcntl(fd, F_GETFD);
        if (flags != -1) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }

    /// <summary>Sets an integer socket option; returns 0 or errno.</summary>
    public static int SetSocketOption(Socket socket, int level, int name, int value)
    {
        if (setsockopt((int)socket.Handle, level, name, &value, sizeof(int)) == 0) return 0;
        return Marshal.GetLastPInvokeError();
    }

    public static int SolSocket => SOL_SOCKET;
    public static int SoReusePort => SO_REUSEPORT;
    public static int SoReuseAddr => SO_REUSEADDR;
}
