using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Http;

/// <summary>
/// Re-serializes a parsed head for the next hop: start line as received, headers in order without the hop-by-hop
/// ones (RFC 9110 7.6.1) and without those the header rules delete or set, then the caller's extra header lines
/// (X-Forwarded-For, see <see cref="AppendHeader"/>), then the fields the rules add, then the Connection header the
/// flags ask for, then CRLF. Writes into caller memory; allocates nothing.
///
/// Removed: Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade (unless
/// <see cref="HttpHeadWriteFlags.KeepUpgrade"/>), and every other header named in Connection, except Host,
/// Content-Length, Transfer-Encoding and Expect, which a client must not be able to strip that way (the framing the
/// proxy checked is the framing the server sees).
///
/// Header rules of up to two proxies apply (frontend then backend for requests, backend then frontend for
/// responses, as HAProxy evaluates them). A rule acts on the head as the previous rules left it: `set-header` and
/// `del-header` remove every earlier field of that name, received or added (4.2 "http-request set-header").
/// </summary>
internal static class Http1HeadWriter
{
    /// <summary>
    /// Writes into <paramref name="destination"/> with the rules of <paramref name="first"/> and
    /// <paramref name="second"/> whose bit is set in their mask; returns the length, or -1 when it does not fit (the
    /// caller answers 500 / 502 as HAProxy does when a rewrite fails).
    /// </summary>
    public static int Write(HttpHead head, Span<byte> destination, HttpHeadWriteFlags flags, ReadOnlySpan<byte> extraHeaderLines,
        CompiledHeaderRule[] first, ulong firstMask, CompiledHeaderRule[] second, ulong secondMask, Samples.SampleContext? samples = null,
        Persistence.RequestPersistence? cookies = null)
    {
        // A rule added earlier is cancelled by a later set/del of the same name.
        Cancel(first, ref firstMask, second, ref secondMask);
        int p = 0;
        // `http-request set-path|set-query|set-uri|set-method` (RequestLineRewrite) replace the request line.
        // `http-response set-status` replaces the status line (never an interim one: the caller passes no context).
        var startLine = samples is null ? head.StartLine
            : head.Kind == HttpMessageKind.Request ? (samples.RewrittenRequestLine.IsEmpty ? head.StartLine : samples.RewrittenRequestLine)
            : samples.ResponseStatusLine.IsEmpty ? head.StartLine : samples.ResponseStatusLine;
        if (!Put(destination, ref p, startLine) || !Put(destination, ref p, "\r\n"u8)) return -1;
        for (int i = 0; i < head.HeaderCount; i++)
        {
            if (IsHopByHop(head, i, flags)) continue;
            var name = head.GetHeaderName(i);
            if (Removes(first, firstMask, name) || Removes(second, secondMask, name)) continue;
            // Cookie persistence (4.2 "cookie"): the Cookie fields to the server, the Set-Cookie ones to the client.
            if (cookies is not null && Persistence.RequestPersistence.Handles(head.Kind, name))
            {
                if (!cookies.WriteField(head.Kind, destination, ref p, name, head.GetHeaderValue(i))) return -1;
                continue;
            }
            if ((flags & (HttpHeadWriteFlags.DropAcceptEncoding | HttpHeadWriteFlags.Compress)) != 0)
            {
                // Compression (worker/Compression): the changes HAProxy's compression filter makes to a head.
                int change = CompressionChange(head, i, flags);
                if (change < 0) continue;
                if (change > 0)
                {
                    if (!Put(destination, ref p, name) || !Put(destination, ref p, ": W/"u8) || !Put(destination, ref p, head.GetHeaderValue(i))
                        || !Put(destination, ref p, "\r\n"u8)) return -1;
                    continue;
                }
            }
            // `replace-header|replace-value` (HeaderReplacer.cs); an interim response (no context) goes as received.
            if (samples is not null && HeaderReplacer.Applies(first, firstMask, second, secondMask, name))
            {
                if (!HeaderReplacer.Write(destination, ref p, name, head.GetHeaderValue(i), first, firstMask, second, secondMask, samples))
                    return -1;
                continue;
            }
            if (!PutField(destination, ref p, name, head.GetHeaderValue(i))) return -1;
        }
        if (!Put(destination, ref p, extraHeaderLines)) return -1;
        if (cookies is not null && head.Kind == HttpMessageKind.Response && !cookies.PutInserted(destination, ref p)) return -1;
        if (!PutAdded(destination, ref p, first, firstMask, second, secondMask, samples)) return -1;
        if (!Put(destination, ref p, ConnectionLine(flags)) || !Put(destination, ref p, "\r\n"u8)) return -1;
        return p;
    }

    /// <summary>
    /// Appends "name: value\r\n" at <paramref name="offset"/> in a caller buffer that collects extra headers
    /// (X-Forwarded-For...); returns the new offset, or -1 when it does not fit or name/value are not valid.
    /// </summary>
    public static int AppendHeader(Span<byte> destination, int offset, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (!HttpChars.IsToken(name) || value.IndexOfAny(HttpChars.InvalidValue) >= 0) return -1;
        if ((uint)offset > (uint)destination.Length) return -1;
        int p = offset;
        return PutField(destination, ref p, name, value) ? p : -1;
    }

    /// <summary>Whether header <paramref name="index"/> is hop-by-hop here (left out).</summary>
    private static bool IsHopByHop(HttpHead head, int index, HttpHeadWriteFlags flags)
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
            case HttpKnownHeader.Expect:
                // Answered by the proxy (HAProxy's http_handle_expect_hdr removes it): the server must not send a 100 too.
                return (flags & HttpHeadWriteFlags.DropExpectContinue) != 0 && Ascii.EqualsIgnoreCase(head.GetHeaderValue(index), "100-continue"u8);
            case HttpKnownHeader.Host:
            case HttpKnownHeader.ContentLength:
            case HttpKnownHeader.TransferEncoding:
                return false;
            default:
                return head.IsListedInConnection(head.GetHeaderName(index));
        }
    }

    /// <summary>
    /// -1: leave header <paramref name="index"/> out (Accept-Encoding under `compression offload`; Content-Length and
    /// Transfer-Encoding of a response being compressed, which goes out chunked); 1: a strong ETag to write weak (the
    /// bytes change, RFC 9110 8.8.3); 0: as received.
    /// </summary>
    private static int CompressionChange(HttpHead head, int index, HttpHeadWriteFlags flags)
    {
        ref readonly HttpHeaderEntry h = ref head.Entry(index);
        if ((flags & HttpHeadWriteFlags.Compress) != 0)
        {
            if (h.Known is HttpKnownHeader.ContentLength or HttpKnownHeader.TransferEncoding) return -1;
            if (Ascii.EqualsIgnoreCase(head.GetHeaderName(index), "ETag"u8))
                return head.GetHeaderValue(index) is [(byte)'"', ..] ? 1 : 0;
            return 0;
        }
        return Ascii.EqualsIgnoreCase(head.GetHeaderName(index), "Accept-Encoding"u8) ? -1 : 0;
    }

    private static void Cancel(CompiledHeaderRule[] first, ref ulong firstMask, CompiledHeaderRule[] second, ref ulong secondMask)
    {
        int total = first.Length + second.Length;
        for (int j = 1; j < total; j++)
        {
            var later = j < first.Length ? first[j] : second[j - first.Length];
            bool active = j < first.Length ? (firstMask & (1UL << j)) != 0 : (secondMask & (1UL << (j - first.Length))) != 0;
            if (!active || !later.Removes) continue;
            for (int i = 0; i < j; i++)
            {
                var earlier = i < first.Length ? first[i] : second[i - first.Length];
                if (!Ascii.EqualsIgnoreCase(earlier.Name, later.Name)) continue;
                if (i < first.Length) firstMask &= ~(1UL << i);
                else secondMask &= ~(1UL << (i - first.Length));
            }
        }
    }

    private static bool Removes(CompiledHeaderRule[] rules, ulong mask, ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < rules.Length; i++)
        {
            if ((mask & (1UL << i)) == 0 || !rules[i].Removes) continue;
            if (Ascii.EqualsIgnoreCase(rules[i].Name, name)) return true;
        }
        return false;
    }

    /// <summary>
    /// The fields set-header|add-header write, the first proxy's rules then the second's; the replace rules written
    /// after a rule rewrite the value it added (4.2: rules apply in order on the message).
    /// </summary>
    private static bool PutAdded(Span<byte> destination, ref int p, CompiledHeaderRule[] first, ulong firstMask, CompiledHeaderRule[] second,
        ulong secondMask, Samples.SampleContext? samples)
    {
        for (int k = 0; k < first.Length + second.Length; k++)
        {
            bool inFirst = k < first.Length;
            var rule = inFirst ? first[k] : second[k - first.Length];
            if (((inFirst ? firstMask : secondMask) & (1UL << (inFirst ? k : k - first.Length))) == 0 || !rule.Adds) continue;
            if (!Put(destination, ref p, rule.Name) || !Put(destination, ref p, ": "u8)) return false;
            int start = p;
            if (rule.Format is { } format && samples is not null)
            {
                // A log-format value is rendered in place; one that does not fit, or that a converter left with CR,
                // LF or NUL (url_dec), fails the rewrite as in HAProxy (the caller answers 500 / 502).
                int n = format.Render(samples, null, destination[p..]);
                if (n < 0) return false;
                p += n;
            }
            else if (!Put(destination, ref p, rule.Value)) return false;
            if (samples is not null && !HeaderReplacer.Rewrite(destination, start, ref p, rule.Name, first, firstMask, second, secondMask, k + 1, samples))
                return false;
            if (destination[start..p].IndexOfAny(HttpChars.InvalidValue) >= 0 || !Put(destination, ref p, "\r\n"u8)) return false;
        }
        return true;
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

    internal static bool PutField(Span<byte> destination, ref int p, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
        Put(destination, ref p, name) && Put(destination, ref p, ": "u8) && Put(destination, ref p, value) && Put(destination, ref p, "\r\n"u8);

    internal static bool Put(Span<byte> destination, ref int p, ReadOnlySpan<byte> bytes)
    {
        if (destination.Length - p < bytes.Length) return false;
        bytes.CopyTo(destination[p..]);
        p += bytes.Length;
        return true;
    }
}
