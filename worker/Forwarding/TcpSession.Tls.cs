using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using Proxy.Worker.Stats;
using Proxy.Worker.Tls;

namespace Proxy.Worker.Forwarding;

// `mode tcp` with TLS on either side: a `bind ... ssl` listener (the session's client SslStream), a `server ... ssl`
// (the server's, made here after the connect), or both. Same shape as RelayAsync (one buffer per direction, rented
// only while data moves, FIN relayed as a half-close); kernel splicing cannot apply to bytes that are encrypted or
// decrypted in user space.
internal sealed partial class TcpSession
{
    private SslStream? _serverTls;   // `server ... ssl`: the server's side of the relay reads and writes through it

    /// <summary>
    /// `server ... ssl` (5.2): the handshake completes the connect, under `timeout connect`; a failure is a failed
    /// connect (econ; SC, or sC when it timed out), as in mode http. False: the session ends.
    /// </summary>
    private async ValueTask<bool> ServerHandshakeAsync(BackendRuntime be, ServerRuntime srv, Socket server)
    {
        (_serverTls, var outcome) = await TlsServerContext.For(srv.Config).HandshakeAsync(server, be.ConnectTimeoutMs).ConfigureAwait(false);
        if (_serverTls is not null) return true;
        ProxyCounters.Increment(ref srv.Counters.econ);
        ProxyCounters.Increment(ref be.Counters.econ);
        _tx.SetCause(outcome == TlsServerContext.HandshakeOutcome.TimedOut ? 's' : 'S', 'C');   // sC: the handshake outlived `timeout connect`
        return false;
    }

    /// <summary>The bytes `tcp-request content` inspected, the client's first, to the server through its TLS; false: the session ends.</summary>
    private async ValueTask<bool> SendInspectedAsync(SslStream serverTls)
    {
        try
        {
            await TlsRecordLimit.WriteAsync(serverTls, _inspected.AsMemory(0, _inspectedLength)).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Each side's stream for <see cref="RelayStreamsAsync"/>: its SslStream, or a NetworkStream over its plain socket; false when a side closed meanwhile (an abort).</summary>
    private bool TryOpenStreams(SslStream? clientTls, Socket server, out Stream? clientStream, out Stream? serverStream)
    {
        clientStream = serverStream = null;
        try
        {
            clientStream = (Stream?)clientTls ?? new NetworkStream(_client, ownsSocket: false);
            serverStream = (Stream?)_serverTls ?? new NetworkStream(server, ownsSocket: false);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            return false;   // the session ends as it would in the relay
        }
    }

    /// <summary>Gives the server's TLS stream back once every operation on it has completed (its `maxsslconn` place too).</summary>
    private void DisposeServerTls()
    {
        if (_serverTls is not { } tls) return;
        _serverTls = null;
        tls.Dispose();
        TlsCounters.Release();
    }

    /// <summary>
    /// One direction when either side is TLS (any failure of a stream, whatever SslStream throws, ends it as an I/O
    /// error of that side: nothing escapes to leave the other direction waiting): <paramref name="source"/> to <paramref name="destination"/> (each the side's
    /// SslStream, or a NetworkStream over its plain socket) until EOF (a FIN or close_notify), relayed as close_notify
    /// when the destination is TLS, then shutdown(SHUT_WR) on <paramref name="destinationSocket"/>; an error aborts.
    /// </summary>
    private async Task RelayStreamsAsync(Stream source, Stream destination, Socket destinationSocket, bool fromClient)
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
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    OnIoError(clientSide: fromClient, receiving: true);
                    break;
                }
                if (n == 0)
                {
                    eof = true;
                    if (!fromClient) Volatile.Write(ref _serverSentFin, 1);
                    break;
                }
                CountReceived(n, fromClient);
                try
                {
                    await WriteAsync(destination, buffer.AsMemory(0, n)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    OnIoError(clientSide: !fromClient, receiving: false);
                    break;
                }
                if (fromClient) _serverActivity = Environment.TickCount64;
                else _clientActivity = Environment.TickCount64;
            }
            if (eof && Volatile.Read(ref _aborted) == 0)
            {
                if (destination is SslStream tls)
                {
                    try
                    {
                        await tls.ShutdownAsync().ConfigureAwait(false);   // close_notify (RFC 8446 6.1), then FIN
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // the peer is gone already
                    }
                }
                ShutdownSend(destinationSocket);
            }
        }
        finally
        {
            if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A write to either side; through TLS, `tune.ssl.maxrecord` applies (TlsRecordLimit).</summary>
    private static ValueTask WriteAsync(Stream destination, ReadOnlyMemory<byte> data) =>
        destination is SslStream tls ? TlsRecordLimit.WriteAsync(tls, data) : destination.WriteAsync(data);
}
