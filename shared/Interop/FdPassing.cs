using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Proxy.Shared.Interop;

/// <summary>
/// Passes file descriptors between processes over a Unix stream socket with SCM_RIGHTS (unix(7)).
/// The supervisor hands each worker its listening sockets this way, so the kernel shares the same
/// socket (and its accept queue) between the supervisor's copy and the worker's.
/// </summary>
public static unsafe class FdPassing
{
    /// <summary>Linux refuses more than SCM_MAX_FD (253) descriptors in one message.</summary>
    public const int MaxFdsPerMessage = 253;

    /// <summary>
    /// Sends one marker byte carrying <paramref name="fds"/>; returns 0 or the errno of sendmsg. No descriptor (a
    /// configuration without any `bind`, e.g. only a `stats socket`) is the marker byte alone, without SCM_RIGHTS.
    /// </summary>
    public static int Send(Socket channel, ReadOnlySpan<int> fds)
    {
        if (fds.Length > MaxFdsPerMessage)
            throw new ArgumentOutOfRangeException(nameof(fds), $"at most {MaxFdsPerMessage} descriptors per message");
        int controlLen = fds.Length == 0 ? 0 : CMSG_SPACE(sizeof(int) * fds.Length);
        byte* control = stackalloc byte[Math.Max(controlLen, 1)];
        new Span<byte>(control, controlLen).Clear();
        byte marker = (byte)'F';
        iovec iov = new() { iov_base = &marker, iov_len = 1 };
        msghdr msg = new() { msg_iov = &iov, msg_iovlen = 1, msg_control = controlLen == 0 ? null : control, msg_controllen = (uint)controlLen };
        if (fds.Length > 0)
        {
            cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
            cmsg->cmsg_level = SOL_SOCKET;
            cmsg->cmsg_type = SCM_RIGHTS;
            // Exact length (glibc's CMSG_LEN), not the padded one: the kernel counts descriptors from it.
            cmsg->cmsg_len = (uint)(CMSG_LEN(0) + sizeof(int) * fds.Length);
            int* data = (int*)CMSG_DATA(cmsg);
            for (int i = 0; i < fds.Length; i++) data[i] = fds[i];
        }

        int fd = (int)channel.Handle;
        while (true)
        {
            long rv = sendmsg(fd, &msg, MSG_NOSIGNAL);
            if (rv == 1) return 0;
            int errno = Marshal.GetLastPInvokeError();
            if (rv == -1 && errno == EINTR) continue;
            if (rv == -1 && errno == EAGAIN) { Thread.Sleep(1); continue; }
            return rv == -1 ? errno : EPROTO;
        }
    }

    /// <summary>
    /// Receives the marker byte and its descriptors (close-on-exec set atomically with MSG_CMSG_CLOEXEC).
    /// Returns the descriptors, or throws IOException when the peer sent none or closed the channel.
    /// </summary>
    public static int[] Receive(Socket channel, int maxFds)
    {
        int controlLen = CMSG_SPACE(sizeof(int) * maxFds);
        byte* control = stackalloc byte[controlLen];
        new Span<byte>(control, controlLen).Clear();
        byte marker = 0;
        iovec iov = new() { iov_base = &marker, iov_len = 1 };
        msghdr msg = new() { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = (uint)controlLen };
        int fd = (int)channel.Handle;
        long rv;
        while (true)
        {
            rv = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
            if (rv != -1) break;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { Thread.Sleep(1); continue; }
            throw new IOException($"recvmsg failed: errno {errno}");
        }
        if (rv == 0) throw new IOException("the supervisor closed the channel before sending the listeners");
        if ((msg.msg_flags & MSG_CTRUNC) != 0) throw new IOException("more listening sockets were sent than expected");

        var result = new List<int>();
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != null; c = CMSG_NXTHDR(&msg, c))
        {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            int count = ((int)c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int* data = (int*)CMSG_DATA(c);
            for (int i = 0; i < count; i++) result.Add(data[i]);
        }
        return result.ToArray();
    }
}
