using System.Net.Security;
using Proxy.Worker.Runtime;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Tls;

/// <summary>
/// Counts TLS on the frontend's board row: ssl_sess (handshakes completed), ssl_failed_handshake, and the open TLS
/// sessions behind `show info` CurrSslConns; <see cref="Total"/> feeds SslRate.
/// </summary>
internal static class TlsCounters
{
    private static long s_total;

    /// <summary>Handshakes completed by this worker, for the publisher's SslRate.</summary>
    public static long Total => Volatile.Read(ref s_total);

    public static void HandshakeDone(FrontendRuntime fe, SslStream ssl)
    {
        Interlocked.Increment(ref s_total);
        ProxyCounters.Increment(ref fe.Counters.sslSess);
        ProxyCounters.Increment(ref fe.Counters.sslCur);
    }

    public static void HandshakeFailed(FrontendRuntime fe) => ProxyCounters.Increment(ref fe.Counters.sslFailedHandshake);

    /// <summary>A TLS session (one that completed its handshake) ended.</summary>
    public static void Closed(FrontendRuntime fe) => Interlocked.Decrement(ref fe.Counters.sslCur);
}
