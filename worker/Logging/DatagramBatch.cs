using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Proxy.Worker.Logging;

/// <summary>
/// Log lines queued for one datagram target (UDP syslog, /dev/log) and sent together with one sendmmsg(2): the
/// logger's thread finds many lines at once under load, and one system call for all of them costs less than one
/// sendto per line (HAProxy sends each line with its own sendmsg, issue 18). Each line is still its own datagram.
/// Used by the logger's thread only.
/// </summary>
internal sealed unsafe partial class DatagramBatch
{
    private const int MaxDatagrams = 32;          // lines per sendmmsg
    private const int MaxBatchBytes = 64 * 1024;  // what the batch holds, whatever the target's `len`

    private readonly byte[] _bytes;               // one slot of _slotSize bytes per line
    private readonly int[] _lengths;
    private readonly int _slotSize;
    private int _count;

    /// <param name="maxLength">the longest line the target takes (its `len`)</param>
    public DatagramBatch(int maxLength)
    {
        _slotSize = Math.Max(1, maxLength);
        _lengths = new int[Math.Clamp(MaxBatchBytes / _slotSize, 1, MaxDatagrams)];
        _bytes = GC.AllocateArray<byte>(_lengths.Length * _slotSize, pinned: true);
    }

    public int Count => _count;

    public bool IsFull => _count == _lengths.Length;

    /// <summary>Queues one line (cut to the slot, which the framing already respects); false when full (the line is not queued).</summary>
    public bool Add(ReadOnlySpan<byte> line)
    {
        if (IsFull) return false;
        int n = Math.Min(line.Length, _slotSize);
        line[..n].CopyTo(_bytes.AsSpan(_count * _slotSize, _slotSize));
        _lengths[_count++] = n;
        return true;
    }

    /// <summary>Empties the batch; returns how many lines that loses.</summary>
    public int Clear()
    {
        int count = _count;
        _count = 0;
        return count;
    }

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    private static partial int SendMmsg(int fd, MmsgHdr* messages, uint count, int flags);

    /// <summary>struct mmsghdr (sendmmsg(2)): a message and the bytes the kernel sent of it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MmsgHdr
    {
        public msghdr Header;
        public uint Length;
    }

    /// <summary>
    /// Sends the queued lines on <paramref name="socket"/> (connected, non-blocking; null: none, all lost). Returns how
    /// many were lost; <paramref name="hardError"/> is the errno that stopped it for good (0: none; else the rest is
    /// lost). A full buffer (EAGAIN, ENOBUFS: the reader is behind) keeps the unsent lines, in order, for the next flush
    /// (the batch's room bounds them; the caller decides when they have waited too long); on UDP (<paramref name="udp"/>)
    /// a refused line (a port unreachable reported on a later send) is lost alone and the socket stays good.
    /// </summary>
    public int Flush(SafeSocketHandle? socket, bool udp, out int hardError)
    {
        hardError = 0;
        int count = _count, sent = 0, lost = 0;
        if (count == 0 || socket is null) return Clear();
        bool referenced = false;
        try
        {
            socket.DangerousAddRef(ref referenced);
            int fd = (int)socket.DangerousGetHandle();
            iovec* lines = stackalloc iovec[count];
            MmsgHdr* messages = stackalloc MmsgHdr[count];
            fixed (byte* bytes = _bytes)
            {
                for (int i = 0; i < count; i++)
                {
                    lines[i] = new iovec { iov_base = bytes + i * _slotSize, iov_len = (size_t)_lengths[i] };
                    messages[i] = default;
                    messages[i].Header.msg_iov = &lines[i];
                    messages[i].Header.msg_iovlen = 1;
                }
                while (sent < count)
                {
                    int rv = SendMmsg(fd, messages + sent, (uint)(count - sent), MSG_DONTWAIT | MSG_NOSIGNAL);
                    if (rv > 0)
                    {
                        // Fewer than asked: the next one failed (sendmmsg reports only what went out, not why): the
                        // next call starts with it and meets the error again (a full buffer) or sends it (a port
                        // unreachable, which the failed try consumed).
                        sent += rv;
                        continue;
                    }
                    int errno = rv == -1 ? Marshal.GetLastPInvokeError() : EAGAIN;
                    if (errno == EINTR) continue;
                    if (errno == EAGAIN || errno == ENOBUFS)
                    {
                        Keep(sent);
                        return lost;
                    }
                    if (udp)
                    {
                        lost++;
                        sent++;
                        continue;
                    }
                    hardError = errno;
                    _count = 0;
                    return lost + count - sent;
                }
            }
            _count = 0;
            return lost;
        }
        finally
        {
            if (referenced) socket.DangerousRelease();
        }
    }

    /// <summary>Drops the first <paramref name="sent"/> lines (gone out): the rest moves to the front, in order.</summary>
    private void Keep(int sent)
    {
        int kept = _count - sent;
        if (sent > 0)
        {
            _bytes.AsSpan(sent * _slotSize, kept * _slotSize).CopyTo(_bytes);
            _lengths.AsSpan(sent, kept).CopyTo(_lengths);
        }
        _count = kept;
    }
}
