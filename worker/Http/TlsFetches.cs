using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Http;

/// <summary>
/// The TLS sample fetches of the client connection (doc/configuration.txt 7.3.4) as ACL criteria. Each reads what
/// SslStream already holds; none allocates.
/// </summary>
internal static class TlsFetches
{
    /// <summary>True when <paramref name="criterion"/>'s sample of <paramref name="tls"/> equals one of <paramref name="values"/>.</summary>
    public static bool Matches(AclCriterion criterion, SslStream? tls, byte[][] values, bool ignoreCase)
    {
        switch (criterion)
        {
            case AclCriterion.SslFc: return tls is not null;                               // "the front connection was made over SSL"
            case AclCriterion.SslCUsed: return tls?.RemoteCertificate is not null;          // "a client certificate was presented"
        }
        if (tls is null) return false;   // no sample on a plain connection
        switch (criterion)
        {
            case AclCriterion.SslFcSni:
                return tls.TargetHostName is { Length: > 0 } sni && AnyValue(sni, values, ignoreCase);
            case AclCriterion.SslFcProtocol:
                return AnyValue(ProtocolName(tls.SslProtocol), values, ignoreCase);
            case AclCriterion.SslFcAlpn:
                var alpn = tls.NegotiatedApplicationProtocol.Protocol.Span;
                foreach (var v in values)
                    if (ignoreCase ? Ascii.EqualsIgnoreCase(alpn, v) : alpn.SequenceEqual(v)) return true;
                return false;
            default:
                return false;
        }
    }

    /// <summary>OpenSSL's names, as `ssl_fc_protocol` returns them.</summary>
    public static string ProtocolName(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
#pragma warning disable CS0618, SYSLIB0039 // obsolete protocols still have names
        SslProtocols.Tls11 => "TLSv1.1",
        SslProtocols.Tls => "TLSv1",
        SslProtocols.Ssl3 => "SSLv3",
#pragma warning restore CS0618, SYSLIB0039
        _ => "",
    };

    private static bool AnyValue(string sample, byte[][] values, bool ignoreCase)
    {
        foreach (var v in values)
        {
            if (v.Length != sample.Length) continue;
            bool equal = true;
            for (int i = 0; i < v.Length && equal; i++)
                equal = ignoreCase ? char.ToLowerInvariant((char)v[i]) == char.ToLowerInvariant(sample[i]) : v[i] == sample[i];
            if (equal) return true;
        }
        return false;
    }
}
