using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Supervisor.RuntimeApi;

/// <summary>
/// `show ssl cert [FILE]` (doc/management.txt 9.3): the certificates the running configuration loaded (every `bind ...
/// crt` and `server ... crt`), read from the shipped model, so what is listed is what the workers serve. Without a file:
/// HAProxy's list (`# filename` then one path a line; this proxy has no transactions, so `# transaction` is empty).
/// With one: its fields in HAProxy's layout, the DNs in OpenSSL's one-line form.
/// </summary>
internal static class SslCertReport
{
    /// <summary>Every loaded certificate file, in configuration order, each once.</summary>
    public static List<CertificateFile> Loaded(ProxyConfig config)
    {
        var files = new List<CertificateFile>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(CertificateFile f) { if (seen.Add(f.Path)) files.Add(f); }
        foreach (var fe in config.Frontends)
            foreach (var bind in fe.Binds)
                if (bind.Tls is { } tls) foreach (var f in tls.Certificates) Add(f);
        foreach (var be in config.Backends)
            foreach (var s in be.Servers)
                if (s.Tls?.Certificate is { } f) Add(f);
        return files;
    }

    public static string Render(ProxyConfig config, string? file)
    {
        var loaded = Loaded(config);
        var text = new StringBuilder();
        if (file is null)
        {
            text.Append("# transaction\n# filename\n");
            foreach (var f in loaded) text.Append(f.Path).Append('\n');
            return text.ToString();
        }
        var match = loaded.Find(f => f.Path == file);
        if (match is null) return "Can't display the certificate: Not found or the certificate is a bundle!\n";
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(Encoding.UTF8.GetString(match.Pem));
        if (chain.Count == 0) return "Can't display the certificate: no certificate in the file!\n";
        var leaf = chain[0];
        text.Append("Filename: ").Append(match.Path).Append('\n');
        text.Append("Status: Used\n");
        text.Append("Serial: ").Append(Convert.ToHexString(leaf.SerialNumberBytes.Span)).Append('\n');
        text.Append("notBefore: ").Append(Date(leaf.NotBefore)).Append('\n');
        text.Append("notAfter: ").Append(Date(leaf.NotAfter)).Append('\n');
        if (SubjectAlternativeNames(leaf) is { Length: > 0 } san) text.Append("Subject Alternative Name: ").Append(san).Append('\n');
        text.Append("Algorithm: ").Append(Algorithm(leaf)).Append('\n');
        text.Append("SHA1 FingerPrint: ").Append(Convert.ToHexString(leaf.GetCertHash())).Append('\n');
        text.Append("Subject: ").Append(OneLine(leaf.SubjectName)).Append('\n');
        text.Append("Issuer: ").Append(OneLine(leaf.IssuerName)).Append('\n');
        for (int i = 1; i < chain.Count; i++)
        {
            text.Append("Chain Subject: ").Append(OneLine(chain[i].SubjectName)).Append('\n');
            text.Append("Chain Issuer: ").Append(OneLine(chain[i].IssuerName)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>OpenSSL's ASN1_TIME_print form, as HAProxy prints it: `Sep 13 21:20:24 2019 GMT`.</summary>
    private static string Date(DateTime local)
    {
        var utc = local.ToUniversalTime();
        return utc.ToString("MMM ", CultureInfo.InvariantCulture) + utc.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)
            + utc.ToString(" HH:mm:ss yyyy 'GMT'", CultureInfo.InvariantCulture);
    }

    /// <summary>`RSA2048`, `EC256`: the key type and size, as HAProxy's "Algorithm:" line.</summary>
    private static string Algorithm(X509Certificate2 cert)
    {
        using (var rsa = cert.GetRSAPublicKey()) if (rsa is not null) return "RSA" + rsa.KeySize.ToString(CultureInfo.InvariantCulture);
        using (var ec = cert.GetECDsaPublicKey()) if (ec is not null) return "EC" + ec.KeySize.ToString(CultureInfo.InvariantCulture);
        return cert.PublicKey.Oid.FriendlyName ?? cert.PublicKey.Oid.Value ?? "unknown";
    }

    private static string SubjectAlternativeNames(X509Certificate2 cert)
    {
        foreach (var ext in cert.Extensions)
            if (ext is X509SubjectAlternativeNameExtension san)
                return string.Join(", ", san.EnumerateDnsNames().Select(d => "DNS:" + d)
                    .Concat(san.EnumerateIPAddresses().Select(ip => "IP Address:" + ip)));
        return "";
    }

    private static string OneLine(X500DistinguishedName name) => DistinguishedNames.OneLine(name);
}
