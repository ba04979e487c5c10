using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Proxy.Worker.Tls;

/// <summary>What both TLS sides do with the shipped PEM bytes: a certificate context, a CA set, a chain check.</summary>
internal static class TlsCertificates
{
    /// <summary>A certificate file (certificate, chain, key) as the context SslStream presents; offline: no chain fetching.</summary>
    public static SslStreamCertificateContext Context(byte[] pemBytes, out X509Certificate2 leaf)
    {
        string pem = Encoding.ASCII.GetString(pemBytes);
        leaf = X509Certificate2.CreateFromPem(pem, pem);
        var all = new X509Certificate2Collection();
        all.ImportFromPem(pem);
        var chain = new X509Certificate2Collection();
        for (int k = 1; k < all.Count; k++) chain.Add(all[k]);
        return SslStreamCertificateContext.Create(leaf, chain, offline: true);
    }

    /// <summary>The certificates of a `ca-file`; null without one.</summary>
    public static X509Certificate2Collection? Trusted(byte[]? caFile)
    {
        if (caFile is null) return null;
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPem(Encoding.ASCII.GetString(caFile));
        return trusted;
    }

    /// <summary>
    /// Whether the peer's <paramref name="cert"/> chains to one of <paramref name="trusted"/> (revocation is checked
    /// apart), through the intermediates the peer sent (<paramref name="sent"/>, the chain SslStream built from the
    /// handshake): a `ca-file` usually holds only the root, and the server or client sends its intermediate CA.
    /// </summary>
    public static bool ChainsTo(X509Certificate2 cert, X509Certificate2Collection? trusted, X509Chain? sent = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (trusted is not null) chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        if (sent is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(sent.ChainPolicy.ExtraStore);
            foreach (var element in sent.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        return chain.Build(cert);
    }
}
