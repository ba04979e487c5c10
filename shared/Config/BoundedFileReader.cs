using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Proxy.Shared.Config;

/// <summary>
/// Reads the files a configuration names (the configuration itself, `errorfile`, `http-request return ... file`) with
/// a bound, so a special file cannot exhaust memory: `errorfile 503 /dev/zero` once grew `proxyctl check` past 2.4 GB
/// and a reloading supervisor to 4.2 GB (issue 14). stat(2) first, so only a regular file, /dev/null or an allowed
/// FIFO is ever opened; one open(2) that cannot block (but on a FIFO configuration, which
/// waits for its writer) or take a terminal, fstat(2) to learn what was opened, then read(2) of at most limit + 1 bytes:
/// one byte past the limit proves the file too large even when fstat's size was wrong (/proc) or the file grew since.
/// </summary>
internal static unsafe class BoundedFileReader
{
    /// <summary>
    /// Reads the file at <paramref name="path"/>: a regular file of at most <paramref name="maxBytes"/> bytes, or
    /// /dev/null (empty: HAProxy's own `errorfile 408 /dev/null` example); with <paramref name="allowFifo"/> also a
    /// FIFO or pipe (`-f /dev/stdin`), read until its writer closes or past the limit. Returns null with the content,
    /// or why the file was refused (a phrase to follow "cannot read 'PATH': ") naming <paramref name="limitName"/>.
    /// </summary>
    public static string? TryRead(string path, int maxBytes, string limitName, bool allowFifo, out byte[] content)
    {
        content = [];
        path = DefaultPath.Resolve(path);   // `default-path` of the configuration being parsed
        if (path.Length == 0 || path.Contains('\0')) return "not a file name";
        // O_NONBLOCK: opening a FIFO with no writer, or a device, must not hang the parse. O_NOCTTY: opening a
        // terminal must not make it ours. O_CLOEXEC: no worker started meanwhile inherits it. A FIFO that may be read
        // is opened blocking instead, straight away: opened without a writer it would read as empty at once, and
        // closing it to open it again would let a writer that came meanwhile write to no reader (EPIPE).
        // What the path names is checked before it is opened: opening some devices acts (/dev/watchdog arms the
        // hardware watchdog), and this runs as root. stat(2) follows links, as open(2) will; the fstat(2) below
        // catches a file swapped in between.
        if (StatType(path, out uint named, out dev_t namedDevice) is { } statError) return statError;
        bool fifo = named == (uint)S_IFIFO && allowFifo;
        if (!fifo && named != (uint)S_IFREG && !(named == (uint)S_IFCHR && IsDevNull(namedDevice)))
            return $"{KindOf(named)}, not a regular file";
        int fd = Open(path, fifo ? O_RDONLY | O_NOCTTY | O_CLOEXEC : O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, out int errno);
        if (fd == -1) return Marshal.GetPInvokeErrorMessage(errno);
        try
        {
            stat st;
            if (fstat(fd, &st) == -1) return Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            uint type = (uint)st.st_mode & (uint)S_IFMT;
            if (type == (uint)S_IFCHR && IsDevNull(st.st_rdev)) return null;
            if (type == (uint)S_IFIFO && allowFifo)
            {
                // The supervisor waits for its configuration on `-f FIFO` until the writer closes, as HAProxy does.
                if (!fifo) return "replaced by a FIFO while being opened";
                return ReadAll(fd, maxBytes, limitName, 64 * 1024, out content);
            }
            if (type != (uint)S_IFREG) return $"{KindOf(type)}, not a regular file";
            long size = st.st_size;
            if (size > maxBytes) return $"{size} bytes, larger than {limitName} ({maxBytes} bytes)";
            return ReadAll(fd, maxBytes, limitName, (int)size + 1, out content);
        }
        finally
        {
            if (fd != -1) close(fd);
        }
    }

    /// <summary>Reads until end of file into a buffer that starts at <paramref name="initial"/> bytes and grows to limit + 1.</summary>
    private static string? ReadAll(int fd, int maxBytes, string limitName, int initial, out byte[] content)
    {
        content = [];
        long cap = (long)maxBytes + 1;
        var buffer = new byte[Math.Min(Math.Max(initial, 1), cap)];
        int total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (total == cap) return $"larger than {limitName} ({maxBytes} bytes)";
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, cap));
            }
            nint n;
            fixed (byte* p = &buffer[total]) n = (nint)read(fd, p, buffer.Length - total);
            if (n == -1)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                return Marshal.GetPInvokeErrorMessage(errno);
            }
            if (n == 0) break;
            total += (int)n;
        }
        content = total == buffer.Length ? buffer : buffer.AsSpan(0, total).ToArray();
        return null;
    }

    /// <summary>The file type (S_IFMT bits) of what <paramref name="path"/> names, links followed; null or why not.</summary>
    private static string? StatType(string path, out uint type, out dev_t device)
    {
        stat st = default;
        int result;
        fixed (byte* p = CString(path)) result = LibC.stat(p, &st);
        type = (uint)st.st_mode & (uint)S_IFMT;
        device = st.st_rdev;
        return result == -1 ? Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()) : null;
    }

    private static byte[] CString(string path)
    {
        var name = new byte[System.Text.Encoding.UTF8.GetByteCount(path) + 1];
        System.Text.Encoding.UTF8.GetBytes(path, name);
        return name;
    }

    private static int Open(string path, int flags, out int errno)
    {
        byte[] name = CString(path);
        while (true)
        {
            int fd;
            fixed (byte* p = name) fd = open(p, flags);
            errno = fd == -1 ? Marshal.GetLastPInvokeError() : 0;
            if (fd != -1 || errno != EINTR) return fd;
        }
    }

    /// <summary>/dev/null is character device 1:3 (Documentation/admin-guide/devices.txt), whatever its path.</summary>
    private static bool IsDevNull(dev_t rdev)
    {
        ulong dev = rdev;
        // glibc's gnu_dev_major/minor encoding.
        uint major = (uint)((dev >> 8) & 0xfff) | ((uint)(dev >> 32) & ~0xfffu);
        uint minor = (uint)(dev & 0xff) | ((uint)(dev >> 12) & ~0xffu);
        return major == 1 && minor == 3;
    }

    private static string KindOf(uint type) => type switch
    {
        _ when type == (uint)S_IFCHR => "a character device",
        _ when type == (uint)S_IFBLK => "a block device",
        _ when type == (uint)S_IFIFO => "a FIFO",
        _ when type == (uint)S_IFDIR => "a directory",
        _ when type == (uint)S_IFSOCK => "a socket",
        _ => "a special file",
    };
}
