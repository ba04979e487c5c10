using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Proxy.Shared.Logging;

/// <summary>
/// A plain file as a `log` target. Opened with O_APPEND, so every worker writing the same file adds whole lines at
/// its end (one write(2) per line) instead of overwriting each other at a private offset (FileStream keeps its own
/// position, so it cannot be shared between processes). Reopened when the path stops naming the open file (logrotate
/// moved or removed it), checked at most once a second; a file that cannot be opened or written counts failed lines
/// and is retried at the same pace. The file is opened at construction, so a worker that builds its writers before
/// dropping privileges (`user`, `chroot`) holds the descriptor; a reopen that then fails keeps the descriptor it has. Not thread-safe: one writer thread per instance (a worker's logger thread; the
/// supervisor's NLog target, which NLog serializes).
/// </summary>
public sealed unsafe class LogFile : IDisposable
{
    private const long ReopenCheckIntervalMs = 1000;

    private readonly byte[] _path;   // NUL-terminated
    private readonly (uint Uid, uint Gid)? _owner;
    private int _fd = -1;
    private ulong _device, _inode;
    private long _nextCheckMs;

    /// <param name="owner">
    /// Who gets a file this writer creates: the supervisor runs as root but the workers write as the global `user`,
    /// so a file it creates first is handed to them (an existing file is left as it is).
    /// </param>
    public LogFile(string path, (uint Uid, uint Gid)? owner = null)
    {
        _path = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        _owner = owner;
        Path = path;
        if (Open()) _nextCheckMs = Environment.TickCount64 + ReopenCheckIntervalMs;
    }

    public string Path { get; }

    /// <summary>
    /// Whether a `log` target is a plain file rather than a syslog daemon's Unix socket (HAProxy takes every path as a
    /// socket): an existing non-socket is a file; a path that does not exist yet is a socket under /dev and /run (a
    /// daemon not started yet: /dev/log), else a file to create.
    /// </summary>
    public static bool IsFileTarget(string path)
    {
        if (!path.StartsWith('/')) return false;   // stdout, stderr, ADDRESS[:PORT]
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        stat st;
        int rc;
        fixed (byte* p = bytes) rc = LibC.stat(p, &st);
        if (rc == 0) return (st.st_mode & S_IFMT) != S_IFSOCK;
        return !(path.StartsWith("/dev/", StringComparison.Ordinal) || path.StartsWith("/run/", StringComparison.Ordinal));
    }

    /// <summary>Appends one whole line; false when it could not be written.</summary>
    public bool Write(ReadOnlySpan<byte> line)
    {
        long now = Environment.TickCount64;
        if (_fd < 0 && now < _nextCheckMs) return false;   // a failed open is retried once a second, not per line
        if (_fd < 0 || now >= _nextCheckMs)
        {
            _nextCheckMs = now + ReopenCheckIntervalMs;
            // A path that no longer names the open file is opened again; when that fails (a chroot hides the path, the
            // directory is not writable for this user), lines keep going to the descriptor held.
            if ((_fd < 0 || !StillNamesOpenFile()) && !Open() && _fd < 0) return false;
        }
        fixed (byte* p = line)
        {
            int done = 0;
            while (done < line.Length)
            {
                ssize_t n = write(_fd, p + done, line.Length - done);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EINTR) continue;
                    Close();   // reopened on a later line
                    return false;
                }
                done += (int)n;
            }
        }
        return true;
    }

    /// <summary>Opens (or creates) the path and makes it the descriptor written to; false, keeping the old one, when it cannot.</summary>
    private bool Open()
    {
        // O_NONBLOCK: a FIFO without a reader fails at once (ENXIO) instead of blocking the logger; no effect on files.
        int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK;
        int fd;
        bool created = false;
        fixed (byte* p = _path)
        {
            fd = open(p, flags | O_CREAT | O_EXCL, 0x1A0 /* 0640 */);
            if (fd >= 0) created = true;
            else fd = open(p, flags | O_CREAT, 0x1A0);
        }
        if (fd < 0) return false;
        if (created && _owner is { } owner) _ = fchown(fd, owner.Uid, owner.Gid);
        stat st;
        if (fstat(fd, &st) == 0)
        {
            _device = (ulong)st.st_dev;
            _inode = (ulong)st.st_ino;
        }
        if (_fd >= 0) close(_fd);
        _fd = fd;
        return true;
    }

    private bool StillNamesOpenFile()
    {
        stat st;
        fixed (byte* p = _path)
            if (LibC.stat(p, &st) != 0) return false;
        return (ulong)st.st_dev == _device && (ulong)st.st_ino == _inode;
    }

    private void Close()
    {
        if (_fd >= 0) close(_fd);
        _fd = -1;
    }

    public void Dispose() => Close();
}
