using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Worker.Io;
using Proxy.Worker.Tls;
using Tmds.Linux;

namespace Proxy.Worker.Forwarding;

// The stream under a `bind ... ssl` connection's SslStream when the socket is on the worker's loop (issue 16): TLS
// records are read and written with recv/send(MSG_DONTWAIT) and wait through the loop's IoRegistration, as plain
// connections do, instead of through .NET's socket engine (its epoll thread, a SocketAsyncContext per socket and the
// fcntl pair). SslStream's zero-byte read (BufferedSocket.Tls.cs: the idle wait holds no record buffer) becomes a wait
// for readability. Errors are IOExceptions, which is what SslStream expects of its inner stream; the socket, not this
// stream, owns the descriptor.
internal sealed partial class BufferedSocket
{
    /// <summary>The stream for the SslStream of this socket once <see cref="UseIoLoop"/> moved it to the loop.</summary>
    public Stream TlsTransport => TlsSide.Transport ??= NewTransport();

    private LoopTransport NewTransport()
    {
        TlsSide.RecordBounded = s_ownRecords && TlsContexts.Reachable;   // the records move here after the handshake (TakeRecords)
        return new LoopTransport(this);
    }

    /// <summary>One read for SslStream: at least one byte (0 at EOF); an empty buffer only waits until data or EOF is there.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<int> TransportReadAsync(Memory<byte> into)
    {
        var io = _io!;
        while (true)
        {
            if (_drained || !io.Added)
            {
                if (await WaitReadable(io).ConfigureAwait(false) != SocketError.Success) throw new IOException("the connection was closed");
                _drained = false;
            }
            if (into.IsEmpty) return 0;
            into = into[..RecordBound(into.Length)];
            int seen = io.Read.Sequence;
            long n = Recv(into.Span, out int error);
            if (n > 0)
            {
                CountRecordBytes(into.Span[..(int)n]);
                _drained = n < into.Length;   // a short read emptied the queue: the next read waits for an event first
                _readSeen = seen;
                LastActivity = Environment.TickCount64;
                return (int)n;
            }
            if (n == 0)
            {
                ReceivedEof = true;
                return 0;
            }
            if (error == LibC.EAGAIN)
            {
                _drained = true;
                _readSeen = seen;
                continue;
            }
            if (error != LibC.EINTR) throw new IOException($"recv failed: errno {error}");
        }
    }

    private sealed class LoopTransport(BufferedSocket socket) : Stream
    {
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            socket.TransportReadAsync(buffer);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!await socket.SendOnLoopAsync(socket._io!, buffer).ConfigureAwait(false)) throw new IOException("send failed");
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // SslStream's async paths never read or write synchronously; these exist for the Stream contract.
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();
    }
}
