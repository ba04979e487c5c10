using Proxy.Worker.Runtime;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Tls;

/// <summary>
/// Counts TLS on the frontend's board row: ssl_sess (handshakes completed), ssl_reused_sess (those that resumed a
/// session), ssl_failed_handshake, and the open TLS sessions behind `show info` CurrSslConns; <see cref="Total"/> feeds
/// SslRate and <see cref="FullHandshakes"/> SslFrontendKeyRate.
/// </summary>
internal static class TlsCounters
{
    private static long s_total, s_full;

    /// <summary>Handshakes completed by this worker, for the publisher's SslRate.</summary>
    public static long Total => Volatile.Read(ref s_total);

    /// <summary>Completed handshakes that did not resume a session (a key computation each), for SslFrontendKeyRate.</summary>
    public static long FullHandshakes => Volatile.Read(ref s_full);

    public static void HandshakeDone(FrontendRuntime fe, bool resumed)
    {
        Interlocked.Increment(ref s_total);
        if (resumed) ProxyCounters.Increment(ref fe.Counters.sslReusedSess);
        else Interlocked.Increment(ref s_full);
        ProxyCounters.Increment(ref fe.Counters.sslSess);
        ProxyCounters.Increment(ref fe.Counters.sslCur);
    }

    public static void HandshakeFailed(FrontendRuntime fe) => ProxyCounters.Increment(ref fe.Counters.sslFailedHandshake);

    /// <summary>A TLS session (one that completed its handshake) ended.</summary>
    public static void Closed(FrontendRuntime fe) => Interlocked.Decrement(ref fe.Counters.sslCur);
}
