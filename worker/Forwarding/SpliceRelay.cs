using System.Net.Sockets;
using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// Zero-copy forwarding with splice(2), HAProxy's `option splice-auto|splice-request|splice-response`: bytes move
/// from one socket into a kernel pipe and from the pipe into the other socket without being copied to user space.
/// Each call is synchronous and leaves the pipe empty, so one pipe per thread serves every session (HAProxy keeps
/// a pool of pipes, `tune.maxpipes`, because its sessions may leave data in theirs); an idle session holds none.
/// </summary>
internal static unsafe partial class SpliceRelay
{
    /// <summary>Bytes asked of the source per call: a pipe's default capacity (16 pages).</summary>
    public const int ChunkSize = 65536;

    /// <summary><see cref="Move"/> results other than a byte count: the source had nothing (wait), or failed.</summary>
    public const int WouldBlock = -1, Failed = -2;

    private const uint SPLICE_F_MOVE = 1, SPLICE_F_NONBLOCK = 2;

    [ThreadStatic] private static KernelPipe? t_pipe;

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint SpliceCall(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

    /// <summary>
    /// Moves what <paramref name="source"/> has (up to <see cref="ChunkSize"/>) to <paramref name="destination"/>.
    /// Returns the bytes taken from the source, 0 at its FIN, <see cref="WouldBlock"/> or <see cref="Failed"/>.
    /// What the destination could not take at once (its send buffer full, or an error) is copied out of the pipe
    /// into <paramref name="spill"/> (grown from the pool when needed) and counted in <paramref name="spilled"/>:
    /// the caller sends it the ordinary way, which waits for the destination and reports its errors.
    /// </summary>
    public static int Move(Socket source, Socket destination, ref byte[] spill, out int spilled)
    {
        spilled = 0;
        var pipe = t_pipe ??= KernelPipe.Create();
        if (pipe is null) return Failed;
        SafeSocketHandle src = source.SafeHandle, dst = destination.SafeHandle;
        bool srcRef = false, dstRef = false;
        try
        {
            // References keep the descriptors from being closed (and their numbers reused by another connection)
            // by a concurrent abort while the raw numbers are in use.
            src.DangerousAddRef(ref srcRef);
            dst.DangerousAddRef(ref dstRef);
            int srcFd = (int)src.DangerousGetHandle(), dstFd = (int)dst.DangerousGetHandle();
            nint taken = SpliceCall(srcFd, 0, pipe.WriteFd, 0, ChunkSize, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (taken < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                return errno == EAGAIN || errno == EINTR ? WouldBlock : Failed;
            }
            if (taken == 0) return 0;
            nint left = taken;
            while (left > 0)
            {
                nint sent = SpliceCall(pipe.ReadFd, 0, dstFd, 0, (nuint)left, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                if (sent <= 0) break;
                left -= sent;
            }
            if (left > 0 && !pipe.Drain((int)left, ref spill))
            {
                t_pipe = null;   // a pipe that could not be emptied is not reused
                pipe.Dispose();
                return Failed;
            }
            spilled = (int)left;
            return (int)taken;
        }
        catch (ObjectDisposedException)
        {
            return Failed;   // the session was aborted meanwhile
        }
        finally
        {
            if (dstRef) dst.DangerousRelease();
            if (srcRef) src.DangerousRelease();
        }
    }

    /// <summary>A pipe's two ends, non-blocking and close-on-exec; closed when its thread is gone.</summary>
    private sealed class KernelPipe : IDisposable
    {
        private KernelPipe(int readFd, int writeFd)
        {
            ReadFd = readFd;
            WriteFd = writeFd;
        }

        ~KernelPipe() => Close();

        public int ReadFd { get; }
        public int WriteFd { get; }

        public static KernelPipe? Create()
        {
            int* fds = stackalloc int[2];
            if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return null;
            return new KernelPipe(fds[0], fds[1]);
        }

        /// <summary>Reads <paramref name="count"/> bytes out of the pipe into <paramref name="into"/>.</summary>
        public bool Drain(int count, ref byte[] into)
        {
            if (into.Length < count)
            {
                if (into.Length > 0) System.Buffers.ArrayPool<byte>.Shared.Return(into);
                into = System.Buffers.ArrayPool<byte>.Shared.Rent(count);
            }
            int got = 0;
            fixed (byte* p = into)
            {
                while (got < count)
                {
                    long n = (long)read(ReadFd, p + got, (Tmds.Linux.size_t)(count - got));
                    if (n <= 0) return false;   // the bytes are in the pipe: this cannot block or end
                    got += (int)n;
                }
            }
            return true;
        }

        public void Dispose()
        {
            Close();
            GC.SuppressFinalize(this);
        }

        private void Close()
        {
            close(ReadFd);
            close(WriteFd);
        }
    }
}
