using Proxy.Shared.Config;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Tables;

/// <summary>
/// A sample as the key of a table of a given type (doc/configuration.txt 4.2 "stick-table type"): ip takes IPv4 (an
/// IPv4-mapped IPv6 address too), ipv6 takes IPv6 (IPv4 mapped into it), integer a 32-bit integer, string the text cut
/// at `len`, binary the bytes padded with zeros to `len`, as HAProxy converts them.
/// </summary>
internal static class StickKey
{
    /// <summary>Writes the key into <paramref name="dest"/> (at least the table's key length); its length, or -1 when the sample cannot be one.</summary>
    public static int Write(SampleContext ctx, scoped in Sample s, StickKeyType type, int keyLength, Span<byte> dest)
    {
        switch (type)
        {
            case StickKeyType.Ip:
                if (s.Type != SampleType.Ip) return -1;
                if (s.Bytes.Length == 4) { s.Bytes.CopyTo(dest); return 4; }
                if (s.Bytes.Length == 16 && s.Bytes[..10].IndexOfAnyExcept((byte)0) < 0 && s.Bytes[10] == 0xFF && s.Bytes[11] == 0xFF)
                {
                    s.Bytes[12..].CopyTo(dest);
                    return 4;
                }
                return -1;
            case StickKeyType.Ipv6:
                if (s.Type != SampleType.Ip) return -1;
                if (s.Bytes.Length == 16) { s.Bytes.CopyTo(dest); return 16; }
                dest[..10].Clear();
                dest[10] = 0xFF;
                dest[11] = 0xFF;
                s.Bytes.CopyTo(dest[12..]);
                return 16;
            case StickKeyType.Integer:
                long v;
                if (s.Type is SampleType.Int or SampleType.Bool) v = s.Int;
                else if (!(s.Type is SampleType.Str or SampleType.Bin && SampleText.TryParseInt(s.Bytes, out v))) return -1;
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(dest, (int)v);
                return 4;
            default:
                if (!SampleText.TryAsBytes(ctx, s, out var bytes)) return -1;
                int n = Math.Min(bytes.Length, keyLength);
                bytes[..n].CopyTo(dest);
                if (type == StickKeyType.String) return n;
                dest[n..keyLength].Clear();
                return keyLength;
        }
    }
}
