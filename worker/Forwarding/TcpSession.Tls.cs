using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;

namespace Proxy.Worker.Forwarding;

// `mode tcp` over a `bind ... ssl` listener: the client side is the session's SslStream, the server side a plain socket.
// Same shape as RelayAsync (one buffer per direction, rented only while data moves, FIN relayed as a half-close);
// kernel splicing cannot apply to bytes that are decrypted in user space.
internal sealed partial class TcpSession
{
    /// <summary>Client (TLS) to server: decrypted bytes are sent on; the client's close_notify or FIN becomes shutdown(SHUT_WR).</summary>
    private async Task RelayFromTlsAsync(SslStream source, Socket destination, SocketOperation op)
    {
        byte[] buffer = [];
        bool eof = false;
        try
        {
            while (true)
            {
                if (buffer.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = [];
                }
                int n;
                try
                {
                    await source.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);   // idle: wait without a buffer
                    buffer = ArrayPool<byte>.Shared.Rent(_engine.BufferSize);
                    n = await source.ReadAsync(buffer).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
                {
                    OnIoError(clientSide: true, receiving: true);
                    break;
                }
                if (n == 0) { eof = true; break; }
                CountReceived(n, fromClient: true);
                if (!await SendAllAsync(destination, op, buffer.AsMemory(0, n)).ConfigureAwait(false))
                {
                    OnIoError(clientSide: false, receiving: false);
                    break;
                }
                _serverActivity = Environment.TickCount64;
            }
            if (eof && Volatile.Read(ref _aborted) == 0) ShutdownSend(destination);
        }
        finally
        {
            if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Server to client (TLS): bytes are encrypted on; the server's FIN becomes close_notify and shutdown(SHUT_WR).</summary>
    private async Task RelayToTlsAsync(Socket source, SslStream destination, SocketOperation op)
    {
        byte[] buffer = [];
        bool eof = false;
        try
        {
            while (true)
            {
                if (buffer.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = [];
                }
                if (await op.ReceiveAsync(source, Memory<byte>.Empty).ConfigureAwait(false) != SocketError.Success)
                {
                    OnIoError(clientSide: false, receiving: true);
                    break;
                }
                buffer = ArrayPool<byte>.Shared.Rent(_engine.BufferSize);
                if (await op.ReceiveAsync(source, buffer).ConfigureAwait(false) != SocketError.Success)
                {
                    OnIoError(clientSide: false, receiving: true);
                    break;
                }
                int n = op.BytesTransferred;
                if (n == 0) { eof = true; Volatile.Write(ref _serverSentFin, 1); break; }
                CountReceived(n, fromClient: false);
                try
                {
                    // tune.ssl.maxrecord: one record per write (SslStream), so a limit is smaller writes.
                    int limit = Proxy.Worker.Tls.TlsContexts.MaxRecord;
                    for (int sent = 0; sent < n; sent += limit > 0 ? limit : n)
                        await destination.WriteAsync(buffer.AsMemory(sent, limit > 0 ? Math.Min(limit, n - sent) : n)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
                {
                    OnIoError(clientSide: true, receiving: false);
                    break;
                }
                _clientActivity = Environment.TickCount64;
            }
            if (eof && Volatile.Read(ref _aborted) == 0)
            {
                try
                {
                    await destination.ShutdownAsync().ConfigureAwait(false);   // close_notify (RFC 8446 6.1), then FIN
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
                {
                    // the client is gone already
                }
                ShutdownSend(_client);
            }
        }
        finally
        {
            if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
