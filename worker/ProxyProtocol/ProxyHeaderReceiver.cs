using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Worker.Forwarding;

namespace Proxy.Worker.ProxyProtocol;

/// <summary>Why an `accept-proxy` connection was closed before its session started (HAProxy's CO_ER_PRX_* codes).</summary>
internal enum ProxyHandshakeError
{
    None,
    Empty,        // CO_ER_PRX_EMPTY: closed before sending anything
    Abort,        // CO_ER_PRX_ABORT: a socket error (reset) while waiting
    Timeout,      // CO_ER_PRX_TIMEOUT: `timeout client` expired while waiting
    Truncated,    // CO_ER_PRX_TRUNCATED: closed in the middle of a header
    NotHeader,    // CO_ER_PRX_NOT_HDR
    BadHeader,    // CO_ER_PRX_BAD_HDR
    BadProtocol,  // CO_ER_PRX_BAD_PROTO
}

/// <summary>The outcome of <see cref="ProxyHeaderReceiver.ReceiveAsync"/>: an error, or the header's addresses and authority.</summary>
internal readonly record struct ProxyHandshake(ProxyHandshakeError Error, bool Local, IPEndPoint? Source, IPEndPoint? Destination, byte[]? Authority);

/// <summary>
/// Reads the PROXY header that starts an `accept-proxy` connection (5.1), before the session reads anything else.
/// Like HAProxy's conn_recv_proxy: peek at what is queued, parse it in place, then consume exactly the header's bytes,
/// so what follows stays in the socket for the session (a tcp relay or the HTTP parser) untouched. When a peek holds
/// only part of a header, every peeked byte belongs to the header (no v1 line end yet, fewer bytes than v2's length):
/// they are consumed, and the next peek waits for new bytes rather than seeing the same ones again.
/// The buffer is pooled and given back before returning. `timeout client` is the caller's (the engine's timer closes
/// the socket, and the caller then reports <see cref="ProxyHandshakeError.Timeout"/>).
/// </summary>
internal static class ProxyHeaderReceiver
{
    /// <summary>The message HAProxy logs for each error (conn_err_code_str).</summary>
    public static string Message(ProxyHandshakeError error) => error switch
    {
        ProxyHandshakeError.Empty => "Connection closed while waiting for PROXY protocol header",
        ProxyHandshakeError.Abort => "Connection error while waiting for PROXY protocol header",
        ProxyHandshakeError.Timeout => "Timeout while waiting for PROXY protocol header",
        ProxyHandshakeError.Truncated => "Truncated PROXY protocol header received",
        ProxyHandshakeError.NotHeader => "Received something which does not look like a PROXY protocol header",
        ProxyHandshakeError.BadHeader => "Received an invalid PROXY protocol header",
        ProxyHandshakeError.BadProtocol => "Received an unhandled protocol in the PROXY protocol header",
        _ => "",
    };

    /// <summary>Receives and consumes the header; <paramref name="maxLength"/> bounds it (tune.bufsize, as HAProxy's one buffer).</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    public static async ValueTask<ProxyHandshake> ReceiveAsync(Socket socket, int maxLength)
    {
        var op = SocketOperationPool.Rent();
        // A v1 line or a v2 header without TLVs fits the first rental; a longer v2 header takes a bigger one.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(256);
        int have = 0;
        try
        {
            while (true)
            {
                int room = Math.Min(buffer.Length, maxLength) - have;
                var error = await op.PeekAsync(socket, buffer.AsMemory(have, room)).ConfigureAwait(false);
                if (error != SocketError.Success) return Fail(ProxyHandshakeError.Abort);
                int n = op.BytesTransferred;
                if (n == 0) return Fail(have == 0 ? ProxyHandshakeError.Empty : ProxyHandshakeError.Truncated);
                var status = ProxyHeaderParser.Parse(buffer.AsSpan(0, have + n), maxLength, out var header);
                switch (status)
                {
                    case ProxyHeaderStatus.Complete:
                        if (!await ConsumeAsync(socket, op, buffer.AsMemory(have, header.Length - have)).ConfigureAwait(false))
                            return Fail(ProxyHandshakeError.Abort);
                        byte[]? authority = header.AuthorityLength > 0
                            ? buffer.AsSpan(header.AuthorityOffset, header.AuthorityLength).ToArray()
                            : null;
                        return new ProxyHandshake(ProxyHandshakeError.None, header.Local, header.Source, header.Destination, authority);
                    case ProxyHeaderStatus.NeedMore:
                        if (!await ConsumeAsync(socket, op, buffer.AsMemory(have, n)).ConfigureAwait(false))
                            return Fail(ProxyHandshakeError.Abort);
                        have += n;
                        if (have == buffer.Length) buffer = Grow(buffer, have, maxLength);
                        break;
                    case ProxyHeaderStatus.NotHeader:
                        return Fail(ProxyHandshakeError.NotHeader);
                    case ProxyHeaderStatus.BadProtocol:
                        return Fail(ProxyHandshakeError.BadProtocol);
                    default:
                        return Fail(ProxyHandshakeError.BadHeader);
                }
            }
        }
        finally
        {
            op.Clear();
            SocketOperationPool.Return(op);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ProxyHandshake Fail(ProxyHandshakeError error) => new(error, false, null, null, null);

    /// <summary>Takes <paramref name="target"/>.Length bytes already seen by a peek off the socket (they are queued: no wait).</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> ConsumeAsync(Socket socket, SocketOperation op, Memory<byte> target)
    {
        while (!target.IsEmpty)
        {
            if (await op.ReceiveAsync(socket, target).ConfigureAwait(false) != SocketError.Success || op.BytesTransferred == 0) return false;
            target = target[op.BytesTransferred..];
        }
        return true;
    }

    private static byte[] Grow(byte[] buffer, int used, int maxLength)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(buffer.Length * 2, 256), Math.Max(maxLength, 256)));
        buffer.AsSpan(0, used).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }
}
