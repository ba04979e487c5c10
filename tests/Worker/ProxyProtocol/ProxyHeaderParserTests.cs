using System.Buffers.Binary;
using System.Net;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.ProxyProtocol;

namespace Proxy.Tests.Worker.ProxyProtocol;

/// <summary>The PROXY protocol v1/v2 parser (doc/proxy-protocol.txt) and the writer the servers' headers come from.</summary>
public sealed class ProxyHeaderParserTests
{
    private const int Max = 16384;

    private static ProxyHeaderStatus Parse(byte[] data, out ProxyHeader header, int max = Max) =>
        ProxyHeaderParser.Parse(data, max, out header);

    private static byte[] A(string text) => Encoding.ASCII.GetBytes(text);

    [Test]
    public void V1_Tcp4_GivesAddressesAndLength()
    {
        var data = A("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n");
        Assert.That(Parse(data, out var h), Is.EqualTo(ProxyHeaderStatus.Complete));
        Assert.That((h.Version, h.Local, h.Length), Is.EqualTo((1, false, 45)));
        Assert.That(h.Source, Is.EqualTo(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 56324)));
        Assert.That(h.Destination, Is.EqualTo(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 443)));
    }

    [Test]
    public void V1_Tcp6_GivesIPv6Addresses()
    {
        var data = A("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n");
        Assert.That(Parse(data, out var h), Is.EqualTo(ProxyHeaderStatus.Complete));
        Assert.That(h.Source, Is.EqualTo(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 1)));
        Assert.That(h.Destination, Is.EqualTo(new IPEndPoint(IPAddress.IPv6Loopback, 65535)));
    }

    [Test]
    public void V1_Unknown_IsLocalAndSkipsTheRestOfTheLine()
    {
        var data = A("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nX");
        Assert.That(Parse(data, out var h), Is.EqualTo(ProxyHeaderStatus.Complete));
        Assert.That((h.Local, h.Length, h.Source), Is.EqualTo((true, data.Length - 1, (IPEndPoint?)null)));
    }

    [TestCase("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n")]            // LF without CR
    [TestCase("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n")]            // a port missing
    [TestCase("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n")]      // port out of range
    [TestCase("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n")]         // two spaces
    [TestCase("PROXY TCP4 ::1 5.6.7.8 1 2\r\n")]              // IPv6 under TCP4
    [TestCase("PROXY TCP6 1.2.3.4 ::1 1 2\r\n")]              // IPv4 under TCP6
    [TestCase("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n")]            // not a dotted quad
    [TestCase("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n")]        // one field too many
    [TestCase("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n")]
    public void V1_Malformed_IsInvalid(string line) =>
        Assert.That(Parse(A(line), out _), Is.EqualTo(ProxyHeaderStatus.Invalid));

    [Test]
    public void V1_UnknownProtocol_IsBadProtocol() =>
        Assert.That(Parse(A("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), out _), Is.EqualTo(ProxyHeaderStatus.BadProtocol));

    [Test]
    public void V1_WithoutLineEndIn107Bytes_IsInvalid()
    {
        var data = A("PROXY TCP4 " + new string('1', 120));
        Assert.That(Parse(data, out _), Is.EqualTo(ProxyHeaderStatus.Invalid));
        Assert.That(Parse(data[..106], out _), Is.EqualTo(ProxyHeaderStatus.NeedMore), "106 bytes may still end with CRLF");
    }

    [TestCase("P")]
    [TestCase("PROXY")]
    [TestCase("PROXY TCP4 1.2.3.4 5.6")]
    public void V1_Truncated_NeedsMore(string text) => Assert.That(Parse(A(text), out _), Is.EqualTo(ProxyHeaderStatus.NeedMore));

    [TestCase("GET / HTTP/1.1\r\n\r\n")]
    [TestCase("PROXZ")]
    [TestCase("\r\n\r\nGET")]
    [TestCase("\u0016\u0003\u0001")]   // a TLS ClientHello
    public void SomethingElse_IsNotAHeader_AtOnce(string text) =>
        Assert.That(Parse(Encoding.Latin1.GetBytes(text), out _), Is.EqualTo(ProxyHeaderStatus.NotHeader));

    /// <summary>A v2 header: version/command byte, family byte, address block, then TLVs (type, value).</summary>
    internal static byte[] V2(byte verCmd, byte family, byte[] addresses, params (byte Type, byte[] Value)[] tlvs)
    {
        var body = new List<byte>(addresses);
        foreach (var (type, value) in tlvs)
        {
            body.Add(type);
            body.Add((byte)(value.Length >> 8));
            body.Add((byte)value.Length);
            body.AddRange(value);
        }
        var data = new List<byte>(ProxyHeaderParser.V2Signature.ToArray()) { verCmd, family, (byte)(body.Count >> 8), (byte)body.Count };
        data.AddRange(body);
        return [.. data];
    }

    internal static byte[] Inet4(string src, int sport, string dst, int dport)
    {
        var b = new byte[12];
        IPAddress.Parse(src).TryWriteBytes(b, out _);
        IPAddress.Parse(dst).TryWriteBytes(b.AsSpan(4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(8), (ushort)sport);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), (ushort)dport);
        return b;
    }

    [Test]
    public void V2_ProxyTcp4_GivesAddresses()
    {
        var data = V2(0x21, 0x11, Inet4("203.0.113.9", 40000, "10.1.2.3", 8080));
        Assert.That(Parse([.. data, .. A("payload")], out var h), Is.EqualTo(ProxyHeaderStatus.Complete));
        Assert.That((h.Version, h.Local, h.Length), Is.EqualTo((2, false, 28)));
        Assert.That(h.Source, Is.EqualTo(new IPEndPoint(IPAddress.Parse("203.0.113.9"), 40000)));
        Assert.That(h.Destination, Is.EqualTo(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 8080)));
    }

    [Test]
    public void V2_ProxyTcp6_GivesAddresses()
    {
        var block = new byte[36];
        IPAddress.Parse("2001:db8::42").TryWriteBytes(block, out _);
        IPAddress.IPv6Loopback.TryWriteBytes(block.AsSpan(16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(32), 1234);
        BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(34), 80);
        Assert.That(Parse(V2(0x21, 0x21, block), out var h), Is.EqualTo(ProxyHeaderStatus.Complete));
        Assert.That(h.Source, Is.EqualTo(new IPEndPoint(IPAddress.Parse("2001:db8::42"), 1234)));
        Assert.That(h.Destination, Is.EqualTo(new IPEndPoint(IPAddress.IPv6Loopback, 80)));
    }

    [Test]
    public void V2_Local_KeepsTheConnectionsAddresses()
    {
        // LOCAL with an address block anyway: skipped, not read.
        var data = V2(0x20, 0x11, Inet4("1.1.1.1", 1, "2.2.2.2", 2));
        Assert.That(Parse(data, out var h), Is.EqualTo(ProxyHeaderStatus.Complete));
        Assert.That((h.Local, h.Length, h.Source), Is.EqualTo((true, data.Length, (IPEndPoint?)null)));
    }

    [TestCase((byte)0x00)]   // UNSPEC
    [TestCase((byte)0x12)]   // UDP over IPv4
    [TestCase((byte)0x31)]   // UNIX stream
    public void V2_UnsupportedFamily_IsLocal(byte family)
    {
        Assert.That(Parse(V2(0x21, family, new byte[12]), out var h), Is.EqualTo(ProxyHeaderStatus.Complete));
        Assert.That(h.Local, Is.True);
    }

    [Test]
    public void V2_Truncated_NeedsMore_AtEveryLength()
    {
        var data = V2(0x21, 0x11, Inet4("1.2.3.4", 1, "5.6.7.8", 2), (0x04, new byte[5]));
        for (int n = 1; n < data.Length; n++)
            Assert.That(Parse(data[..n], out _), Is.EqualTo(ProxyHeaderStatus.NeedMore), $"{n} bytes");
        Assert.That(Parse(data, out _), Is.EqualTo(ProxyHeaderStatus.Complete));
    }

    [Test]
    public void V2_AddressBlockTooShort_IsInvalid() =>
        Assert.That(Parse(V2(0x21, 0x11, new byte[8]), out _), Is.EqualTo(ProxyHeaderStatus.Invalid));

    [Test]
    public void V2_UnknownCommand_IsInvalid() =>
        Assert.That(Parse(V2(0x22, 0x11, Inet4("1.2.3.4", 1, "5.6.7.8", 2)), out _), Is.EqualTo(ProxyHeaderStatus.Invalid));

    [Test]
    public void V2_OtherVersion_IsNotAHeader() =>
        Assert.That(Parse(V2(0x11, 0x11, Inet4("1.2.3.4", 1, "5.6.7.8", 2)), out _), Is.EqualTo(ProxyHeaderStatus.NotHeader));

    [Test]
    public void V2_LongerThanAllowed_IsInvalid_WithoutWaitingForIt()
    {
        // Only the fixed part has arrived; its length field says 1000 bytes follow, more than the 256 allowed.
        var data = V2(0x21, 0x11, Inet4("1.2.3.4", 1, "5.6.7.8", 2), (0x04, new byte[1000 - 12 - 3]));
        Assert.That(Parse(data[..16], out _, max: 256), Is.EqualTo(ProxyHeaderStatus.Invalid));
        Assert.That(Parse(data, out _, max: Max), Is.EqualTo(ProxyHeaderStatus.Complete));
    }

    [Test]
    public void V2_TlvOverrunningTheHeader_IsInvalid()
    {
        var data = V2(0x21, 0x11, Inet4("1.2.3.4", 1, "5.6.7.8", 2), (0x04, new byte[4]));
        data[^5] = 9;   // the NOOP TLV's length (low byte): 4 -> 9
        Assert.That(Parse(data, out _), Is.EqualTo(ProxyHeaderStatus.Invalid));
        var partial = V2(0x21, 0x11, [.. Inet4("1.2.3.4", 1, "5.6.7.8", 2), 0x04, 0x00]);   // 2 bytes: not even a TLV header
        Assert.That(Parse(partial, out _), Is.EqualTo(ProxyHeaderStatus.Invalid));
    }

    [Test]
    public void V2_AuthorityAndUniqueId_AreFound()
    {
        var data = V2(0x21, 0x11, Inet4("1.2.3.4", 1, "5.6.7.8", 2), (0x02, A("example.org")), (0x05, A("id-1")));
        Assert.That(Parse(data, out var h), Is.EqualTo(ProxyHeaderStatus.Complete));
        Assert.That(Encoding.ASCII.GetString(data, h.AuthorityOffset, h.AuthorityLength), Is.EqualTo("example.org"));
        Assert.That(Encoding.ASCII.GetString(data, h.UniqueIdOffset, h.UniqueIdLength), Is.EqualTo("id-1"));
    }

    [Test]
    public void V2_UniqueIdLongerThanHAProxysLimit_IsInvalid() =>
        Assert.That(Parse(V2(0x21, 0x11, Inet4("1.2.3.4", 1, "5.6.7.8", 2), (0x05, new byte[129])), out _), Is.EqualTo(ProxyHeaderStatus.Invalid));

    [Test]
    public void V2_Crc32C_Valid_IsAccepted_AndAnyChangedByteIsInvalid()
    {
        var data = V2(0x21, 0x11, Inet4("1.2.3.4", 1, "5.6.7.8", 2), (0x03, new byte[4]), (0x02, A("a.example")));
        int crcAt = 16 + 12 + 3;
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(crcAt), Crc32C.Compute(data));   // over the header with zeros there
        Assert.That(Parse(data, out _), Is.EqualTo(ProxyHeaderStatus.Complete));
        var tampered = (byte[])data.Clone();
        tampered[^1] ^= 1;
        Assert.That(Parse(tampered, out _), Is.EqualTo(ProxyHeaderStatus.Invalid), "a changed authority byte");
        var wrongLength = V2(0x21, 0x11, Inet4("1.2.3.4", 1, "5.6.7.8", 2), (0x03, new byte[3]));
        Assert.That(Parse(wrongLength, out _), Is.EqualTo(ProxyHeaderStatus.Invalid), "a CRC32C TLV must hold 4 bytes");
    }

    [Test]
    public void Crc32C_MatchesTheCastagnoliCheckValue() =>
        Assert.That(Crc32C.Compute(A("123456789")), Is.EqualTo(0xE3069283u));   // RFC 3720 B.4 / the standard check value

    [Test]
    public void Writer_V1_RoundTrips_AndUnknownWithoutAddresses()
    {
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        int n = ProxyHeaderWriter.WriteV1(buffer, new IPEndPoint(IPAddress.Parse("192.0.2.1"), 5000), new IPEndPoint(IPAddress.Parse("192.0.2.2"), 80));
        Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("PROXY TCP4 192.0.2.1 192.0.2.2 5000 80\r\n"));
        n = ProxyHeaderWriter.WriteV1(buffer, new IPEndPoint(IPAddress.Parse("::ffff:192.0.2.1"), 5000), new IPEndPoint(IPAddress.Parse("2001:db8::2"), 80));
        Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 5000 80\r\n"));
        n = ProxyHeaderWriter.WriteV1(buffer, null, null);
        Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("PROXY UNKNOWN\r\n"));
    }

    [Test]
    public void Writer_V2_WithCrcAuthorityAndSsl_ParsesBack()
    {
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        var src = new IPEndPoint(IPAddress.Parse("198.51.100.4"), 1111);
        var dst = new IPEndPoint(IPAddress.Parse("198.51.100.5"), 2222);
        int n = ProxyHeaderWriter.WriteV2(buffer, src, dst, local: false,
            ProxyV2Options.Crc32C | ProxyV2Options.Authority | ProxyV2Options.Ssl | ProxyV2Options.UniqueId, A("site.example"));
        var data = buffer[..n];
        Assert.That(Parse(data, out var h), Is.EqualTo(ProxyHeaderStatus.Complete), "the CRC32C it wrote validates");
        Assert.That((h.Source, h.Destination, h.Length), Is.EqualTo((src, dst, n)));
        Assert.That(Encoding.ASCII.GetString(data, h.AuthorityOffset, h.AuthorityLength), Is.EqualTo("site.example"));
        Assert.That(h.UniqueIdLength, Is.Zero, "no unique-id-format: no UNIQUE_ID TLV, as HAProxy");
        // The SSL TLV (0x20), last: client flags 0 (not over SSL) and verify 0.
        Assert.That(data[^8..], Is.EqualTo(new byte[] { 0x20, 0x00, 0x05, 0, 0, 0, 0, 0 }));
    }

    [Test]
    public void Writer_V2_Local_HasNoAddressBlock()
    {
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        int n = ProxyHeaderWriter.WriteV2(buffer, new IPEndPoint(IPAddress.Loopback, 1), new IPEndPoint(IPAddress.Loopback, 2), local: true, ProxyV2Options.None, default);
        Assert.That(n, Is.EqualTo(16));
        Assert.That((buffer[12], buffer[13], buffer[14], buffer[15]), Is.EqualTo(((byte)0x20, (byte)0x00, (byte)0, (byte)0)));
    }

    [Test]
    public void Parse_AllocatesNothing()
    {
        var v1 = A("PROXY UNKNOWN\r\n");
        var v2 = V2(0x20, 0x00, []);
        for (int i = 0; i < 10; i++) { Parse(v1, out _); Parse(v2, out _); }   // warm up (tiered JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) { Parse(v1, out _); Parse(v2, out _); }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
