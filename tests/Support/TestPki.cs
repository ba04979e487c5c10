using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.Tests.Support;

/// <summary>
/// A throw-away certificate authority in a temporary folder: a CA, server and client certificates signed by it (PEM
/// files in HAProxy's format: certificate, chain, key in one file), expired or mismatched ones for the error paths, and
/// CRLs. Made in-process with CertificateRequest (milliseconds, where an `openssl` process per file costs a fork each);
/// the peers that talk to them are the real `curl` and `openssl s_client`.
/// </summary>
public sealed class TestPki : IDisposable
{
    private readonly X509Certificate2 _ca;
    private readonly RSA _caKey;
    private long _serial = 1000;

    public TestPki(string caName = "Test CA")
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("proxy-pki-").FullName;
        _caKey = RSA.Create(2048);
        var req = new CertificateRequest($"CN={caName}", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        _ca = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        CaPath = Path.Combine(Directory, "ca.pem");
        File.WriteAllText(CaPath, _ca.ExportCertificatePem() + "\n");
    }

    public string Directory { get; }

    /// <summary>The CA certificate alone (PEM), for `ca-file`, `curl --cacert`, `openssl s_client -CAfile`.</summary>
    public string CaPath { get; }

    /// <summary>
    /// Writes FILE.pem (certificate, CA, key) for <paramref name="cn"/> with DNS SANs <paramref name="dnsNames"/>;
    /// returns the path and the certificate.
    /// </summary>
    public string Issue(string file, string cn, string[] dnsNames, bool ecdsa = false, bool client = false,
        DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, bool keyApart = false)
    {
        AsymmetricAlgorithm key = ecdsa ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(2048);
        var req = key is ECDsa ec
            ? new CertificateRequest($"CN={cn}", ec, HashAlgorithmName.SHA256)
            : new CertificateRequest($"CN={cn}", (RSA)key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        if (dnsNames.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var d in dnsNames) san.AddDnsName(d);
            req.CertificateExtensions.Add(san.Build());
        }
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(client ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1")], false));
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
        var serial = BitConverter.GetBytes(Interlocked.Increment(ref _serial));
        Array.Reverse(serial);
        // The generator overload: no check of the dates against the CA's, so expired certificates can be made too.
        using var cert = req.Create(_ca.SubjectName, X509SignatureGenerator.CreateForRSA(_caKey, RSASignaturePadding.Pkcs1),
            notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddYears(1), serial);
        string keyPem = key is ECDsa e2 ? e2.ExportPkcs8PrivateKeyPem() : ((RSA)key).ExportPkcs8PrivateKeyPem();
        string path = Path.Combine(Directory, file);
        string chain = cert.ExportCertificatePem() + "\n" + _ca.ExportCertificatePem() + "\n";
        if (keyApart)
        {
            File.WriteAllText(path, chain);
            File.WriteAllText(path + ".key", keyPem + "\n");
        }
        else
        {
            File.WriteAllText(path, chain + keyPem + "\n");
        }
        key.Dispose();
        return path;
    }

    /// <summary>Writes the certificate of <paramref name="certPath"/> with another key: a key that does not match.</summary>
    public string WithWrongKey(string certPath, string file)
    {
        string text = File.ReadAllText(certPath);
        int keyStart = text.IndexOf("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal);
        using var other = RSA.Create(2048);
        string path = Path.Combine(Directory, file);
        File.WriteAllText(path, text[..keyStart] + other.ExportPkcs8PrivateKeyPem() + "\n");
        return path;
    }

    /// <summary>A CRL (PEM) of this CA revoking the certificates in <paramref name="revokedPaths"/>.</summary>
    public string Crl(string file, params string[] revokedPaths)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var p in revokedPaths)
        {
            using var c = X509Certificate2.CreateFromPem(File.ReadAllText(p));
            builder.AddEntry(c, DateTimeOffset.UtcNow.AddMinutes(-1));
        }
        using var signer = X509CertificateLoader.LoadCertificate(_ca.RawData).CopyWithPrivateKey(_caKey);
        byte[] der = builder.Build(signer, BigInteger.One, DateTimeOffset.UtcNow.AddDays(7), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        string path = Path.Combine(Directory, file);
        File.WriteAllText(path, PemEncoding.WriteString("X509 CRL", der) + "\n");
        return path;
    }

    /// <summary>Splits a combined PEM into FILE.crt and FILE.key for clients that want them apart (curl --cert/--key).</summary>
    public (string Cert, string Key) Split(string combined)
    {
        string text = File.ReadAllText(combined);
        int keyStart = text.IndexOf("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal);
        string cert = combined + ".crt", key = combined + ".key";
        File.WriteAllText(cert, text[..keyStart]);
        File.WriteAllText(key, text[keyStart..]);
        return (cert, key);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
