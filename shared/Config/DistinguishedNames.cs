using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Proxy.Shared.Config;

/// <summary>
/// A certificate's subject or issuer as HAProxy shows it (the `ssl_c_s_dn` fetch, `show ssl cert`): OpenSSL's one-line
/// form, `/C=FR/O=Example/CN=alice`, entries in the certificate's (encoded) order under OpenSSL's short names.
/// </summary>
public static class DistinguishedNames
{
    /// <summary>The entries in encoded order (C first, CN last, as OpenSSL prints them); a multi-valued RDN (rare) is skipped.</summary>
    public static IEnumerable<(string ShortName, string Value)> Entries(X500DistinguishedName name)
    {
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames(reversed: false))
        {
            if (rdn.HasMultipleElements) continue;
            yield return (ShortName(rdn.GetSingleElementType().Value ?? ""), rdn.GetSingleElementValue() ?? "");
        }
    }

    public static string OneLine(X500DistinguishedName name)
    {
        var text = new StringBuilder();
        foreach (var (shortName, value) in Entries(name)) text.Append('/').Append(shortName).Append('=').Append(value);
        return text.ToString();
    }

    /// <summary>OpenSSL's short names (objects.txt) for the attributes certificates carry; others print as the OID.</summary>
    public static string ShortName(string oid) => oid switch
    {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.42" => "GN",
        "2.5.4.46" => "dnQualifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        _ => oid,
    };
}
