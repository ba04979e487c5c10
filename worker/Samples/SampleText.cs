using System.Buffers.Binary;
using System.Buffers.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Samples;

/// <summary>
/// The casts between sample types that HAProxy applies implicitly (7.3 "Fetching samples": integers and addresses
/// become strings where a string is expected, strings become integers where one is expected), writing into the
/// context's scratch space, allocating nothing.
/// </summary>
internal static class SampleText
{
    /// <summary>The sample as bytes of text; false when there is no sample or no room.</summary>
    public static bool TryAsBytes(SampleContext ctx, scoped in Sample s, out ReadOnlySpan<byte> bytes)
    {
        switch (s.Type)
        {
            case SampleType.Str or SampleType.Bin:
                bytes = s.Bytes;
                return true;
            case SampleType.Int or SampleType.Bool:
                var dest = ctx.ScratchFree;
                if (!Utf8Formatter.TryFormat(s.Int, dest, out int n)) { bytes = default; return false; }
                bytes = ctx.Commit(n);
                return true;
            case SampleType.Ip:
                return TryFormatIp(ctx, s.Bytes, out bytes);
            default:
                bytes = default;
                return false;
        }
    }

    /// <summary>A string sample as an integer: optional sign then digits, as HAProxy's c_str2int; false otherwise.</summary>
    public static bool TryAsInt(scoped in Sample s, out long value)
    {
        value = s.Int;
        if (s.Type is SampleType.Int or SampleType.Bool) return true;
        if (s.Type is not (SampleType.Str or SampleType.Bin)) return false;
        return TryParseInt(s.Bytes, out value);
    }

    public static bool TryParseInt(ReadOnlySpan<byte> text, out long value)
    {
        text = text.Trim(" \t"u8);
        return Utf8Parser.TryParse(text, out value, out int used) && used == text.Length;
    }

    /// <summary>An address sample, or a string holding a dotted IPv4 address (written into scratch); false otherwise.</summary>
    public static bool TryAsIp(SampleContext ctx, scoped in Sample s, out ReadOnlySpan<byte> address)
    {
        address = default;
        if (s.Type == SampleType.Ip) { address = s.Bytes; return true; }
        if (s.Type != SampleType.Str) return false;
        var dest = ctx.ScratchFree;
        if (dest.Length < 4 || !TryParseIPv4(s.Bytes, dest)) return false;
        address = ctx.Commit(4);
        return true;
    }

    private static bool TryParseIPv4(ReadOnlySpan<byte> text, Span<byte> dest)
    {
        for (int part = 0; part < 4; part++)
        {
            if (!Utf8Parser.TryParse(text, out byte b, out int used) || used == 0 || used > 3) return false;
            dest[part] = b;
            text = text[used..];
            if (part < 3)
            {
                if (text.IsEmpty || text[0] != '.') return false;
                text = text[1..];
            }
        }
        return text.IsEmpty;
    }

    /// <summary>IPv4 dotted, IPv6 as RFC 5952 (lower-case hex, the longest run of two or more zero groups as ::).</summary>
    public static bool TryFormatIp(SampleContext ctx, ReadOnlySpan<byte> ip, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        var dest = ctx.ScratchFree;
        int p = 0;
        if (ip.Length == 4)
        {
            if (dest.Length < 15) return false;
            for (int i = 0; i < 4; i++)
            {
                if (i > 0) dest[p++] = (byte)'.';
                Utf8Formatter.TryFormat(ip[i], dest[p..], out int n);
                p += n;
            }
            bytes = ctx.Commit(p);
            return true;
        }
        if (ip.Length != 16 || dest.Length < 41) return false;
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < 8;)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(ip[(i * 2)..]) != 0) { i++; continue; }
            int j = i;
            while (j < 8 && BinaryPrimitives.ReadUInt16BigEndian(ip[(j * 2)..]) == 0) j++;
            if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
            i = j;
        }
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                dest[p++] = (byte)':';
                dest[p++] = (byte)':';
                i += bestLen - 1;
                continue;
            }
            if (i > 0 && p > 0 && dest[p - 1] != ':') dest[p++] = (byte)':';
            Utf8Formatter.TryFormat(BinaryPrimitives.ReadUInt16BigEndian(ip[(i * 2)..]), dest[p..], out int n, new System.Buffers.StandardFormat('x'));
            p += n;
        }
        bytes = ctx.Commit(p);
        return true;
    }
}
