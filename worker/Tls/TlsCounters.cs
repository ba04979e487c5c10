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
    private static int s_open;   // TLS connections of this worker, client and server sides (`maxsslconn`)
    private static int s_openLimit = int.MaxValue;

    /// <summary>`maxsslconn`: this worker's share of the instance's limit (each takes ceil(N / workers)); 0: none.</summary>
    public static void SetOpenLimit(int instanceLimit, int workers) =>
        Volatile.Write(ref s_openLimit, instanceLimit <= 0 ? int.MaxValue : (instanceLimit + Math.Max(1, workers) - 1) / Math.Max(1, workers));

    /// <summary>Whether one more TLS connection fits under `maxsslconn` (looking is not reserving).</summary>
    public static bool HasRoom => Volatile.Read(ref s_open) < Volatile.Read(ref s_openLimit);

    /// <summary>
    /// Counts a TLS connection starting (a client's handshake, or one to a server); false, counting nothing, when
    /// `maxsslconn` is reached (HAProxy refuses an outgoing one then: CO_ER_SSL_TOO_MANY).
    /// </summary>
    public static bool TryOpen()
    {
        int limit = Volatile.Read(ref s_openLimit);
        while (true)
        {
            int open = Volatile.Read(ref s_open);
            if (open >= limit) return false;
            if (Interlocked.CompareExchange(ref s_open, open + 1, open) == open) return true;
        }
    }

    /// <summary>Counts a client's TLS connection (accepted while <see cref="HasRoom"/>: the listener is what waits).</summary>
    public static void Open() => Interlocked.Increment(ref s_open);

    /// <summary>A counted TLS connection ended (its handshake failed, or it closed).</summary>
    public static void Release() => Interlocked.Decrement(ref s_open);

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
    public static void Closed(FrontendRuntime fe)
    {
        Interlocked.Decrement(ref fe.Counters.sslCur);
        Release();
    }
}
