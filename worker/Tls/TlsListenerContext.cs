using System.Formats.Asn1;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Tls;

/// <summary>
/// A `bind ... ssl` listener's TLS side, built once per engine from the shipped bytes (the worker opens no file): one
/// SslStreamCertificateContext and one SslServerAuthenticationOptions per certificate, and the SNI table that picks
/// between them (5.1 "crt": exact names first, then wildcards, else the first certificate; `strict-sni`: refused).
/// The options are shared by every handshake (SslStream only reads them), so a handshake allocates nothing here.
/// </summary>
internal sealed class TlsListenerContext
{
    private readonly SslServerAuthenticationOptions[] _options;
    private readonly Dictionary<string, int> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, int> _wildcard = new(StringComparer.OrdinalIgnoreCase);   // "example.org" for "*.example.org"
    private readonly bool _strictSni;
    private readonly X509Certificate2Collection? _trusted;
    private readonly HashSet<string> _revoked = new(StringComparer.Ordinal);   // issuer DN (hex) + '/' + serial (hex)
    private readonly TlsVerify _verify;

    /// <summary>`no-tls-tickets`, the cipher, curve and signature lists: set on the listener's OpenSSL contexts (TlsContexts), not through SslStream.</summary>
    public TlsOptions Settings { get; }

    /// <summary>The ticket keys of the listener's contexts (TlsTicketKeys.Allocate): its `tls-ticket-keys`, else the instance's.</summary>
    public nint TicketKeys { get; }

    public TlsListenerContext(TlsBindConfig config)
    {
        _strictSni = config.StrictSni;
        _verify = config.Verify;
        _trusted = TlsCertificates.Trusted(config.CaFile);
        Settings = config.Options;
        TicketKeys = TlsContexts.KeysFor(config.TicketKeys);
        if (config.CrlFile is { } crl)
            foreach (var der in PemFile.Crls(Encoding.ASCII.GetString(crl))) AddRevoked(der);
        var protocols = ProtocolsOf(config.Options.Versions);
        List<SslApplicationProtocol>? alpn = config.Alpn.Count == 0 ? null : config.Alpn.Select(a => new SslApplicationProtocol(a)).ToList();
        _options = new SslServerAuthenticationOptions[config.Certificates.Count];
        for (int i = 0; i < config.Certificates.Count; i++)
        {
            var file = config.Certificates[i];
            var context = TlsCertificates.Context(file.Pem, out var cert);
            _options[i] = new SslServerAuthenticationOptions
            {
                ServerCertificateContext = context,
                EnabledSslProtocols = protocols,
                ApplicationProtocols = alpn,
                ClientCertificateRequired = _verify != TlsVerify.None,
                RemoteCertificateValidationCallback = _verify != TlsVerify.None ? ValidateClient : null,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                // Always on: off, SslStream would build a new OpenSSL context for each handshake (TlsContexts says
                // why); `no-tls-tickets` and the session cache are set on the context instead.
                AllowTlsResume = true,
            };
            TlsContexts.WarmUp(_options[i], Settings, TicketKeys);
            var names = file.SniFilters.Count > 0 ? file.SniFilters : NamesOf(cert);
            foreach (var name in names)
            {
                if (name.StartsWith("*.", StringComparison.Ordinal)) _wildcard.TryAdd(name[2..], i);
                else _exact.TryAdd(name, i);
            }
        }
    }

    /// <summary>The options for a client hello naming <paramref name="sni"/>; null when `strict-sni` refuses it.</summary>
    public SslServerAuthenticationOptions? Select(string? sni)
    {
        if (!string.IsNullOrEmpty(sni))
        {
            if (_exact.TryGetValue(sni, out int i)) return _options[i];
            int dot = sni.IndexOf('.');
            if (dot > 0 && _wildcard.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(sni.AsSpan(dot + 1), out i)) return _options[i];
        }
        return _strictSni ? null : _options[0];
    }

    /// <summary>SslStream's per-hello callback: the certificate for the SNI, or a failed handshake under `strict-sni`.</summary>
    public static readonly ServerOptionsSelectionCallback SelectCallback = (_, hello, state, _) =>
        ((TlsListenerContext)state!).Select(hello.ServerName) is { } options
            ? ValueTask.FromResult(options)
            : ValueTask.FromException<SslServerAuthenticationOptions>(new AuthenticationException("strict-sni: no certificate for the requested name"));

    /// <summary>
    /// `verify optional|required` with `ca-file` and `crl-file` (5.1): the client's chain must end at one of the CAs,
    /// and its certificate must not be in a CRL. No certificate passes under `optional` only.
    /// </summary>
    private bool ValidateClient(object sender, X509Certificate? certificate, X509Chain? sent, SslPolicyErrors errors)
    {
        if (certificate is null) return _verify == TlsVerify.Optional;
        using var cert = new X509Certificate2(certificate);
        if (!TlsCertificates.ChainsTo(cert, _trusted, sent)) return false;
        return _revoked.Count == 0 || !_revoked.Contains(RevocationKey(cert.IssuerName.RawData, cert.SerialNumberBytes.Span));
    }

    /// <summary>Reads a CRL's issuer and revoked serial numbers (RFC 5280 5.1: TBSCertList).</summary>
    private void AddRevoked(byte[] der)
    {
        var crl = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var tbs = crl.ReadSequence();
        if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer)) tbs.ReadInteger();   // version
        tbs.ReadSequence();                                                            // signature algorithm
        byte[] issuer = tbs.ReadEncodedValue().ToArray();
        tbs.ReadEncodedValue();                                                        // thisUpdate
        if (tbs.HasData && !tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence)) tbs.ReadEncodedValue();   // nextUpdate
        if (!tbs.HasData || !tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence)) return;
        var revoked = tbs.ReadSequence();
        while (revoked.HasData)
        {
            var entry = revoked.ReadSequence();
            _revoked.Add(RevocationKey(issuer, entry.ReadIntegerBytes().Span));
        }
    }

    private static string RevocationKey(byte[] issuer, ReadOnlySpan<byte> serial) =>
        Convert.ToHexString(issuer) + "/" + Convert.ToHexString(serial.TrimStart((byte)0));

    /// <summary>The names a certificate answers for (5.1 "crt": CN and SAN DNS names).</summary>
    private static List<string> NamesOf(X509Certificate2 cert)
    {
        var names = new List<string>();
        if (cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false) is { Length: > 0 } cn) names.Add(cn);
        foreach (var ext in cert.Extensions)
            if (ext is X509SubjectAlternativeNameExtension san)
                foreach (var dns in san.EnumerateDnsNames()) names.Add(dns);
        return names;
    }

    /// <summary>The configured versions as SslProtocols; SSLv3, TLS 1.0 and 1.1 are asked for only when enabled.</summary>
    internal static SslProtocols ProtocolsOf(TlsVersions versions)
    {
        var p = SslProtocols.None;
#pragma warning disable CS0618, SYSLIB0039 // obsolete protocols: only when the configuration enables them (ssl-min-ver)
        if ((versions & TlsVersions.SslV3) != 0) p |= SslProtocols.Ssl3;
        if ((versions & TlsVersions.TlsV10) != 0) p |= SslProtocols.Tls;
        if ((versions & TlsVersions.TlsV11) != 0) p |= SslProtocols.Tls11;
#pragma warning restore CS0618, SYSLIB0039
        if ((versions & TlsVersions.TlsV12) != 0) p |= SslProtocols.Tls12;
        if ((versions & TlsVersions.TlsV13) != 0) p |= SslProtocols.Tls13;
        return p;
    }
}
