using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using Proxy.Worker.Tls;

namespace Proxy.Worker.Forwarding;

// TLS termination (5.1 "ssl"): the handshake of a `bind ... ssl` listener, after any PROXY header and before the first
// request byte, under `timeout client` as HAProxy's embryonic session.
internal abstract partial class ProxySession
{
    /// <summary>The client's TLS stream once the handshake succeeded; null on a plain listener. The session owns it.</summary>
    internal SslStream? Tls { get; private set; }

    /// <summary>
    /// On a TLS listener, runs the server handshake (certificate by SNI, ALPN, client certificate); true on a plain
    /// listener or a completed handshake. <paramref name="transport"/>: the stream under the TLS records when the socket
    /// is on the worker's loop (BufferedSocket.TlsTransport); else a NetworkStream through .NET's engine. A failed, garbage or timed-out handshake costs only this connection: it is
    /// counted (ssl_failed_handshake) and logged as HAProxy logs it ("SSL handshake failure", "Timeout during SSL
    /// handshake", "Connection closed during SSL handshake"); the caller then only closes.
    /// </summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    protected async ValueTask<bool> AcceptTlsAsync(Stream? transport = null)
    {
        if (Listener?.Tls is not { } context) return true;
        var fe = Frontend;
        long timeout = fe.HttpClientTimeoutMs;
        Volatile.Write(ref _handshakeDeadline, timeout > 0 ? Environment.TickCount64 + timeout : long.MaxValue);
        TlsCounters.Open();   // `maxsslconn` counts from the handshake's start (released below on a failure, else by Closed)
        SslStream? ssl = null;
        string? failure = null;
        try
        {
            // Inside the try: a socket closed meanwhile (an abort) fails here as a closed connection.
            ssl = new SslStream(transport ?? new NetworkStream(_clientSocket, ownsSocket: false), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsServerAsync(TlsListenerContext.SelectCallback, context).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // SslStream reports every failure as an exception; none may reach beyond this connection.
            failure = Volatile.Read(ref _handshakeTimedOut) != 0 ? "Timeout during SSL handshake"
                : e is AuthenticationException ? "SSL handshake failure"
                : "Connection closed during SSL handshake";
        }
        finally
        {
            Volatile.Write(ref _handshakeDeadline, 0);
        }
        if (failure is null && ssl is not null)
        {
            Tls = ssl;
            Samples.Tls = ssl;   // the `ssl_fc*` fetches, in any mode (rules, log-format)
            Samples.TlsResumed = TlsContexts.AfterHandshake(ssl, context.Settings, context.TicketKeys);
            TlsCounters.HandshakeDone(fe, Samples.TlsResumed);
            return true;
        }
        failure ??= "Connection closed during SSL handshake";   // not reached: no stream means the constructor threw
        ssl?.Dispose();
        TlsCounters.Release();
        TlsCounters.HandshakeFailed(fe);
        if (fe.TrafficLog is { } log && !(fe.Config.DontLogNull && failure[0] == 'C'))
            log.LogConnectionError(fe, RemoteEndPointOf(_clientSocket), ListenerId, failure);
        return false;
    }
}
