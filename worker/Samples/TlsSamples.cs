using System.Net.Security;
using System.Security.Authentication;
using Proxy.Shared.Config;

namespace Proxy.Worker.Samples;

/// <summary>
/// The TLS sample fetches of the client connection (doc/configuration.txt 7.3.4), read from what SslStream already
/// holds. None allocates: a string SslStream gives (the SNI) is copied into the context's scratch space.
/// </summary>
internal static class TlsSamples
{
    /// <summary>The fetch's sample; false (no sample) for a string fetch on a plain connection.</summary>
    public static bool TryFetch(SampleFetchKind kind, SampleContext ctx, out Sample s)
    {
        s = default;
        SslStream? tls = ctx.Tls;
        switch (kind)
        {
            case SampleFetchKind.SslFc: s = Sample.OfBool(tls is not null); return true;                          // "made over SSL"
            case SampleFetchKind.SslCUsed: s = Sample.OfBool(tls?.RemoteCertificate is not null); return true;   // a client certificate
        }
        if (tls is null) return false;
        switch (kind)
        {
            case SampleFetchKind.SslFcSni:
                return tls.TargetHostName is { Length: > 0 } sni && Ascii(ctx, sni, out s);
            case SampleFetchKind.SslFcProtocol:
                return ProtocolName(tls.SslProtocol) is { Length: > 0 } name && Ascii(ctx, name, out s);
            case SampleFetchKind.SslFcAlpn:
                var alpn = tls.NegotiatedApplicationProtocol.Protocol;
                if (alpn.IsEmpty) return false;
                s = Sample.OfString(alpn.Span);
                return true;
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

    private static bool Ascii(SampleContext ctx, string text, out Sample s)
    {
        s = default;
        var free = ctx.ScratchFree;
        if (text.Length > free.Length) return false;
        for (int i = 0; i < text.Length; i++) free[i] = (byte)text[i];
        s = Sample.OfString(ctx.Commit(text.Length));
        return true;
    }
}
