using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace Proxy.Worker.Http;

/// <summary>
/// Parses an HTTP/1.x request head (RFC 9112 2-3, 5-6). Call with what the pipe holds; on
/// NeedMoreData call <c>reader.AdvanceTo(consumed, examined)</c> and again with more bytes.
/// </summary>
public static class Http1RequestParser
{
    /// <summary>
    /// Takes the buffered bytes; returns NeedMoreData (everything was consumed into <paramref name="head"/>),
    /// Complete (<paramref name="consumed"/> is the first body byte) or Error (<see cref="HttpHead.Error"/>,
    /// answer <see cref="HttpParseErrors.StatusCode"/> and close). <paramref name="head"/> must have been
    /// <see cref="HttpHead.Reset"/> for a request before the first call of a message.
    /// </summary>
    public static HttpParseStatus Parse(HttpHead head, in ReadOnlySequence<byte> buffer, out SequencePosition consumed, out SequencePosition examined)
    {
        if (head.Kind != HttpMessageKind.Request) Http1HeadParser.ThrowWrongKind();
        return Http1HeadParser.Parse(head, buffer, out consumed, out examined);
    }
}

/// <summary>Parses an HTTP/1.x response head; <see cref="HttpHead.Reset"/> it with the request's method first.</summary>
public static class Http1ResponseParser
{
    /// <inheritdoc cref="Http1RequestParser.Parse"/>
    public static HttpParseStatus Parse(HttpHead head, in ReadOnlySequence<byte> buffer, out SequencePosition consumed, out SequencePosition examined)
    {
        if (head.Kind != HttpMessageKind.Response) Http1HeadParser.ThrowWrongKind();
        return Http1HeadParser.Parse(head, buffer, out consumed, out examined);
    }
}

/// <summary>
/// The shared head parser. Each byte is looked at once: bytes are copied into the head's buffer as they
/// arrive and consumed from the pipe, so a later call starts where the previous stopped; a line is checked
/// when its LF arrives. Deliberately strict where RFC 9112 allows leniency:
/// - a bare LF line terminator is refused (RFC 9112 2.2 says a recipient MAY accept it; a proxy that does
///   while its server does not can be made to disagree on where the head ends);
/// - a CR not followed by LF, obs-fold, whitespace before the colon and control bytes are refused;
/// - empty lines before a request line are ignored (RFC 9112 2.2 SHOULD), they count toward tune.bufsize.
/// </summary>
internal static class Http1HeadParser
{
    private const int MaxLeadingEmptyLines = 4;

    internal static HttpParseStatus Parse(HttpHead head, in ReadOnlySequence<byte> buffer, out SequencePosition consumed, out SequencePosition examined)
    {
        var reader = new SequenceReader<byte>(buffer);
        byte[] dst = head.Buffer;
        while (!reader.End)
        {
            ReadOnlySpan<byte> span = reader.UnreadSpan;
            int lf = span.IndexOf((byte)'\n');
            int take = lf < 0 ? span.Length : lf + 1;
            if (take > head.MaxHeadSize - head._length)
                return Fail(head, HttpParseError.HeadTooLarge, reader.Position, out consumed, out examined);
            span[..take].CopyTo(dst.AsSpan(head._length));
            head._length += take;
            reader.Advance(take);
            if (lf < 0) continue;

            int lineStart = head._lineStart;
            HttpParseStatus status = ProcessLine(head);
            if (status != HttpParseStatus.NeedMoreData)
            {
                // The refused byte where the line's check knows it (a header's name or value), else the line's start.
                if (status == HttpParseStatus.Error && head.ErrorOffset < lineStart) head.ErrorOffset = lineStart;
                consumed = examined = reader.Position;
                return status;
            }
        }
        consumed = examined = reader.Position;
        return HttpParseStatus.NeedMoreData;
    }

    // A programming error, not a message error: the head was not Reset for this kind of message.
    internal static void ThrowWrongKind() =>
        throw new InvalidOperationException("HttpHead.Reset was called for the other kind of message");

    private static HttpParseStatus Fail(HttpHead head, HttpParseError error, SequencePosition at, out SequencePosition consumed, out SequencePosition examined)
    {
        head.Error = error;
        head.ErrorOffset = head._length;
        consumed = examined = at;
        return HttpParseStatus.Error;
    }

    private static HttpParseStatus Error(HttpHead head, HttpParseError error)
    {
        head.Error = error;
        return HttpParseStatus.Error;
    }

    // Checks the line head.Buffer[_lineStart.._length) (ending with LF) and records it.
    private static HttpParseStatus ProcessLine(HttpHead head)
    {
        int start = head._lineStart;
        int end = head._length - 1;           // at the LF
        head._lineStart = head._length;
        ReadOnlySpan<byte> buf = head.Buffer;
        if (end == start || buf[end - 1] != '\r')
            return Error(head, HttpParseError.BareLf);
        end--;                                // at the CR
        ReadOnlySpan<byte> line = buf[start..end];
        if (line.IndexOf((byte)'\r') >= 0)
            return Error(head, HttpParseError.BareCr);

        if (!head._startLineDone)
        {
            if (line.Length == 0 && head.Kind == HttpMessageKind.Request && start < MaxLeadingEmptyLines * 2)
                return HttpParseStatus.NeedMoreData;
            head._startLineDone = true;
            head._startLineStart = start;
            head._startLineLength = line.Length;
            HttpParseError e = head.Kind == HttpMessageKind.Request ? ParseRequestLine(head, line, start) : ParseStatusLine(head, line, start);
            return e == HttpParseError.None ? HttpParseStatus.NeedMoreData : Error(head, e);
        }

        if (line.Length == 0)
        {
            HttpParseError e = FinishHead(head);
            return e == HttpParseError.None ? HttpParseStatus.Complete : Error(head, e);
        }
        HttpParseError he = ParseHeaderLine(head, line, start);
        return he == HttpParseError.None ? HttpParseStatus.NeedMoreData : Error(head, he);
    }

    // request-line = method SP request-target SP HTTP-version (RFC 9112 3), single spaces only.
    private static HttpParseError ParseRequestLine(HttpHead head, ReadOnlySpan<byte> line, int offset)
    {
        int sp1 = line.IndexOf((byte)' ');
        if (sp1 < 0) return HttpParseError.InvalidRequestLine;
        ReadOnlySpan<byte> method = line[..sp1];
        if (!HttpChars.IsToken(method)) return HttpParseError.InvalidMethod;
        head.Method = IdentifyMethod(method);
        head._methodLength = sp1;

        ReadOnlySpan<byte> rest = line[(sp1 + 1)..];
        int sp2 = rest.IndexOf((byte)' ');
        if (sp2 < 0) return HttpParseError.InvalidRequestLine;   // HTTP/0.9 "GET /" is not spoken
        ReadOnlySpan<byte> target = rest[..sp2];
        ReadOnlySpan<byte> version = rest[(sp2 + 1)..];
        if (version.IndexOf((byte)' ') >= 0) return HttpParseError.InvalidRequestTarget;  // a space inside the target
        HttpParseError te = CheckTarget(head.Method, target);
        if (te != HttpParseError.None) return te;
        head._targetStart = offset + sp1 + 1;
        head._targetLength = sp2;
        return ParseVersion(head, version, HttpParseError.InvalidVersion);
    }

    // RFC 9112 3.2: origin-form, absolute-form, authority-form (CONNECT only), asterisk-form (OPTIONS only).
    private static HttpParseError CheckTarget(Http1Method method, ReadOnlySpan<byte> target)
    {
        if (target.Length == 0 || target.IndexOfAnyExcept(HttpChars.Target) >= 0)
            return HttpParseError.InvalidRequestTarget;
        if (method == Http1Method.Connect)
        {
            // authority-form = uri-host ":" port
            int colon = target.LastIndexOf((byte)':');
            if (colon <= 0 || colon == target.Length - 1 || target.IndexOfAny((byte)'/', (byte)'@') >= 0 ||
                target[(colon + 1)..].IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
                return HttpParseError.InvalidRequestTarget;
            return HttpParseError.None;
        }
        if (target[0] == '/') return HttpParseError.None;
        if (target.Length == 1 && target[0] == '*')
            return method == Http1Method.Options ? HttpParseError.None : HttpParseError.InvalidRequestTarget;
        if (StartsWithIgnoreCase(target, "http://"u8) && target.Length > 7 ||
            StartsWithIgnoreCase(target, "https://"u8) && target.Length > 8)
            return HttpParseError.None;
        return HttpParseError.InvalidRequestTarget;
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> prefix) =>
        s.Length >= prefix.Length && Ascii.EqualsIgnoreCase(s[..prefix.Length], prefix);

    // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3).
    private static HttpParseError ParseVersion(HttpHead head, ReadOnlySpan<byte> v, HttpParseError invalid)
    {
        if (v.Length != 8 || !v.StartsWith("HTTP/"u8) || !char.IsAsciiDigit((char)v[5]) || v[6] != '.' || !char.IsAsciiDigit((char)v[7]))
            return invalid;
        if (v[5] == '1' && v[7] == '1') { head.Version = Http1Version.Http11; return HttpParseError.None; }
        if (v[5] == '1' && v[7] == '0') { head.Version = Http1Version.Http10; return HttpParseError.None; }
        // A well-formed other version (HTTP/2.0 on an HTTP/1 connection): 505 for a request.
        return head.Kind == HttpMessageKind.Request ? HttpParseError.UnsupportedVersion : invalid;
    }

    // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 4); "HTTP/1.1 200" without
    // the second SP is accepted as HAProxy does.
    private static HttpParseError ParseStatusLine(HttpHead head, ReadOnlySpan<byte> line, int offset)
    {
        if (line.Length < 12 || line[8] != ' ') return HttpParseError.InvalidStatusLine;
        HttpParseError ve = ParseVersion(head, line[..8], HttpParseError.InvalidVersion);
        if (ve != HttpParseError.None) return ve;
        int d0 = line[9] - '0', d1 = line[10] - '0', d2 = line[11] - '0';
        if ((uint)d0 > 9 || (uint)d1 > 9 || (uint)d2 > 9) return HttpParseError.InvalidStatusLine;
        int status = d0 * 100 + d1 * 10 + d2;
        if (status is < 100 or > 599) return HttpParseError.InvalidStatusLine;
        head.StatusCode = status;
        if (line.Length == 12) { head._reasonStart = offset + 12; head._reasonLength = 0; return HttpParseError.None; }
        if (line[12] != ' ') return HttpParseError.InvalidStatusLine;
        ReadOnlySpan<byte> reason = line[13..];
        if (reason.IndexOfAny(HttpChars.InvalidValue) >= 0) return HttpParseError.InvalidStatusLine;
        head._reasonStart = offset + 13;
        head._reasonLength = reason.Length;
        return HttpParseError.None;
    }

    // field-line = field-name ":" OWS field-value OWS (RFC 9112 5).
    private static HttpParseError ParseHeaderLine(HttpHead head, ReadOnlySpan<byte> line, int offset)
    {
        if (line[0] is (byte)' ' or (byte)'\t') return HttpParseError.ObsoleteLineFolding;
        int colon = line.IndexOf((byte)':');
        if (colon < 0) return HttpParseError.InvalidHeaderName;
        if (colon == 0) return HttpParseError.EmptyHeaderName;
        ReadOnlySpan<byte> name = line[..colon];
        int bad = name.IndexOfAnyExcept(HttpChars.Token);
        if (bad >= 0)
        {
            head.ErrorOffset = offset + bad;   // `show errors`: "error at position", the refused byte as HAProxy
            return name[bad] is (byte)' ' or (byte)'\t' && HttpChars.IsToken(name[..bad]) && HttpChars.TrimOws(name[bad..]).Length == 0
                ? HttpParseError.WhitespaceBeforeColon
                : HttpParseError.InvalidHeaderName;
        }
        ReadOnlySpan<byte> raw = line[(colon + 1)..];
        int invalid = raw.IndexOfAny(HttpChars.InvalidValue);
        if (invalid >= 0)
        {
            head.ErrorOffset = offset + colon + 1 + invalid;
            return HttpParseError.InvalidHeaderValue;
        }

        if (head._headerCount == head.MaxHeaders) return HttpParseError.TooManyHeaders;
        int vs = 0, ve = raw.Length;
        while (vs < ve && raw[vs] is (byte)' ' or (byte)'\t') vs++;
        while (ve > vs && raw[ve - 1] is (byte)' ' or (byte)'\t') ve--;
        ReadOnlySpan<byte> value = raw[vs..ve];

        ref HttpHeaderEntry h = ref head.Headers[head._headerCount++];
        h.NameStart = offset;
        h.NameLength = colon;
        h.ValueStart = offset + colon + 1 + vs;
        h.ValueLength = ve - vs;
        h.Known = IdentifyHeader(name);
        return h.Known switch
        {
            HttpKnownHeader.Other => HttpParseError.None,
            HttpKnownHeader.Host => ++head._hostCount > 1 ? HttpParseError.MultipleHost
                : value.IndexOfAnyExcept(HttpChars.Host) >= 0 ? HttpParseError.InvalidHost
                : HttpParseError.None,
            HttpKnownHeader.ContentLength => ParseContentLength(head, value),
            HttpKnownHeader.TransferEncoding => ParseTransferEncoding(head, value),
            HttpKnownHeader.Connection => ParseConnection(head, value),
            HttpKnownHeader.Upgrade => SetUpgrade(head),
            HttpKnownHeader.Expect => SetExpect(head, value),
            _ => HttpParseError.None,
        };
    }

    private static HttpParseError SetUpgrade(HttpHead head)
    {
        head.HasUpgrade = true;
        return HttpParseError.None;
    }

    private static HttpParseError SetExpect(HttpHead head, ReadOnlySpan<byte> value)
    {
        if (Ascii.EqualsIgnoreCase(value, "100-continue"u8)) head.ExpectsContinue = true;
        return HttpParseError.None;
    }

    // Content-Length = 1*DIGIT; a list or repeated header of identical values is merged (RFC 9110 8.6).
    private static HttpParseError ParseContentLength(HttpHead head, ReadOnlySpan<byte> list)
    {
        bool done = false;
        while (HttpChars.NextListElement(ref list, out var element, ref done))
        {
            if (element.Length == 0) return HttpParseError.InvalidContentLength;
            long v = 0;
            foreach (byte b in element)
            {
                uint d = (uint)(b - '0');
                if (d > 9) return HttpParseError.InvalidContentLength;
                if (v > (long.MaxValue - d) / 10) return HttpParseError.InvalidContentLength;
                v = v * 10 + d;
            }
            if (head.ContentLength >= 0 && head.ContentLength != v) return HttpParseError.ConflictingContentLength;
            head.ContentLength = v;
        }
        return HttpParseError.None;
    }

    // Transfer-Encoding = #transfer-coding; only the position of "chunked" matters here (RFC 9112 6.1, 7).
    private static HttpParseError ParseTransferEncoding(HttpHead head, ReadOnlySpan<byte> list)
    {
        head._hasTransferEncoding = true;
        bool done = false;
        while (HttpChars.NextListElement(ref list, out var element, ref done))
        {
            if (element.Length == 0) continue;   // empty list elements are ignored (RFC 9110 5.6.1.2)
            int semi = element.IndexOf((byte)';');
            ReadOnlySpan<byte> coding = HttpChars.TrimOws(semi < 0 ? element : element[..semi]);
            if (!HttpChars.IsToken(coding)) return HttpParseError.InvalidTransferEncoding;
            if (head._chunkedFinal) head._chunkedNotFinal = true;
            if (Ascii.EqualsIgnoreCase(coding, "chunked"u8))
            {
                if (semi >= 0) return HttpParseError.InvalidTransferEncoding;   // chunked takes no parameter
                if (head._chunkedSeen) head._chunkedTwice = true;
                head._chunkedSeen = head._chunkedFinal = true;
            }
            else
            {
                head._chunkedFinal = false;
            }
        }
        return HttpParseError.None;
    }

    private static HttpParseError ParseConnection(HttpHead head, ReadOnlySpan<byte> list)
    {
        bool done = false;
        while (HttpChars.NextListElement(ref list, out var element, ref done))
        {
            if (Ascii.EqualsIgnoreCase(element, "close"u8)) head.ConnectionOptions |= HttpConnectionOptions.Close;
            else if (Ascii.EqualsIgnoreCase(element, "keep-alive"u8)) head.ConnectionOptions |= HttpConnectionOptions.KeepAlive;
            else if (Ascii.EqualsIgnoreCase(element, "upgrade"u8)) head.ConnectionOptions |= HttpConnectionOptions.Upgrade;
        }
        return HttpParseError.None;
    }

    // The empty line arrived: check what needs the whole head and decide the framing (RFC 9112 6.3).
    private static HttpParseError FinishHead(HttpHead head)
    {
        bool request = head.Kind == HttpMessageKind.Request;
        if (request)
        {
            if (head._hostCount == 0 && head.Version == Http1Version.Http11) return HttpParseError.MissingHost;
            if (head._hostCount == 1 && !AbsoluteTargetMatchesHost(head)) return HttpParseError.HostMismatch;
        }
        if (head._hasTransferEncoding)
        {
            // 6.3 rule 3: both headers is a smuggling attempt; refuse rather than pick one.
            if (head.ContentLength >= 0) return HttpParseError.ContentLengthAndTransferEncoding;
            if (head._chunkedTwice || head._chunkedNotFinal) return HttpParseError.InvalidTransferEncoding;
            // 6.3 rule 4: a request whose final coding is not chunked cannot be delimited: 400.
            if (!head._chunkedFinal && request) return HttpParseError.InvalidTransferEncoding;
            if (head.Version == Http1Version.Http10) head.MustClose = true;   // RFC 9112 6.1
        }

        if (request)
        {
            head.BodyFraming = head._chunkedFinal ? HttpBodyFraming.Chunked
                : head.ContentLength > 0 ? HttpBodyFraming.ContentLength
                : HttpBodyFraming.None;
            return HttpParseError.None;
        }

        int status = head.StatusCode;
        if (status == 101 || head.RequestMethod == Http1Method.Connect && status is >= 200 and < 300)
            head.BodyFraming = HttpBodyFraming.Tunnel;
        else if (head.RequestMethod == Http1Method.Head || status < 200 || status == 204 || status == 304)
            head.BodyFraming = HttpBodyFraming.None;
        else if (head._hasTransferEncoding)
            head.BodyFraming = head._chunkedFinal ? HttpBodyFraming.Chunked : HttpBodyFraming.CloseDelimited;
        else if (head.ContentLength >= 0)
            head.BodyFraming = head.ContentLength == 0 ? HttpBodyFraming.None : HttpBodyFraming.ContentLength;
        else
            head.BodyFraming = HttpBodyFraming.CloseDelimited;
        return HttpParseError.None;
    }

    // RFC 9112 3.2.2 lets a proxy replace Host by the absolute-form authority; like HAProxy we rather
    // refuse a request whose two authorities differ, so the server and the proxy route it alike.
    // A default port (:80 for http, :443 for https) on either side does not make them differ.
    private static bool AbsoluteTargetMatchesHost(HttpHead head)
    {
        ReadOnlySpan<byte> target = head.Target;
        if (target.Length == 0 || target[0] == '/' || target[0] == '*' || head.Method == Http1Method.Connect) return true;
        bool https = target[4] is (byte)'s' or (byte)'S';
        ReadOnlySpan<byte> authority = target[(https ? 8 : 7)..];
        int end = authority.IndexOfAny((byte)'/', (byte)'?');
        if (end >= 0) authority = authority[..end];
        head.TryGetHeader("Host"u8, out ReadOnlySpan<byte> host);
        ReadOnlySpan<byte> defaultPort = https ? ":443"u8 : ":80"u8;
        if (authority.EndsWith(defaultPort)) authority = authority[..^defaultPort.Length];
        if (host.EndsWith(defaultPort)) host = host[..^defaultPort.Length];
        return Ascii.EqualsIgnoreCase(authority, host);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Http1Method IdentifyMethod(ReadOnlySpan<byte> m) => m.Length switch
    {
        3 when m.SequenceEqual("GET"u8) => Http1Method.Get,
        3 when m.SequenceEqual("PUT"u8) => Http1Method.Put,
        4 when m.SequenceEqual("HEAD"u8) => Http1Method.Head,
        4 when m.SequenceEqual("POST"u8) => Http1Method.Post,
        5 when m.SequenceEqual("PATCH"u8) => Http1Method.Patch,
        5 when m.SequenceEqual("TRACE"u8) => Http1Method.Trace,
        6 when m.SequenceEqual("DELETE"u8) => Http1Method.Delete,
        7 when m.SequenceEqual("CONNECT"u8) => Http1Method.Connect,
        7 when m.SequenceEqual("OPTIONS"u8) => Http1Method.Options,
        _ => Http1Method.Other,   // methods are case-sensitive (RFC 9110 9.1): "get" is another method
    };

    internal static HttpKnownHeader IdentifyHeader(ReadOnlySpan<byte> n) => n.Length switch
    {
        2 when Ascii.EqualsIgnoreCase(n, "TE"u8) => HttpKnownHeader.TE,
        4 when Ascii.EqualsIgnoreCase(n, "Host"u8) => HttpKnownHeader.Host,
        6 when Ascii.EqualsIgnoreCase(n, "Expect"u8) => HttpKnownHeader.Expect,
        7 when Ascii.EqualsIgnoreCase(n, "Upgrade"u8) => HttpKnownHeader.Upgrade,
        7 when Ascii.EqualsIgnoreCase(n, "Trailer"u8) => HttpKnownHeader.Trailer,
        10 when Ascii.EqualsIgnoreCase(n, "Connection"u8) => HttpKnownHeader.Connection,
        10 when Ascii.EqualsIgnoreCase(n, "Keep-Alive"u8) => HttpKnownHeader.KeepAlive,
        14 when Ascii.EqualsIgnoreCase(n, "Content-Length"u8) => HttpKnownHeader.ContentLength,
        16 when Ascii.EqualsIgnoreCase(n, "Proxy-Connection"u8) => HttpKnownHeader.ProxyConnection,
        17 when Ascii.EqualsIgnoreCase(n, "Transfer-Encoding"u8) => HttpKnownHeader.TransferEncoding,
        _ => HttpKnownHeader.Other,
    };
}
