using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Proxy.Shared.Config;

namespace Proxy.Worker.ProxyProtocol;

/// <summary>
/// Writes the PROXY header a server with `send-proxy` / `send-proxy-v2` receives first (HAProxy's make_proxy_line_v1 and
/// make_proxy_line_v2, connection.c): the client's address and the address it reached, or, without both, v1's
/// "PROXY UNKNOWN" and v2's LOCAL command. Into a caller's span, allocating nothing.
/// </summary>
internal static class ProxyHeaderWriter
{
    /// <summary>Room enough for any header written here: v2 with IPv6 addresses, CRC32C, SSL, unique id and an authority.</summary>
    public const int MaxLength = ProxyHeaderParser.V2HeaderLength + 36 + 7 + 8 + (3 + ProxyHeaderParser.MaxUniqueId) + (3 + ProxyHeaderParser.MaxAuthority);

    /// <summary>
    /// A v1 line: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" (IPv4 and IPv6 mixed become TCP6 with mapped addresses),
    /// or "PROXY UNKNOWN\r\n" when either address is missing. Returns the length written.
    /// </summary>
    public static int WriteV1(Span<byte> dest, IPEndPoint? source, IPEndPoint? destination)
    {
        var w = new SpanWriter(dest);
        if (!Normalize(ref source, ref destination, out bool v6))
        {
            w.Append("PROXY UNKNOWN\r\n"u8);
            return w.Length;
        }
        w.Append(v6 ? "PROXY TCP6 "u8 : "PROXY TCP4 "u8);
        w.Address(source!.Address);
        w.Append(" "u8);
        w.Address(destination!.Address);
        w.Append(" "u8);
        w.Number(source.Port);
        w.Append(" "u8);
        w.Number(destination.Port);
        w.Append("\r\n"u8);
        return w.Length;
    }

    /// <summary>
    /// A v2 header: PROXY with the two addresses, or LOCAL (family UNSPEC, no address block) when <paramref name="local"/>
    /// or an address is missing; then the TLVs <paramref name="options"/> asks for, in HAProxy's order: CRC32C (filled in
    /// last, over the whole header), AUTHORITY (only when the client's own PROXY header carried one: there is no TLS SNI
    /// here), UNIQUE_ID (only with a unique id: `unique-id-format` is not implemented, so none is sent, as HAProxy sends
    /// none without the format), SSL (the client connection is never TLS here: client flags 0, verify 0, which is what
    /// HAProxy sends for a client that did not use SSL). Returns the length written.
    /// </summary>
    public static int WriteV2(Span<byte> dest, IPEndPoint? source, IPEndPoint? destination, bool local, ProxyV2Options options,
        ReadOnlySpan<byte> authority)
    {
        ProxyHeaderParser.V2Signature.CopyTo(dest);
        int at = ProxyHeaderParser.V2HeaderLength;
        if (local || !Normalize(ref source, ref destination, out bool v6))
        {
            dest[12] = 0x20;   // version 2, LOCAL
            dest[13] = 0x00;   // UNSPEC
        }
        else
        {
            dest[12] = 0x21;   // version 2, PROXY
            dest[13] = v6 ? (byte)0x21 : (byte)0x11;
            int size = v6 ? 16 : 4;
            source!.Address.TryWriteBytes(dest[at..], out _);
            destination!.Address.TryWriteBytes(dest[(at + size)..], out _);
            BinaryPrimitives.WriteUInt16BigEndian(dest[(at + 2 * size)..], (ushort)source.Port);
            BinaryPrimitives.WriteUInt16BigEndian(dest[(at + 2 * size + 2)..], (ushort)destination.Port);
            at += 2 * size + 4;
        }
        int crcAt = -1;
        if ((options & ProxyV2Options.Crc32C) != 0)
        {
            crcAt = at + 3;
            at = Tlv(dest, at, ProxyHeaderParser.TypeCrc32C, [0, 0, 0, 0]);
        }
        if ((options & ProxyV2Options.Authority) != 0 && !authority.IsEmpty)
            at = Tlv(dest, at, ProxyHeaderParser.TypeAuthority, authority);
        if ((options & ProxyV2Options.Ssl) != 0)
            at = Tlv(dest, at, ProxyHeaderParser.TypeSsl, [0, 0, 0, 0, 0]);   // client: not SSL; verify: 0
        BinaryPrimitives.WriteUInt16BigEndian(dest[14..], (ushort)(at - ProxyHeaderParser.V2HeaderLength));
        if (crcAt >= 0) BinaryPrimitives.WriteUInt32BigEndian(dest[crcAt..], Crc32C.Compute(dest[..at]));
        return at;
    }

    private static int Tlv(Span<byte> dest, int at, byte type, ReadOnlySpan<byte> value)
    {
        dest[at] = type;
        BinaryPrimitives.WriteUInt16BigEndian(dest[(at + 1)..], (ushort)value.Length);
        value.CopyTo(dest[(at + 3)..]);
        return at + 3 + value.Length;
    }

    /// <summary>
    /// Both addresses present and IP: IPv4-mapped IPv6 addresses (a dual-stack listener's clients) back to IPv4 when
    /// both are; a mixed pair becomes IPv6 with the IPv4 one mapped, as HAProxy does. False: no usable pair.
    /// </summary>
    private static bool Normalize(ref IPEndPoint? source, ref IPEndPoint? destination, out bool v6)
    {
        v6 = false;
        if (source is null || destination is null) return false;
        if (source.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            || destination.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            return false;
        var s = source.Address;
        var d = destination.Address;
        if (s.IsIPv4MappedToIPv6) s = s.MapToIPv4();
        if (d.IsIPv4MappedToIPv6) d = d.MapToIPv4();
        v6 = s.AddressFamily == AddressFamily.InterNetworkV6 || d.AddressFamily == AddressFamily.InterNetworkV6;
        if (v6)
        {
            if (s.AddressFamily == AddressFamily.InterNetwork) s = s.MapToIPv6();
            if (d.AddressFamily == AddressFamily.InterNetwork) d = d.MapToIPv6();
        }
        if (!ReferenceEquals(s, source.Address)) source = new IPEndPoint(s, source.Port);
        if (!ReferenceEquals(d, destination.Address)) destination = new IPEndPoint(d, destination.Port);
        return true;
    }

    private ref struct SpanWriter(Span<byte> dest)
    {
        private readonly Span<byte> _dest = dest;
        public int Length;

        public void Append(ReadOnlySpan<byte> text)
        {
            text.CopyTo(_dest[Length..]);
            Length += text.Length;
        }

        public void Address(IPAddress address)
        {
            Span<char> chars = stackalloc char[64];
            address.TryFormat(chars, out int n);
            for (int i = 0; i < n; i++) _dest[Length + i] = (byte)chars[i];
            Length += n;
        }

        public void Number(int value)
        {
            value.TryFormat(_dest[Length..], out int n, default, System.Globalization.CultureInfo.InvariantCulture);
            Length += n;
        }
    }
}
