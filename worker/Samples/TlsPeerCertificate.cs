using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Samples;

/// <summary>
/// The client certificate's fields as the `ssl_c_*` fetches return them (doc/configuration.txt 7.3.4), each rendered
/// once per connection on its first use (a keep-alive client's later requests read the same bytes). A DN is written
/// in OpenSSL's one-line form, `/C=FR/O=Example/CN=alice`, entries in the certificate's order with OpenSSL's short
/// names, as HAProxy's ssl_sock_get_dn_oneline() writes it.
/// </summary>
internal sealed class TlsPeerCertificate(X509Certificate2 certificate)
{
    private byte[]? _subject, _issuer, _serial, _sha1, _notBefore, _notAfter;
    private Entry[]? _subjectEntries, _issuerEntries;

    private readonly record struct Entry(string ShortName, byte[] Value);

    public X509Certificate2 Certificate => certificate;

    /// <summary>`ssl_c_s_dn` / `ssl_c_i_dn` without arguments.</summary>
    public byte[] Dn(bool subject) => subject
        ? _subject ??= OneLine(subject: true)
        : _issuer ??= OneLine(subject: false);

    /// <summary>
    /// `ssl_c_s_dn(ENTRY[,OCC])`: the value of the OCC-th ENTRY (1 the first, -1 the last, as HAProxy counts; the
    /// default is 1), matched case-insensitively against OpenSSL's short name (`cn`, `o`, `ou`...); null when absent.
    /// </summary>
    public byte[]? DnEntry(bool subject, ReadOnlySpan<byte> entry, int occurrence)
    {
        var entries = Entries(subject);
        if (occurrence == 0) return null;
        int step = occurrence > 0 ? 1 : -1, wanted = Math.Abs(occurrence);
        for (int i = occurrence > 0 ? 0 : entries.Length - 1; i >= 0 && i < entries.Length; i += step)
        {
            if (!Ascii.EqualsIgnoreCase(entry, entries[i].ShortName)) continue;
            if (--wanted == 0) return entries[i].Value;
        }
        return null;
    }

    /// <summary>`ssl_c_serial`: the serial number's bytes, big-endian as encoded.</summary>
    public byte[] Serial => _serial ??= certificate.SerialNumberBytes.ToArray();

    /// <summary>`ssl_c_sha1`: the SHA-1 of the DER certificate.</summary>
    public byte[] Sha1 => _sha1 ??= certificate.GetCertHash();

    /// <summary>`ssl_c_der`: the certificate as DER.</summary>
    public byte[] Der => certificate.RawData;

    /// <summary>`ssl_c_notbefore` / `ssl_c_notafter`: ASN.1 UTCTime text, `YYMMDDhhmmssZ`, as HAProxy returns it.</summary>
    public byte[] NotBefore => _notBefore ??= UtcTime(certificate.NotBefore);
    public byte[] NotAfter => _notAfter ??= UtcTime(certificate.NotAfter);

    private Entry[] Entries(bool subject)
    {
        ref var cached = ref subject ? ref _subjectEntries : ref _issuerEntries;
        if (cached is not null) return cached;
        var list = new List<Entry>();
        foreach (var (shortName, value) in DistinguishedNames.Entries(subject ? certificate.SubjectName : certificate.IssuerName))
            list.Add(new Entry(shortName, Encoding.UTF8.GetBytes(value)));
        return cached = [.. list];
    }

    private byte[] OneLine(bool subject) =>
        Encoding.UTF8.GetBytes(DistinguishedNames.OneLine(subject ? certificate.SubjectName : certificate.IssuerName));

    private static byte[] UtcTime(DateTime local) =>
        Encoding.ASCII.GetBytes(local.ToUniversalTime().ToString("yyMMddHHmmss'Z'", CultureInfo.InvariantCulture));
}
