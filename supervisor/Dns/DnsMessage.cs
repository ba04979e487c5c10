using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Proxy.Supervisor.Dns;

/// <summary>RR types asked and read here (RFC 1035 3.2.2, RFC 3596 for AAAA, RFC 2782 for SRV, RFC 6891 for OPT).</summary>
public enum DnsType : ushort { A = 1, Cname = 5, Aaaa = 28, Srv = 33, Opt = 41 }

/// <summary>Response codes that the hold rules tell apart (RFC 1035 4.1.1 RCODE).</summary>
public enum DnsRcode : byte { NoError = 0, FormErr = 1, ServFail = 2, NxDomain = 3, NotImp = 4, Refused = 5 }

/// <summary>One answer or additional record: an address (A/AAAA), an SRV target, or a CNAME.</summary>
public sealed record DnsRecord(string Name, DnsType Type, uint Ttl)
{
    public IPAddress? Address { get; init; }
    public ushort Priority { get; init; }
    public ushort Weight { get; init; }
    public ushort Port { get; init; }
    /// <summary>The SRV target or the CNAME's canonical name.</summary>
    public string? Target { get; init; }
}

/// <summary>A parsed response: its code, the TC bit, and the records of the answer and additional sections.</summary>
public sealed record DnsResponse(ushort Id, DnsRcode Rcode, bool Truncated, IReadOnlyList<DnsRecord> Answers, IReadOnlyList<DnsRecord> Additional);

/// <summary>
/// The wire format of a DNS query and its response (RFC 1035 4.1): the resolver's own small codec, so the
/// Native AOT supervisor needs no library. A query is one question with RD set, plus an EDNS0 OPT record
/// announcing `accepted_payload_size` when it is above 512 (RFC 6891 6.1.2). Names in responses may be
/// compressed (RFC 1035 4.1.4); pointers may only go backwards, so a loop cannot happen.
/// </summary>
public static class DnsMessage
{
    private const int HeaderSize = 12;

    /// <summary>Builds the query for <paramref name="name"/> and <paramref name="type"/>; throws ArgumentException for a bad name.</summary>
    public static byte[] BuildQuery(ushort id, string name, DnsType type, int payloadSize)
    {
        var labels = name.TrimEnd('.').Split('.');
        int nameLength = 1;
        foreach (var l in labels)
        {
            if (l.Length is 0 or > 63) throw new ArgumentException($"invalid DNS name '{name}'");
            nameLength += 1 + l.Length;
        }
        if (nameLength > 255) throw new ArgumentException($"DNS name too long: '{name}'");
        bool edns = payloadSize > 512;
        var buffer = new byte[HeaderSize + nameLength + 4 + (edns ? 11 : 0)];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span, id);
        span[2] = 0x01;                                                     // RD: recursion desired
        BinaryPrimitives.WriteUInt16BigEndian(span[4..], 1);                // QDCOUNT
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], (ushort)(edns ? 1 : 0)); // ARCOUNT
        int at = HeaderSize;
        foreach (var l in labels)
        {
            span[at++] = (byte)l.Length;
            at += Encoding.ASCII.GetBytes(l, span[at..]);
        }
        span[at++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(span[(at + 2)..], 1);         // class IN
        at += 4;
        if (edns)
        {
            // OPT RR (RFC 6891 6.1.2): root name, type 41, CLASS = the UDP payload size, TTL 0, no RDATA.
            span[at] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(span[(at + 1)..], (ushort)DnsType.Opt);
            BinaryPrimitives.WriteUInt16BigEndian(span[(at + 3)..], (ushort)payloadSize);
        }
        return buffer;
    }

    /// <summary>Parses a response; null when it is malformed (HAProxy counts it as `invalid`).</summary>
    public static DnsResponse? Parse(ReadOnlySpan<byte> message)
    {
        if (message.Length < HeaderSize || (message[2] & 0x80) == 0) return null;   // too short, or not a response (QR)
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(message);
        bool truncated = (message[2] & 0x02) != 0;
        var rcode = (DnsRcode)(message[3] & 0x0F);
        int qd = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        int an = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        int ns = BinaryPrimitives.ReadUInt16BigEndian(message[8..]);
        int ar = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        int at = HeaderSize;
        for (int i = 0; i < qd; i++)
        {
            if (ReadName(message, ref at) is null || at + 4 > message.Length) return null;
            at += 4;
        }
        var answers = new List<DnsRecord>();
        var additional = new List<DnsRecord>();
        for (int i = 0; i < an + ns + ar; i++)
        {
            if (!ReadRecord(message, ref at, out var record)) return null;
            if (record is null) continue;                                   // a type not read here
            if (i < an) answers.Add(record);
            else if (i >= an + ns) additional.Add(record);
        }
        return new DnsResponse(id, rcode, truncated, answers, additional);
    }

    /// <summary>One resource record (RFC 1035 4.1.3); <paramref name="record"/> is null for a type not read here.</summary>
    private static bool ReadRecord(ReadOnlySpan<byte> m, ref int at, out DnsRecord? record)
    {
        record = null;
        var name = ReadName(m, ref at);
        if (name is null || at + 10 > m.Length) return false;
        var type = (DnsType)BinaryPrimitives.ReadUInt16BigEndian(m[at..]);
        uint ttl = BinaryPrimitives.ReadUInt32BigEndian(m[(at + 4)..]);
        int length = BinaryPrimitives.ReadUInt16BigEndian(m[(at + 8)..]);
        at += 10;
        if (at + length > m.Length) return false;
        var data = m.Slice(at, length);
        int dataStart = at;
        at += length;
        switch (type)
        {
            case DnsType.A when length == 4:
                record = new DnsRecord(name, type, ttl) { Address = new IPAddress(data) };
                return true;
            case DnsType.Aaaa when length == 16:
                record = new DnsRecord(name, type, ttl) { Address = new IPAddress(data) };
                return true;
            case DnsType.A or DnsType.Aaaa:
                return false;
            case DnsType.Srv:
            {
                if (length < 7) return false;
                int targetAt = dataStart + 6;
                var target = ReadName(m, ref targetAt);
                if (target is null) return false;
                record = new DnsRecord(name, type, ttl)
                {
                    Priority = BinaryPrimitives.ReadUInt16BigEndian(data),
                    Weight = BinaryPrimitives.ReadUInt16BigEndian(data[2..]),
                    Port = BinaryPrimitives.ReadUInt16BigEndian(data[4..]),
                    Target = target,
                };
                return true;
            }
            case DnsType.Cname:
            {
                int targetAt = dataStart;
                var target = ReadName(m, ref targetAt);
                if (target is null) return false;
                record = new DnsRecord(name, type, ttl) { Target = target };
                return true;
            }
            default:
                return true;
        }
    }

    /// <summary>A possibly compressed name (RFC 1035 4.1.4), lower-cased, without the final dot; null when malformed.</summary>
    private static string? ReadName(ReadOnlySpan<byte> m, ref int at)
    {
        var sb = new StringBuilder();
        int pos = at;
        int end = -1;                    // where the name ends in the record, once a pointer was followed
        int limit = at;                  // a pointer must go before everything read so far
        while (true)
        {
            if (pos >= m.Length) return null;
            int len = m[pos];
            if ((len & 0xC0) == 0xC0)
            {
                if (pos + 1 >= m.Length) return null;
                int target = ((len & 0x3F) << 8) | m[pos + 1];
                if (end < 0) end = pos + 2;
                if (target >= limit) return null;
                limit = target;
                pos = target;
                continue;
            }
            if ((len & 0xC0) != 0) return null;
            pos++;
            if (len == 0) break;
            if (pos + len > m.Length || sb.Length + len > 255) return null;
            if (sb.Length > 0) sb.Append('.');
            foreach (var b in m.Slice(pos, len)) sb.Append(char.ToLowerInvariant((char)b));
            pos += len;
        }
        at = end >= 0 ? end : pos;
        return sb.ToString();
    }
}
