using System.Net.Security;

namespace Proxy.Worker.Forwarding;

// The TLS transport of a BufferedSocket (5.1 "ssl"): the same buffer and the same contract, bytes read and written
// through the session's SslStream. The plain path pays one null test per receive and per send for it, no virtual call.
internal sealed partial class BufferedSocket
{
    /// <summary>
    /// Reads and writes through <paramref name="tls"/> from now on; the socket owns it (disposed with it).
    /// <paramref name="counted"/>: it holds a `maxsslconn` place (TlsCounters.TryOpen), given back at the dispose.
    /// </summary>
    public void UseTls(SslStream tls, bool counted = false)
    {
        var t = TlsSide;
        t.Stream = tls;
        t.Counted = counted;
        TakeRecords(tls);   // on the loop: the records are read and written here (BufferedSocket.TlsRecords.cs)
    }

    /// <summary>The TLS stream, for the `ssl_fc*` fetches; null on a plain connection.</summary>
    public SslStream? Tls => _tlsState?.Stream;

    /// <summary><see cref="ReceiveAsync"/> through TLS: same idle wait without a buffer (a zero-byte read of SslStream
    /// waits on the socket and holds no record buffer), same results (count, 0 at EOF or close_notify, -1 on error).</summary>
    private async ValueTask<int> ReceiveTlsAsync(SslStream tls, bool expectData)
    {
        try
        {
            if (_start == _end && !_lastReadFilled && !expectData)
                await tls.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
            if (_buffer.Length == 0)
            {
                if (Volatile.Read(ref _disposed) != 0) return -1;
                _buffer = RentBuffer();
            }
            int room = _buffer.Length - _end;
            int n = await tls.ReadAsync(_buffer.AsMemory(_end)).ConfigureAwait(false);
            _lastReadFilled = n == room;
            if (n == 0) { ReceivedEof = true; return 0; }
            _end += n;
            LastActivity = Environment.TickCount64;
            return n;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or System.Security.Authentication.AuthenticationException)
        {
            return -1;   // reset, abort, a bad record: as a socket error
        }
    }

    /// <summary><see cref="SendAsync"/> through TLS; false on any error.</summary>
    private async ValueTask<bool> SendTlsAsync(SslStream tls, ReadOnlyMemory<byte> data)
    {
        try
        {
            await Proxy.Worker.Tls.TlsRecordLimit.WriteAsync(tls, data).ConfigureAwait(false);   // tune.ssl.maxrecord
            LastActivity = Environment.TickCount64;
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
            return false;
        }
    }
}
