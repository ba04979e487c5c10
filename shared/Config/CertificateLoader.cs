using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Proxy.Shared.Config;

/// <summary>
/// Reads and checks the PEM files a configuration names for TLS (5.1 `crt`, `crt-list`, `ca-file`, `crl-file`), in the
/// supervisor, with BoundedFileReader's limits. A certificate file holds the certificate, its chain and the private key
/// (HAProxy's format); a file without a key takes it from PATH.key (HAProxy's default `ssl-load-extra-files all`).
/// Refused, each named with the path: an unreadable file, no certificate, no key, a key that does not match the
/// certificate, an expired certificate. Everything returned is checked, so a worker only turns bytes into contexts.
/// </summary>
internal static class CertificateLoader
{
    /// <summary>A certificate, chain and key fit easily; 1 MiB bounds a mistaken path (a log, an image).</summary>
    public const int MaxPemBytes = 1 << 20;

    // Files of a `crt DIR` that are not certificates but HAProxy's extra files for one (ssl-load-extra-files).
    private static readonly string[] ExtraFileSuffixes = [".key", ".ocsp", ".issuer", ".sctl", ".dh"];

    /// <summary>
    /// Loads `crt PATH`: the file, or every file of the directory in name order (HAProxy's order), skipping extra
    /// files. Reports each problem as `'KEYWORD': ...` at <paramref name="at"/>; returns what loaded.
    /// </summary>
    public static List<CertificateFile> LoadCrt(ConfigDiagnostics diag, SourceLocation at, string keyword, string path, IReadOnlyList<string> sniFilters, DateTime now)
    {
        var loaded = new List<CertificateFile>();
        path = DefaultPath.Resolve(path);   // `default-path`: the directory and the `.key` beside a file are looked up from it
        if (Directory.Exists(path))
        {
            string[] files;
            try
            {
                files = Directory.GetFiles(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                diag.Error(at, $"'{keyword}': cannot read directory {ConfigDiagnostics.Quote(path)}: {e.Message}");
                return loaded;
            }
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var file in files)
            {
                if (Array.Exists(ExtraFileSuffixes, s => file.EndsWith(s, StringComparison.Ordinal))) continue;
                if (LoadOne(diag, at, keyword, file, sniFilters, now) is { } c) loaded.Add(c);
            }
            if (loaded.Count == 0 && !diag.HasErrors)
                diag.Error(at, $"'{keyword}': directory {ConfigDiagnostics.Quote(path)} holds no certificate");
            return loaded;
        }
        if (LoadOne(diag, at, keyword, path, sniFilters, now) is { } one) loaded.Add(one);
        return loaded;
    }

    /// <summary>One certificate file (plus PATH.key when it holds no key), checked; null after an error.</summary>
    public static CertificateFile? LoadOne(ConfigDiagnostics diag, SourceLocation at, string keyword, string path, IReadOnlyList<string> sniFilters, DateTime now)
    {
        path = DefaultPath.Resolve(path);
        if (BoundedFileReader.TryRead(path, MaxPemBytes, "the certificate size limit", allowFifo: false, out byte[] pem) is { } error)
        {
            diag.Error(at, $"'{keyword}': cannot read certificate {ConfigDiagnostics.Quote(path)}: {error}");
            return null;
        }
        string text = Encoding.ASCII.GetString(pem);
        if (!text.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            string keyPath = path + ".key";
            if (!File.Exists(keyPath))
            {
                diag.Error(at, $"'{keyword}': no private key in {ConfigDiagnostics.Quote(path)} (nor a file {ConfigDiagnostics.Quote(keyPath)})");
                return null;
            }
            if (BoundedFileReader.TryRead(keyPath, MaxPemBytes, "the certificate size limit", allowFifo: false, out byte[] key) is { } keyError)
            {
                diag.Error(at, $"'{keyword}': cannot read private key {ConfigDiagnostics.Quote(keyPath)}: {keyError}");
                return null;
            }
            pem = [.. pem, (byte)'\n', .. key];
            text = Encoding.ASCII.GetString(pem);
        }
        if (Check(text, now) is { } problem)
        {
            diag.Error(at, $"'{keyword}': certificate {ConfigDiagnostics.Quote(path)}: {problem}");
            return null;
        }
        return new CertificateFile(path, pem, sniFilters);
    }

    /// <summary>Why the PEM text cannot serve (no certificate, bad or mismatched key, expired), or null.</summary>
    public static string? Check(string pem, DateTime now)
    {
        if (!pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)) return "no certificate in the file";
        X509Certificate2 cert;
        try
        {
            cert = X509Certificate2.CreateFromPem(pem);
        }
        catch (CryptographicException e)
        {
            return $"cannot parse the certificate ({e.Message})";
        }
        using (cert)
        {
            if (MatchKey(cert, pem) is { } keyProblem) return keyProblem;
            if (cert.NotAfter.ToUniversalTime() < now) return $"expired on {cert.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC";
            if (cert.NotBefore.ToUniversalTime() > now) return $"not valid before {cert.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC";
        }
        return null;
    }

    /// <summary>Why the first private key of <paramref name="pem"/> cannot serve <paramref name="cert"/>, or null.</summary>
    private static string? MatchKey(X509Certificate2 cert, string pem)
    {
        AsymmetricAlgorithm? key = cert.GetKeyAlgorithm() switch
        {
            "1.2.840.113549.1.1.1" => RSA.Create(),
            "1.2.840.10045.2.1" => ECDsa.Create(),
            _ => null,
        };
        if (key is null) return $"unsupported key algorithm {cert.GetKeyAlgorithm()} (RSA and ECDSA are)";
        using (key)
        {
            try
            {
                key.ImportFromPem(pem);
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                return $"cannot parse the private key as {(key is RSA ? "RSA" : "ECDSA")}, the certificate's type ({e.Message})";
            }
            try
            {
                using var withKey = key is RSA rsa ? cert.CopyWithPrivateKey(rsa) : cert.CopyWithPrivateKey((ECDsa)key);
            }
            catch (ArgumentException)
            {
                return "the private key does not match the certificate";
            }
        }
        return null;
    }

    /// <summary>`ca-file PATH`: one or more CA certificates (PEM), checked to parse; null after an error.</summary>
    public static byte[]? LoadCaFile(ConfigDiagnostics diag, SourceLocation at, string keyword, string path)
    {
        if (BoundedFileReader.TryRead(path, MaxPemBytes, "the certificate size limit", allowFifo: false, out byte[] pem) is { } error)
        {
            diag.Error(at, $"'{keyword}': cannot read CA file {ConfigDiagnostics.Quote(path)}: {error}");
            return null;
        }
        var certs = new X509Certificate2Collection();
        try
        {
            certs.ImportFromPem(Encoding.ASCII.GetString(pem));
        }
        catch (CryptographicException e)
        {
            diag.Error(at, $"'{keyword}': cannot parse CA file {ConfigDiagnostics.Quote(path)}: {e.Message}");
            return null;
        }
        int count = certs.Count;
        foreach (var c in certs) c.Dispose();
        if (count > 0) return pem;
        diag.Error(at, $"'{keyword}': no certificate in CA file {ConfigDiagnostics.Quote(path)}");
        return null;
    }

    /// <summary>`crl-file PATH`: one or more PEM CRLs, each checked to parse; null after an error.</summary>
    public static byte[]? LoadCrlFile(ConfigDiagnostics diag, SourceLocation at, string keyword, string path)
    {
        if (BoundedFileReader.TryRead(path, MaxPemBytes, "the certificate size limit", allowFifo: false, out byte[] pem) is { } error)
        {
            diag.Error(at, $"'{keyword}': cannot read CRL file {ConfigDiagnostics.Quote(path)}: {error}");
            return null;
        }
        int count = 0;
        foreach (var crl in PemFile.Crls(Encoding.ASCII.GetString(pem)))
        {
            try
            {
                CertificateRevocationListBuilder.Load(crl, out _);
                count++;
            }
            catch (CryptographicException e)
            {
                diag.Error(at, $"'{keyword}': cannot parse CRL file {ConfigDiagnostics.Quote(path)}: {e.Message}");
                return null;
            }
        }
        if (count > 0) return pem;
        diag.Error(at, $"'{keyword}': no CRL in {ConfigDiagnostics.Quote(path)}");
        return null;
    }
}
