using System.Buffers.Binary;
using System.Net;

namespace Proxy.Worker.ProxyProtocol;

/// <summary>
/// Parses a PROXY protocol header, v1 or v2 told apart by their first bytes (doc/proxy-protocol.txt; the checks are
/// HAProxy's conn_recv_proxy, connection.c). Reads a span and allocates nothing but the two addresses of a complete
/// header. A prefix of either signature is <see cref="ProxyHeaderStatus.NeedMore"/>, anything else is refused at once,
/// so a client speaking HTTP to an `accept-proxy` listener is closed on its first bytes.
/// </summary>
internal static class ProxyHeaderParser
{
    /// <summary>The v2 signature, 12 bytes (proxy-protocol.txt 2.2).</summary>
    public static ReadOnlySpan<byte> V2Signature => "\r\n\r\n\0\r\nQUIT\n"u8;
    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    /// <summary>A v1 line is at most 107 bytes, CRLF included (proxy-protocol.txt 2.1).</summary>
    public const int V1MaxLength = 107;
    public const int V2HeaderLength = 16;
    private const int V2AddressesInet = 12, V2AddressesInet6 = 36;

    // TLV types (proxy-protocol.txt 2.2) and HAProxy's limits on what it keeps.
    public const byte TypeAlpn = 0x01, TypeAuthority = 0x02, TypeCrc32C = 0x03, TypeNoop = 0x04, TypeUniqueId = 0x05, TypeSsl = 0x20;
    public const int MaxAuthority = 255;   // HAProxy's PP2_AUTHORITY_MAX
    public const int MaxUniqueId = 128;    // HAProxy's UNIQUEID_LEN

    /// <summary>
    /// Parses the start of <paramref name="data"/>. A v2 header longer than <paramref name="maxLength"/> (HAProxy reads
    /// the header into one buffer: tune.bufsize) is Invalid at once rather than waited for.
    /// </summary>
    public static ProxyHeaderStatus Parse(ReadOnlySpan<byte> data, int maxLength, out ProxyHeader header)
    {
        header = default;
        if (data.IsEmpty) return ProxyHeaderStatus.NeedMore;
        if (data[0] == (byte)'P') return ParseV1(data, ref header);
        if (data[0] == (byte)'\r') return ParseV2(data, maxLength, ref header);
        return ProxyHeaderStatus.NotHeader;
    }

    private static ProxyHeaderStatus ParseV1(ReadOnlySpan<byte> data, ref ProxyHeader header)
    {
        int prefix = Math.Min(data.Length, V1Prefix.Length);
        if (!data[..prefix].SequenceEqual(V1Prefix[..prefix])) return ProxyHeaderStatus.NotHeader;
        var window = data[..Math.Min(data.Length, V1MaxLength)];
        int lf = window.IndexOf((byte)'\n');
        if (lf < 0) return data.Length >= V1MaxLength ? ProxyHeaderStatus.Invalid : ProxyHeaderStatus.NeedMore;
        if (lf < V1Prefix.Length + 1 || window[lf - 1] != (byte)'\r') return ProxyHeaderStatus.Invalid;
        var line = window[V1Prefix.Length..(lf - 1)];
        header.Length = lf + 1;
        header.Version = 1;
        // "UNKNOWN": the sender could not tell the addresses (a UNIX socket...): whatever follows on the line is ignored.
        if (line.StartsWith("UNKNOWN"u8))
        {
            header.Local = true;
            return ProxyHeaderStatus.Complete;
        }
        bool v6;
        if (line.StartsWith("TCP4 "u8)) v6 = false;
        else if (line.StartsWith("TCP6 "u8)) v6 = true;
        else return ProxyHeaderStatus.BadProtocol;
        line = line[5..];
        // "SRC DST SPORT DPORT", single spaces.
        if (!NextField(ref line, out var srcText) || !NextField(ref line, out var dstText)
            || !NextField(ref line, out var sportText))
            return ProxyHeaderStatus.Invalid;
        var dportText = line;
        if (!TryAddress(srcText, v6, out var src) || !TryAddress(dstText, v6, out var dst)
            || !TryPort(sportText, out int sport) || !TryPort(dportText, out int dport))
            return ProxyHeaderStatus.Invalid;
        header.Source = new IPEndPoint(src, sport);
        header.Destination = new IPEndPoint(dst, dport);
        return ProxyHeaderStatus.Complete;
    }

    /// <summary>Cuts the field before the next single space; false when there is none or the field is empty.</summary>
    private static bool NextField(ref ReadOnlySpan<byte> line, out ReadOnlySpan<byte> field)
    {
        int space = line.IndexOf((byte)' ');
        if (space <= 0)
        {
            field = default;
            return false;
        }
        field = line[..space];
        line = line[(space + 1)..];
        return true;
    }

    private static bool TryAddress(ReadOnlySpan<byte> text, bool v6, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.IsEmpty || text.Length > 45) return false;
        Span<char> chars = stackalloc char[45];
        for (int i = 0; i < text.Length; i++)
        {
            byte b = text[i];
            // Only what an address can hold: no zone ids ("%eth0"), no brackets, no spaces.
            if (!(char.IsAsciiHexDigit((char)b) || b is (byte)'.' or (byte)':')) return false;
            chars[i] = (char)b;
        }
        if (!IPAddress.TryParse(chars[..text.Length], out var parsed)) return false;
        // TCP4 takes dotted quads only (IPAddress.TryParse would also take "1" or "0x7f.1"); TCP6 takes IPv6 only.
        bool isV6 = parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        if (isV6 != v6) return false;
        if (!v6 && !IsDottedQuad(text)) return false;
        address = parsed;
        return true;
    }

    private static bool IsDottedQuad(ReadOnlySpan<byte> text)
    {
        int dots = 0, digits = 0;
        foreach (byte b in text)
        {
            if (b == (byte)'.')
            {
                if (digits == 0) return false;
                dots++;
                digits = 0;
            }
            else if (b is >= (byte)'0' and <= (byte)'9')
            {
                if (++digits > 3) return false;
            }
            else return false;
        }
        return dots == 3 && digits > 0;
    }

    private static bool TryPort(ReadOnlySpan<byte> text, out int port)
    {
        port = 0;
        if (text.IsEmpty || text.Length > 5) return false;
        foreach (byte b in text)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
            port = port * 10 + (b - '0');
        }
        return port <= 65535;
    }

    private static ProxyHeaderStatus ParseV2(ReadOnlySpan<byte> data, int maxLength, ref ProxyHeader header)
    {
        int prefix = Math.Min(data.Length, V2Signature.Length);
        if (!data[..prefix].SequenceEqual(V2Signature[..prefix])) return ProxyHeaderStatus.NotHeader;
        if (data.Length < V2HeaderLength) return ProxyHeaderStatus.NeedMore;
        byte verCmd = data[12], family = data[13];
        if ((verCmd & 0xF0) != 0x20) return ProxyHeaderStatus.NotHeader;   // HAProxy: not a v2 header either
        int total = V2HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(data[14..]);
        if (total > maxLength) return ProxyHeaderStatus.Invalid;
        if (data.Length < total) return ProxyHeaderStatus.NeedMore;
        var whole = data[..total];
        header.Length = total;
        header.Version = 2;
        int tlvStart;
        switch (verCmd & 0x0F)
        {
            case 0x0:
                // LOCAL (health checks of the sender): the connection's own addresses stand; the block is skipped.
                header.Local = true;
                return ProxyHeaderStatus.Complete;
            case 0x1:
                break;
            default:
                return ProxyHeaderStatus.Invalid;
        }
        var block = whole[V2HeaderLength..];
        switch (family)
        {
            case 0x11:   // TCP over IPv4
                if (block.Length < V2AddressesInet) return ProxyHeaderStatus.Invalid;
                header.Source = new IPEndPoint(new IPAddress(block[..4]), BinaryPrimitives.ReadUInt16BigEndian(block[8..]));
                header.Destination = new IPEndPoint(new IPAddress(block[4..8]), BinaryPrimitives.ReadUInt16BigEndian(block[10..]));
                tlvStart = V2HeaderLength + V2AddressesInet;
                break;
            case 0x21:   // TCP over IPv6
                if (block.Length < V2AddressesInet6) return ProxyHeaderStatus.Invalid;
                header.Source = new IPEndPoint(new IPAddress(block[..16]), BinaryPrimitives.ReadUInt16BigEndian(block[32..]));
                header.Destination = new IPEndPoint(new IPAddress(block[16..32]), BinaryPrimitives.ReadUInt16BigEndian(block[34..]));
                tlvStart = V2HeaderLength + V2AddressesInet6;
                break;
            default:
                // UNSPEC, UDP, UNIX: HAProxy keeps the connection's addresses ("unsupported protocol").
                header.Local = true;
                return ProxyHeaderStatus.Complete;
        }
        return ParseTlvs(whole, tlvStart, ref header);
    }

    /// <summary>The TLVs after the addresses: each must fit, CRC32C must match, authority and unique id within HAProxy's limits.</summary>
    private static ProxyHeaderStatus ParseTlvs(ReadOnlySpan<byte> whole, int offset, ref ProxyHeader header)
    {
        while (offset < whole.Length)
        {
            if (whole.Length - offset < 3) return ProxyHeaderStatus.Invalid;
            byte type = whole[offset];
            int length = BinaryPrimitives.ReadUInt16BigEndian(whole[(offset + 1)..]);
            int value = offset + 3;
            if (value + length > whole.Length) return ProxyHeaderStatus.Invalid;
            switch (type)
            {
                case TypeCrc32C:
                {
                    if (length != 4) return ProxyHeaderStatus.Invalid;
                    uint expected = BinaryPrimitives.ReadUInt32BigEndian(whole[value..]);
                    // Computed over the whole header with the checksum field taken as zeros (2.2.5).
                    uint crc = Crc32C.Append(Crc32C.Start, whole[..value]);
                    crc = Crc32C.Append(crc, [0, 0, 0, 0]);
                    crc = Crc32C.Append(crc, whole[(value + 4)..]);
                    if (Crc32C.Finish(crc) != expected) return ProxyHeaderStatus.Invalid;
                    break;
                }
                case TypeAuthority:
                    if (length > MaxAuthority) return ProxyHeaderStatus.Invalid;
                    header.AuthorityOffset = value;
                    header.AuthorityLength = length;
                    break;
                case TypeUniqueId:
                    if (length > MaxUniqueId) return ProxyHeaderStatus.Invalid;
                    header.UniqueIdOffset = value;
                    header.UniqueIdLength = length;
                    break;
            }
            offset = value + length;
        }
        return ProxyHeaderStatus.Complete;
    }
}
