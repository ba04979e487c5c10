namespace Proxy.Shared.Config;

// The TLS part of the model (doc/configuration.txt 3.1 "ssl-*", 5.1 bind "ssl", "crt", ...). Certificates travel as the
// bytes the supervisor read and checked, so a worker never opens a certificate file (`user`/`chroot` keep working) and
// every worker of a generation serves the very same certificates.

/// <summary>Protocol versions in HAProxy's order (`ssl-min-ver SSLv3|TLSv1.0|TLSv1.1|TLSv1.2|TLSv1.3`).</summary>
[Flags]
public enum TlsVersions
{
    None = 0,
    SslV3 = 1,
    TlsV10 = 2,
    TlsV11 = 4,
    TlsV12 = 8,
    TlsV13 = 16,
    All = SslV3 | TlsV10 | TlsV11 | TlsV12 | TlsV13,
}

/// <summary>`verify none|optional|required` (5.1): whether a client certificate is asked for and must be valid.</summary>
public enum TlsVerify { None, Optional, Required }

/// <summary>
/// One certificate of a `crt` / `crt-list` entry: the PEM file as read (certificate, its chain and the private key; the key
/// from PATH.key when the file has none, as HAProxy's `ssl-load-extra-files`), and the crt-list SNI filters, which replace
/// the certificate's own names (CN and SAN) when given.
/// </summary>
public sealed record CertificateFile(string Path, byte[] Pem, IReadOnlyList<string> SniFilters);

/// <summary>Version and session settings shared by `bind`, `server` and their `ssl-default-*-options` globals.</summary>
public sealed record TlsOptions
{
    /// <summary>`ssl-min-ver` / `ssl-max-ver` / `no-*` / `force-*` combined. HAProxy 2.2+ defaults to TLSv1.2 and up.</summary>
    public TlsVersions Versions { get; init; } = TlsVersions.TlsV12 | TlsVersions.TlsV13;

    /// <summary>`no-tls-tickets`: no RFC 5077 session tickets; sessions resume from the worker's session cache only.</summary>
    public bool NoTlsTickets { get; init; }

    /// <summary>`ciphers` (TLS 1.2 and below, OpenSSL syntax) as written; null: the platform's default.</summary>
    public string? Ciphers { get; init; }

    /// <summary>`ciphersuites` (TLS 1.3, OpenSSL's names) as written; null: the platform's default.</summary>
    public string? CipherSuites { get; init; }

    /// <summary>`curves` (or `ecdhe`, one curve): the key exchange groups offered, in order; null: OpenSSL's.</summary>
    public string? Curves { get; init; }

    /// <summary>`sigalgs`: the signature algorithms of the handshake; null: OpenSSL's.</summary>
    public string? Sigalgs { get; init; }

    /// <summary>`client-sigalgs`: those asked of a client certificate; null: OpenSSL's.</summary>
    public string? ClientSigalgs { get; init; }

    /// <summary>`prefer-client-ciphers`: the client's order decides; else the server's (HAProxy's default).</summary>
    public bool PreferClientCiphers { get; init; }

    public static TlsOptions Default { get; } = new();
}

/// <summary>A `bind ... ssl` listener's TLS settings (5.1).</summary>
public sealed record TlsBindConfig(IReadOnlyList<CertificateFile> Certificates, TlsOptions Options)
{
    /// <summary>`alpn LIST` as offered: only protocols this proxy speaks (http/1.1); empty: no ALPN extension answered.</summary>
    public IReadOnlyList<string> Alpn { get; init; } = [];

    /// <summary>`verify` (default `none`, or `required` when `ca-file` is set as in HAProxy).</summary>
    public TlsVerify Verify { get; init; }

    /// <summary>`ca-file`: the CA certificates (PEM) client certificates must chain to.</summary>
    public byte[]? CaFile { get; init; }

    /// <summary>`crl-file`: the CRL(s) (PEM) of revoked client certificates.</summary>
    public byte[]? CrlFile { get; init; }

    /// <summary>`strict-sni`: a client sending no SNI or an unknown one is refused instead of getting the default certificate.</summary>
    public bool StrictSni { get; init; }

    /// <summary>
    /// `tls-ticket-keys FILE`: the session ticket keys as the file lists them (48 or 80 bytes each, at least 3; the last
    /// three decrypt, the one before the last encrypts); null: the instance's keys, which the supervisor makes.
    /// </summary>
    public IReadOnlyList<byte[]>? TicketKeys { get; init; }
}

/// <summary>A `server ... ssl` connection's TLS settings (5.2).</summary>
public sealed record TlsServerConfig(TlsOptions Options)
{
    /// <summary>`verify none|required` (default: global `ssl-server-verify`, required unless set to none).</summary>
    public TlsVerify Verify { get; init; } = TlsVerify.Required;

    /// <summary>`ca-file`: the CA certificates (PEM) the server's certificate must chain to.</summary>
    public byte[]? CaFile { get; init; }

    /// <summary>`crt`: the client certificate presented to the server.</summary>
    public CertificateFile? Certificate { get; init; }

    /// <summary>`sni EXPR`: a literal name (`str(NAME)`), or null; <see cref="SniFromHost"/> for `req.hdr(host)`.</summary>
    public string? Sni { get; init; }

    /// <summary>`sni req.hdr(host)`: the request's Host header (mode http), without its port.</summary>
    public bool SniFromHost { get; init; }

    /// <summary>`verifyhost NAME`: the name the server's certificate must carry; null: the SNI sent, if any.</summary>
    public string? VerifyHost { get; init; }

    /// <summary>`alpn LIST` offered to the server (only http/1.1 is kept).</summary>
    public IReadOnlyList<string> Alpn { get; init; } = [];

    /// <summary>`no-ssl-reuse`: every connection makes a full handshake.</summary>
    public bool NoSslReuse { get; init; }

    /// <summary>`check-sni NAME`: the SNI of health checks over TLS (checks never send the traffic's `sni`); null: none.</summary>
    public string? CheckSni { get; init; }
}

/// <summary>Global TLS settings (3.1, 3.2): bases for relative paths and the defaults binds and servers start from.</summary>
public sealed record TlsGlobalSettings
{
    /// <summary>`crt-base DIR`: where relative `crt` paths are taken from.</summary>
    public string? CrtBase { get; init; }

    /// <summary>`ca-base DIR`: where relative `ca-file` and `crl-file` paths are taken from.</summary>
    public string? CaBase { get; init; }

    /// <summary>`ssl-default-bind-options`, `-ciphers`, `-ciphersuites`.</summary>
    public TlsOptions DefaultBind { get; init; } = TlsOptions.Default;

    /// <summary>`ssl-default-bind-options prefer-client-ciphers`, `strict-sni` carried to every bind.</summary>
    public bool DefaultStrictSni { get; init; }

    /// <summary>`ssl-default-server-options`, `-ciphers`, `-ciphersuites`.</summary>
    public TlsOptions DefaultServer { get; init; } = TlsOptions.Default;

    /// <summary>`ssl-server-verify none|required` (default required).</summary>
    public TlsVerify ServerVerify { get; init; } = TlsVerify.Required;

    /// <summary>`tune.ssl.cachesize`: sessions kept for resumption without a ticket (per worker here); 0: no cache. HAProxy's default.</summary>
    public int SessionCacheSize { get; init; } = 20000;

    /// <summary>
    /// `tune.ssl.lifetime`: how long a session may be resumed, in seconds; null: OpenSSL's default, which HAProxy keeps
    /// on its contexts too unless the keyword is given (testssl.sh sees a ticket lifetime hint of 7200 s on both).
    /// </summary>
    public int? SessionLifetimeSeconds { get; init; }

    /// <summary>`tune.ssl.maxrecord`: the most bytes handed to one SSL_write, so at most one record's payload (0: no limit, 16 KB records).</summary>
    public int MaxRecord { get; init; }

    /// <summary>`maxsslconn`: TLS connections open at once, client and server sides together (0: no TLS-specific limit).</summary>
    public int MaxSslConn { get; init; }

    /// <summary>`maxsslrate`: new TLS client connections per second; TLS listeners stop accepting above it (0: none).</summary>
    public int MaxSslRate { get; init; }

    public static TlsGlobalSettings Default { get; } = new();
}
