using System.Security.Cryptography;

namespace Proxy.Shared.Config;

/// <summary>Blocks of a PEM file (RFC 7468) that X509Certificate2's loaders do not read for us.</summary>
public static class PemFile
{
    /// <summary>The DER bytes of each `-----BEGIN X509 CRL-----` block of <paramref name="pem"/> (a `crl-file`).</summary>
    public static IEnumerable<byte[]> Crls(string pem)
    {
        var rest = pem.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var span = rest.Span;
            if (span[fields.Label].SequenceEqual("X509 CRL"))
                yield return Convert.FromBase64String(new string(span[fields.Base64Data]));
            rest = rest[fields.Location.End..];
        }
    }
}
