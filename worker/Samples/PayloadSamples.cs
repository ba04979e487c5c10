using System.Buffers.Binary;
using Proxy.Shared.Config;

namespace Proxy.Worker.Samples;

/// <summary>
/// The fetches that read the bytes a client sent before any protocol is decoded (doc/configuration.txt 7.3.5
/// "Fetching samples from buffer contents (Layer 6)"): `req.len`, `req.payload(OFFSET,LENGTH)`, and those that parse
/// a TLS ClientHello in the first record (`req.ssl_hello_type`, `req.ssl_ver`/`req_ssl_ver`, `req.ssl_sni`/`req_ssl_sni`),
/// as HAProxy's payload.c. The bytes are those `tcp-request inspect-delay` buffered (SampleContext.Payload). When a
/// fetch needs bytes that have not arrived and may still come, it has no sample and sets
/// <see cref="SampleContext.PayloadIncomplete"/>, so `tcp-request content` waits for more (HAProxy's SMP_F_MAY_CHANGE).
/// </summary>
internal static class PayloadSamples
{
    // RFC 8446 5.1 / RFC 5246 6.2.1: a record is type(1) version(2) length(2); 22 is handshake. 4.1.2: ClientHello is type 1.
    private const byte Handshake = 22, ClientHello = 1;
    private const int RecordHeader = 5, HandshakeHeader = 4;

    public static bool TryFetch(SampleFetchKind kind, SampleContext ctx, long offset, long length, out Sample s)
    {
        s = default;
        var data = ctx.Payload;
        switch (kind)
        {
            // res.len, res.payload: the same on the server's bytes, which `tcp-response content` rules see in the
            // context's payload (the client's are no longer there: they went to the server before the relay began).
            case SampleFetchKind.ReqLen or SampleFetchKind.ResLen:
                // HAProxy marks it SMP_F_MAY_CHANGE: `accept if { req.len ge 20 }` waits for 20 bytes.
                if (!ctx.PayloadFinal) ctx.PayloadIncomplete = true;
                s = Sample.OfInt(data.Length);
                return true;
            case SampleFetchKind.ReqPayload or SampleFetchKind.ResPayload:
                // 7.3.5 "req.payload": LENGTH 0 takes everything buffered from OFFSET on.
                if (length == 0 ? data.Length < offset : data.Length < offset + length) return Wait(ctx);
                s = new Sample { Type = SampleType.Bin, Bytes = length == 0 ? data[(int)offset..] : data.Slice((int)offset, (int)length) };
                return true;
            case SampleFetchKind.ReqSslHelloType:
                if (data.Length < RecordHeader + 1) return Wait(ctx);
                if (data[0] != Handshake) return false;
                s = Sample.OfInt(data[RecordHeader]);
                return true;
            case SampleFetchKind.ReqSslVer:
                return TryVersion(ctx, data, out s);
            case SampleFetchKind.ReqSslSni:
                return TryServerName(ctx, data, out s);
        }
        return false;
    }

    /// <summary>
    /// `req.rdp_cookie([NAME])`: the value of the RDP connection request's cookie (RdpCookie); `req.rdp_cookie_cnt`:
    /// 1 when there is one, else 0. Too few bytes yet: no sample, the rules wait (HAProxy's SMP_F_MAY_CHANGE).
    /// </summary>
    public static bool TryRdpCookie(SampleFetchKind kind, SampleContext ctx, ReadOnlySpan<byte> name, out Sample s)
    {
        s = default;
        var found = RdpCookie.Find(ctx.Payload, name, out var value);
        if (found == RdpCookie.Result.TooShort && !ctx.PayloadFinal) return Wait(ctx);
        if (kind == SampleFetchKind.ReqRdpCookieCnt)
        {
            s = Sample.OfInt(found == RdpCookie.Result.Found ? 1 : 0);
            return true;
        }
        if (found != RdpCookie.Result.Found) return false;
        s = Sample.OfString(value);
        return true;
    }

    /// <summary>More bytes may change the answer: no sample for now, and the rules wait unless the buffer is final.</summary>
    private static bool Wait(SampleContext ctx)
    {
        if (!ctx.PayloadFinal) ctx.PayloadIncomplete = true;
        return false;
    }

    /// <summary>
    /// `req.ssl_ver`: the ClientHello's client_version as HAProxy reports it, major &lt;&lt; 16 | minor (0x30003 for
    /// TLS 1.2's 3.3), or the record's version for another handshake message. SSLv2 hellos are not recognised.
    /// </summary>
    private static bool TryVersion(SampleContext ctx, ReadOnlySpan<byte> data, out Sample s)
    {
        s = default;
        if (data.Length < RecordHeader + HandshakeHeader + 2) return Wait(ctx);
        if (data[0] != Handshake || data[1] != 3) return false;
        int at = data[RecordHeader] == ClientHello ? RecordHeader + HandshakeHeader : 1;
        s = Sample.OfInt((data[at] << 16) | data[at + 1]);
        return true;
    }

    /// <summary>
    /// `req.ssl_sni`: the host_name of the server_name extension (RFC 6066 3) of a ClientHello in the first record;
    /// the record must be whole (HAProxy reads one record and does not reassemble).
    /// </summary>
    private static bool TryServerName(SampleContext ctx, ReadOnlySpan<byte> data, out Sample s)
    {
        s = default;
        if (data.Length < RecordHeader) return Wait(ctx);
        if (data[0] != Handshake || data[1] != 3) return false;
        int recordLength = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
        if (data.Length < RecordHeader + recordLength) return Wait(ctx);
        var hs = data.Slice(RecordHeader, recordLength);
        if (hs.Length < HandshakeHeader || hs[0] != ClientHello) return false;
        int helloLength = (hs[1] << 16) | (hs[2] << 8) | hs[3];
        // RFC 8446 4.1.2: version(2) random(32) session_id<0..32> cipher_suites<2..2^16-2> compression<1..2^8-1> extensions<8..2^16-1>.
        var p = hs[HandshakeHeader..Math.Min(hs.Length, HandshakeHeader + helloLength)];
        if (!Skip(ref p, 2 + 32) || !SkipVector(ref p, 1) || !SkipVector(ref p, 2) || !SkipVector(ref p, 1)) return false;
        if (p.Length < 2) return false;
        int extensionsLength = BinaryPrimitives.ReadUInt16BigEndian(p);
        p = p[2..];
        if (p.Length < extensionsLength) return false;
        p = p[..extensionsLength];
        while (p.Length >= 4)
        {
            int type = BinaryPrimitives.ReadUInt16BigEndian(p);
            int length = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
            if (p.Length < 4 + length) return false;
            var body = p.Slice(4, length);
            p = p[(4 + length)..];
            if (type != 0) continue;   // server_name
            // ServerNameList: list length(2), then name_type(1) = 0 host_name, HostName<1..2^16-1>.
            if (body.Length < 2) return false;
            var list = body[2..];
            while (list.Length >= 3)
            {
                int nameLength = BinaryPrimitives.ReadUInt16BigEndian(list[1..]);
                if (list.Length < 3 + nameLength) return false;
                if (list[0] == 0 && nameLength > 0)
                {
                    s = Sample.OfString(list.Slice(3, nameLength));
                    return true;
                }
                list = list[(3 + nameLength)..];
            }
            return false;
        }
        return false;
    }

    private static bool Skip(ref ReadOnlySpan<byte> p, int n)
    {
        if (p.Length < n) return false;
        p = p[n..];
        return true;
    }

    /// <summary>Skips a TLS vector whose length takes <paramref name="lengthBytes"/> bytes (RFC 8446 3.4).</summary>
    private static bool SkipVector(ref ReadOnlySpan<byte> p, int lengthBytes)
    {
        if (p.Length < lengthBytes) return false;
        int n = lengthBytes == 1 ? p[0] : BinaryPrimitives.ReadUInt16BigEndian(p);
        return Skip(ref p, lengthBytes + n);
    }
}
