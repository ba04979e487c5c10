using System.Net.Security;
using Proxy.Worker.Runtime;

namespace Proxy.Worker.Tls;

/// <summary>Counts TLS handshakes on the frontend's board row (ssl_sess, ssl_reused_sess, ssl_failed_handshake).</summary>
internal static class TlsCounters
{
    public static void HandshakeDone(FrontendRuntime fe, SslStream ssl)
    {
    }

    public static void HandshakeFailed(FrontendRuntime fe)
    {
    }
}
