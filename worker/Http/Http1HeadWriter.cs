using System.Buffers;

namespace Proxy.Worker.Http;

/// <summary>
/// Re-serializes a parsed head for the next hop: start line as received, headers in order without the
/// hop-by-hop ones (RFC 9110 7.6.1), then the caller's extra header lines (see <see cref="AppendHeader"/>),
/// then the Connection header the flags ask for, then CRLF. Writes into caller memory; allocates nothing.
/// Removed: Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade (unless
/// <see cref="HttpHeadWriteFlags.KeepUpgrade"/>), Transfer-Encoding (only with
/// <see cref="HttpHeadWriteFlags.DropTransferEncoding"/>), and every other header named in Connection,
/// except Host, Content-Length, Transfer-Encoding and Expect, which a client must not be able to strip
/// that way (the framing the proxy checked is the framing the server sees).
/// </summary>
public static class Http1HeadWriter
{
    /// <summary>Bytes <see cref="TryWrite"/> will write.</summary>
    public static int GetLength(HttpHead head, HttpHeadWriteFlags flags, ReadOnlySpan<byte> extraHeaderLines)
    {
        int n = head.StartLine.Length + 2;
        for (int i = 0; i < head.HeaderCount; i++)
        {
            if (IsRemoved(head, i, flags)) continue;
            ref readonly HttpHeaderEntry h = ref head.Entry(i);
            n += h.NameLength + 2 + h.ValueLength + 2;
        }
        return n + extraHeaderLines.Length + ConnectionLine(flags).Length + 2;
    }

    /// <summary>Writes the head into <paramref name="destination"/>; false (nothing usable written) when it does not fit.</summary>
    public static bool TryWrite(HttpHead head, Span<byte> destination, HttpHeadWriteFlags flags, ReadOnlySpan<byte> extraHeaderLines, out int written)
    {
        written = 0;
        if (GetLength(head, flags, extraHeaderLines) > destination.Length) return false;
        int p = Put(destination, 0, head.StartLine);
        p = Put(destination, p, "\r\n"u8);
        for (int i = 0; i < head.HeaderCount; i++)
        {
            if (IsRemoved(head, i, flags)) continue;
            p = Put(destination, p, head.GetHeaderName(i));
            p = Put(destination, p, ": "u8);
            p = Put(destination, p, head.GetHeaderValue(i));
            p = Put(destination, p, "\r\n"u8);
        }
        p = Put(destination, p, extraHeaderLines);
        p = Put(destination, p, ConnectionLine(flags));
        p = Put(destination, p, "\r\n"u8);
        written = p;
        return true;
    }

    /// <summary>Writes the head into <paramref name="output"/> (e.g. a PipeWriter) and advances it.</summary>
    public static int Write(HttpHead head, IBufferWriter<byte> output, HttpHeadWriteFlags flags, ReadOnlySpan<byte> extraHeaderLines)
    {
        int length = GetLength(head, flags, extraHeaderLines);
        Span<byte> span = output.GetSpan(length);
        if (!TryWrite(head, span, flags, extraHeaderLines, out int written)) ThrowTooSmall();
        output.Advance(written);
        return written;
    }

    /// <summary>
    /// Appends "name: value\r\n" at <paramref name="offset"/> in a caller buffer that collects extra headers
    /// (X-Forwarded-For...); returns the new offset, or -1 when it does not fit or name/value are not valid.
    /// </summary>
    public static int AppendHeader(Span<byte> destination, int offset, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (!HttpChars.IsToken(name) || value.IndexOfAny(HttpChars.InvalidValue) >= 0) return -1;
        if ((uint)offset > (uint)destination.Length || destination.Length - offset < name.Length + value.Length + 4) return -1;
        int p = Put(destination, offset, name);
        p = Put(destination, p, ": "u8);
        p = Put(destination, p, value);
        return Put(destination, p, "\r\n"u8);
    }

    /// <summary>Whether header <paramref name="index"/> is left out by <see cref="TryWrite"/> with <paramref name="flags"/>.</summary>
    public static bool IsRemoved(HttpHead head, int index, HttpHeadWriteFlags flags)
    {
        ref readonly HttpHeaderEntry h = ref head.Entry(index);
        switch (h.Known)
        {
            case HttpKnownHeader.Connection:
            case HttpKnownHeader.KeepAlive:
            case HttpKnownHeader.ProxyConnection:
            case HttpKnownHeader.TE:
            case HttpKnownHeader.Trailer:
                return true;
            case HttpKnownHeader.Upgrade:
                return (flags & HttpHeadWriteFlags.KeepUpgrade) == 0;
            case HttpKnownHeader.TransferEncoding:
                return (flags & HttpHeadWriteFlags.DropTransferEncoding) != 0;
            case HttpKnownHeader.Host:
            case HttpKnownHeader.ContentLength:
            case HttpKnownHeader.Expect:
                return false;
            default:
                return head.IsListedInConnection(head.GetHeaderName(index));
        }
    }

    private static ReadOnlySpan<byte> ConnectionLine(HttpHeadWriteFlags flags)
    {
        bool upgrade = (flags & HttpHeadWriteFlags.KeepUpgrade) != 0;
        if ((flags & HttpHeadWriteFlags.ConnectionClose) != 0)
            return upgrade ? "Connection: upgrade, close\r\n"u8 : "Connection: close\r\n"u8;
        if ((flags & HttpHeadWriteFlags.ConnectionKeepAlive) != 0)
            return upgrade ? "Connection: upgrade, keep-alive\r\n"u8 : "Connection: keep-alive\r\n"u8;
        return upgrade ? "Connection: upgrade\r\n"u8 : default;
    }

    private static int Put(Span<byte> destination, int offset, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination[offset..]);
        return offset + bytes.Length;
    }

    private static void ThrowTooSmall() => throw new InvalidOperationException("IBufferWriter returned less memory than asked for");
}
