using System.Text;
using Proxy.Shared.Config;
using Proxy.Worker.Http;

namespace Proxy.Worker.Compression;

/// <summary>Why a response is sent as the server made it (for tests and the reader; nothing is logged per request).</summary>
internal enum CompressionVerdict
{
    Compress, NoAlgorithm, Http10, Head, Status, NoBody, Encoded, NoTransform, BadETag, Multipart, Type,
}

/// <summary>
/// HAProxy 2.6's rules on when to compress (src/flt_http_comp.c, select_compression_request_header and
/// select_compression_response_header). The backend's algorithms and types take precedence over the frontend's;
/// either one's `compression offload` applies. Allocates nothing.
/// </summary>
internal static class CompressionNegotiation
{
    /// <summary>
    /// On the request: the algorithm the client accepts with the best q-value, looked up in the backend's list, else
    /// the frontend's; `identity` when configured and nothing else matched; null when none (no compression).
    /// </summary>
    public static CompressionAlgorithm? SelectAlgorithm(HttpHead request, CompressionRuntime? fe, CompressionRuntime? be)
    {
        if (fe is null && be is null) return null;
        // Old user agents announcing "Mozilla/4" mishandle compressed responses, except MSIE 6 with XP SP2 and MSIE 7+.
        if (request.TryGetHeader("User-Agent"u8, out var ua) && IsBrokenMozilla4(ua)) return null;
        var algos = be is { Algorithms.Length: > 0 } ? be.Algorithms : fe is { Algorithms.Length: > 0 } ? fe.Algorithms : null;
        if (algos is null) return null;
        CompressionAlgorithm? chosen = null;
        int bestQ = 0;
        for (int h = request.IndexOfHeader("Accept-Encoding"u8); h >= 0; h = request.IndexOfHeader("Accept-Encoding"u8, h + 1))
        {
            ReadOnlySpan<byte> list = request.GetHeaderValue(h);
            bool done = false;
            while (HttpChars.NextListElement(ref list, out var element, ref done))
            {
                int tokenLength = 0;
                while (tokenLength < element.Length && (HttpChars.IsTokenByte(element[tokenLength]) || element[tokenLength] == '*')) tokenLength++;
                if (tokenLength == 0) continue;
                var token = element[..tokenLength];
                int q = QValue(element[tokenLength..]);
                if (q <= bestQ) continue;
                foreach (var algo in algos)
                {
                    if (token is [(byte)'*'] || Ascii.EqualsIgnoreCase(token, CompressionRuntime.AcceptName(algo)))
                    {
                        chosen = algo;
                        bestQ = q;
                        break;
                    }
                }
            }
        }
        if (chosen is not null) return chosen;
        // identity is implicit: it needs no Accept-Encoding.
        foreach (var algo in algos) if (algo == CompressionAlgorithm.Identity) return algo;
        return null;
    }

    /// <summary>Whether `compression offload` applies to this request's proxies (Accept-Encoding then goes no further).</summary>
    public static bool Offloads(CompressionRuntime? fe, CompressionRuntime? be) => (fe?.Offload ?? false) || (be?.Offload ?? false);

    /// <summary>On the response head: whether it may be compressed, else which rule keeps it as it is.</summary>
    public static CompressionVerdict Check(HttpHead request, HttpHead response, CompressionRuntime? fe, CompressionRuntime? be)
    {
        // HTTP/1.0 on either side has no chunked encoding to carry a body of unknown length.
        if (request.Version != Http1Version.Http11 || response.Version != Http1Version.Http11) return CompressionVerdict.Http10;
        if (request.Method == Http1Method.Head) return CompressionVerdict.Head;
        if (response.StatusCode is < 200 or > 203) return CompressionVerdict.Status;   // 200, 201, 202 and 203 only
        // A known length that is not empty, or chunked (HAProxy: HTTP_MSGF_XFER_LEN and not BODYLESS).
        bool hasBody = response.BodyFraming == HttpBodyFraming.Chunked
            || (response.BodyFraming == HttpBodyFraming.ContentLength && response.ContentLength > 0);
        if (!hasBody) return CompressionVerdict.NoBody;
        if (response.IndexOfHeader("Content-Encoding"u8) >= 0) return CompressionVerdict.Encoded;
        for (int h = response.IndexOfHeader("Cache-Control"u8); h >= 0; h = response.IndexOfHeader("Cache-Control"u8, h + 1))
        {
            if (ListHas(response.GetHeaderValue(h), "no-transform"u8)) return CompressionVerdict.NoTransform;
        }
        int etag = response.IndexOfHeader("ETag"u8);
        if (etag >= 0 && (ETagKind(response.GetHeaderValue(etag)) == 0 || response.IndexOfHeader("ETag"u8, etag + 1) >= 0))
            return CompressionVerdict.BadETag;   // a malformed ETag, or several
        var types = be is { Types.Length: > 0 } ? be.Types : fe is { Types.Length: > 0 } ? fe.Types : null;
        if (response.TryGetHeader("Content-Type"u8, out var contentType))
        {
            if (contentType.Length >= 9 && Ascii.EqualsIgnoreCase(contentType[..9], "multipart"u8)) return CompressionVerdict.Multipart;
            if (types is not null && !MatchesType(contentType, types)) return CompressionVerdict.Type;
        }
        else if (types is not null)
        {
            return CompressionVerdict.Type;   // `compression type` asks for a type the response does not tell
        }
        return CompressionVerdict.Compress;
    }

    /// <summary>1: a strong ETag ("x"), 2: a weak one (W/"x"), 0: neither (HAProxy's http_get_etag_type).</summary>
    public static int ETagKind(ReadOnlySpan<byte> value)
    {
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') return 1;
        if (value.Length >= 4 && value[0] == 'W' && value[1] == '/' && value[2] == '"' && value[^1] == '"') return 2;
        return 0;
    }

    /// <summary>Whether a Vary header value already names Accept-Encoding (or is "*"): no second one is added.</summary>
    public static bool VaryCovers(HttpHead response)
    {
        for (int h = response.IndexOfHeader("Vary"u8); h >= 0; h = response.IndexOfHeader("Vary"u8, h + 1))
        {
            var value = response.GetHeaderValue(h);
            if (ListHas(value, "accept-encoding"u8) || ListHas(value, "*"u8)) return true;
        }
        return false;
    }

    // HAProxy compares the Content-Type's start with each configured type, case-insensitively ("text/html" matches
    // "text/html; charset=utf-8").
    private static bool MatchesType(ReadOnlySpan<byte> contentType, byte[][] types)
    {
        foreach (var t in types)
        {
            if (contentType.Length >= t.Length && Ascii.EqualsIgnoreCase(contentType[..t.Length], t)) return true;
        }
        return false;
    }

    private static bool ListHas(ReadOnlySpan<byte> list, ReadOnlySpan<byte> token)
    {
        bool done = false;
        while (HttpChars.NextListElement(ref list, out var element, ref done))
        {
            int end = element.IndexOfAny((byte)'=', (byte)';');
            var name = end < 0 ? element : HttpChars.TrimOws(element[..end]);
            if (Ascii.EqualsIgnoreCase(name, token)) return true;
        }
        return false;
    }

    // ";q=0.5" after a coding: the weight in thousandths (RFC 9110 12.4.2); 1000 when absent, 0 when malformed.
    private static int QValue(ReadOnlySpan<byte> parameters)
    {
        while (true)
        {
            parameters = HttpChars.TrimOws(parameters);
            if (parameters.IsEmpty || parameters[0] != ';') return 1000;
            parameters = HttpChars.TrimOws(parameters[1..]);
            if (parameters.Length >= 2 && (parameters[0] | 0x20) == 'q' && parameters[1] == '=')
                return ParseQ(parameters[2..]);
            int next = parameters.IndexOf((byte)';');
            if (next < 0) return 1000;
            parameters = parameters[next..];
        }
    }

    private static int ParseQ(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty) return 0;
        if (s[0] == '1') return 1000;
        if (s[0] != '0') return 0;
        int q = 0, scale = 100;
        if (s.Length > 1 && s[1] == '.')
        {
            for (int i = 2; i < s.Length && i < 5 && s[i] is >= (byte)'0' and <= (byte)'9'; i++, scale /= 10) q += (s[i] - '0') * scale;
        }
        return q;
    }

    // "Mozilla/4" user agents, unless "MSIE 7" and later, or "MSIE 6" with "SV1" (XP SP2), as HAProxy tests them.
    private static bool IsBrokenMozilla4(ReadOnlySpan<byte> ua)
    {
        if (ua.Length < 9 || !ua[..9].SequenceEqual("Mozilla/4"u8)) return false;
        if (ua.Length < 31 || !ua.Slice(25, 5).SequenceEqual("MSIE "u8) || ua[30] < '6') return true;
        return ua[30] == '6' && (ua.Length < 54 || !ua.Slice(51, 3).SequenceEqual("SV1"u8));
    }
}
