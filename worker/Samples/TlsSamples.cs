using System.Net.Security;
using System.Security.Authentication;
using Proxy.Shared.Config;
using Proxy.Worker.Tls;

namespace Proxy.Worker.Samples;

/// <summary>
/// The TLS sample fetches of the client connection (doc/configuration.txt 7.3.4), read from what SslStream already
/// holds. None allocates: a string SslStream gives (the SNI) is copied into the context's scratch space.
/// </summary>
internal static class TlsSamples
{
    /// <summary>
    /// The fetch's sample; false (no sample) for a string fetch on a plain connection, or a client-certificate fetch
    /// without one. <paramref name="entry"/> and <paramref name="occurrence"/>: `ssl_c_s_dn(ENTRY,OCC)`'s arguments.
    /// </summary>
    public static bool TryFetch(SampleFetchKind kind, SampleContext ctx, ReadOnlySpan<byte> entry, int occurrence, out Sample s)
    {
        s = default;
        SslStream? tls = ctx.Tls;
        switch (kind)
        {
            case SampleFetchKind.SslFc: s = Sample.OfBool(tls is not null); return true;                          // "made over SSL"
            case SampleFetchKind.SslCUsed: s = Sample.OfBool(tls?.RemoteCertificate is not null); return true;   // a client certificate
            // The verification's error id, 0 when none: a certificate that failed verification never gets this far
            // (`verify optional|required` refuse it in the handshake, and this proxy has no `crt-ignore-err`).
            case SampleFetchKind.SslCVerify: s = Sample.OfInt(0); return tls is not null;
        }
        if (tls is null) return false;
        if (kind is >= SampleFetchKind.SslCSDn and <= SampleFetchKind.SslCVersion) return TryClientCertificate(kind, ctx, entry, occurrence, out s);
        switch (kind)
        {
            case SampleFetchKind.SslFcSni:
                return tls.TargetHostName is { Length: > 0 } sni && Ascii(ctx, sni, out s);
            case SampleFetchKind.SslFcProtocol:
                return ProtocolName(tls.SslProtocol) is { Length: > 0 } name && Ascii(ctx, name, out s);
            case SampleFetchKind.SslFcCipher:
                return CipherName(tls.NegotiatedCipherSuite) is { Length: > 0 } cipher && Ascii(ctx, cipher, out s);
            case SampleFetchKind.SslFcSessionId:
                return SessionId(ctx, tls, out s);
            case SampleFetchKind.SslFcAlpn:
                var alpn = tls.NegotiatedApplicationProtocol.Protocol;
                if (alpn.IsEmpty) return false;
                s = Sample.OfString(alpn.Span);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// `ssl_fc_session_id`: OpenSSL's id of the connection's session (SSL_SESSION_get_id, as HAProxy reads it), binary;
    /// none when the SSL* cannot be reached (TlsContexts) or the session has no id.
    /// </summary>
    private static unsafe bool SessionId(SampleContext ctx, SslStream tls, out Sample s)
    {
        s = default;
        if (TlsContexts.ConnectionOf(tls) is not { } handle) return false;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            nint session = LibSsl.SSL_get_session(handle.DangerousGetHandle());
            if (session == 0) return false;
            uint length;
            byte* id = LibSsl.SSL_SESSION_get_id(session, &length);
            var free = ctx.ScratchFree;
            if (id == null || length == 0 || length > free.Length) return false;
            new ReadOnlySpan<byte>(id, (int)length).CopyTo(free);
            s = Sample.OfBinary(ctx.Commit((int)length));
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private static bool TryClientCertificate(SampleFetchKind kind, SampleContext ctx, ReadOnlySpan<byte> entry, int occurrence, out Sample s)
    {
        s = default;
        if (ctx.TlsPeer is not { } peer) return false;
        switch (kind)
        {
            case SampleFetchKind.SslCSDn or SampleFetchKind.SslCIDn:
                bool subject = kind == SampleFetchKind.SslCSDn;
                if (entry.IsEmpty) { s = Sample.OfString(peer.Dn(subject)); return true; }
                if (peer.DnEntry(subject, entry, occurrence) is not { } value) return false;
                s = Sample.OfString(value);
                return true;
            case SampleFetchKind.SslCSerial: s = Sample.OfBinary(peer.Serial); return true;
            case SampleFetchKind.SslCSha1: s = Sample.OfBinary(peer.Sha1); return true;
            case SampleFetchKind.SslCDer: s = Sample.OfBinary(peer.Der); return true;
            case SampleFetchKind.SslCNotBefore: s = Sample.OfString(peer.NotBefore); return true;
            case SampleFetchKind.SslCNotAfter: s = Sample.OfString(peer.NotAfter); return true;
            case SampleFetchKind.SslCVersion: s = Sample.OfInt(peer.Certificate.Version); return true;
            default: return false;
        }
    }

    /// <summary>
    /// OpenSSL's name of the suite, as `ssl_fc_cipher` returns it: TLS 1.3 suites keep their IANA names
    /// (TLS_AES_128_GCM_SHA256); the TLS 1.2 ones OpenSSL offers by default have their own (ECDHE-RSA-AES128-GCM-SHA256).
    /// </summary>
    public static string CipherName(TlsCipherSuite suite) => suite switch
    {
        TlsCipherSuite.TLS_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        TlsCipherSuite.TLS_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        TlsCipherSuite.TLS_AES_128_CCM_SHA256 => "TLS_AES_128_CCM_SHA256",
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305",
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 => "ECDHE-RSA-AES128-SHA256",
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 => "ECDHE-RSA-AES256-SHA384",
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 => "ECDHE-ECDSA-AES128-SHA256",
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 => "ECDHE-ECDSA-AES256-SHA384",
        _ => "",
    };

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
