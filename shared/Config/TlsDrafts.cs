namespace Proxy.Shared.Config;

// The TLS options of a bind or server line while TlsParser reads them, before they become TlsBindConfig/TlsServerConfig.

/// <summary>A server's (or default-server's) TLS options while they are read; immutable so `default-server` can be copied.</summary>
internal sealed record ServerTlsDraft
{
    public bool Ssl { get; init; }
    public bool CheckSsl { get; init; }
    public bool NoSslReuse { get; init; }
    public bool SniFromHost { get; init; }
    public TlsVerify? Verify { get; init; }
    public byte[]? CaFile { get; init; }
    public CertificateFile? Certificate { get; init; }
    public string? Sni { get; init; }
    public string? CheckSni { get; init; }
    public string? VerifyHost { get; init; }
    public IReadOnlyList<string> Alpn { get; init; } = [];
    public TlsOptions Options { get; init; } = TlsOptions.Default;
    public VersionRange Versions { get; init; } = VersionRange.Default;
}

/// <summary>`ssl-min-ver` .. `ssl-max-ver` minus the `no-*` ones.</summary>
internal readonly record struct VersionRange(TlsVersions Min, TlsVersions Max, TlsVersions Disabled)
{
    /// <summary>HAProxy 2.2+: TLSv1.2 and up unless configured otherwise.</summary>
    public static VersionRange Default => new(TlsVersions.TlsV12, TlsVersions.TlsV13, TlsVersions.None);

    public TlsVersions Versions
    {
        get
        {
            var result = TlsVersions.None;
            for (var v = Min; v <= Max && v != TlsVersions.None; v = (TlsVersions)((int)v << 1))
                result |= v;
            return result & ~Disabled;
        }
    }
}

/// <summary>A bind line's TLS options while it is read.</summary>
internal sealed class BindTlsDraft
{
    public bool Ssl, HasCrt, HasCaFile, StrictSni;
    public List<CertificateFile> Certificates { get; } = [];
    public TlsOptions Options = TlsOptions.Default;
    public VersionRange Versions = VersionRange.Default;
    public TlsVerify Verify;
    public byte[]? CaFile, CrlFile;
    public List<string> Alpn = [];
    public List<byte[]>? TicketKeys;
}
