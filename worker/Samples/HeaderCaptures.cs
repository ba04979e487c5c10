using System.Text;
using Proxy.Shared.Config;
using Proxy.Worker.Http;
using Proxy.Worker.Logging;

namespace Proxy.Worker.Samples;

/// <summary>
/// The frontend's capture slots (doc/configuration.txt 4.2): `capture request|response header NAME len N` fill theirs
/// with the value of the last occurrence of the header; `declare capture`, `http-request|http-response capture` and
/// `tcp-request content capture` slots (no name) are filled by those rules; each is cut at N bytes and kept for the
/// log (%hr, %hs, %hrl, %hsl) and the `capture.req.hdr(N)`, `capture.res.hdr(N)` fetches. `capture cookie NAME len N`
/// keeps the first matching request cookie and response Set-Cookie (%CC, %CS). The buffers are the session's, sized
/// once, filled per request without allocating.
/// </summary>
internal sealed class HeaderCaptures
{
    private (byte[] Name, byte[] Value)[] _request = [];
    private (byte[] Name, byte[] Value)[] _response = [];
    private int[] _requestLengths = [];
    private int[] _responseLengths = [];
    private FrontendConfig? _configured;
    private byte[] _cookieName = [];
    private byte[] _requestCookie = [];
    private byte[] _responseCookie = [];
    private int _requestCookieLength = -1;
    private int _responseCookieLength = -1;

    /// <summary>Sets the frontend's captures, all empty (once per session; a session keeps its frontend).</summary>
    public void Configure(FrontendConfig frontend)
    {
        if (ReferenceEquals(_configured, frontend))
        {
            Clear();
            return;
        }
        _configured = frontend;
        _request = Build(frontend.RequestCaptures);
        _response = Build(frontend.ResponseCaptures);
        // A frontend without captures (the usual case) shares the empty arrays: four fewer objects per session (96 B).
        _requestLengths = _request.Length == 0 ? [] : new int[_request.Length];
        _responseLengths = _response.Length == 0 ? [] : new int[_response.Length];
        var cookie = frontend.CookieCapture;
        _cookieName = cookie is null ? [] : Encoding.ASCII.GetBytes(cookie.Name);
        _requestCookie = cookie is null ? [] : new byte[cookie.Length];
        _responseCookie = cookie is null ? [] : new byte[cookie.Length];
        Clear();
    }

    private static (byte[], byte[])[] Build(IReadOnlyList<HeaderCapture> captures)
    {
        if (captures.Count == 0) return [];
        var built = new (byte[], byte[])[captures.Count];
        for (int i = 0; i < built.Length; i++) built[i] = (Encoding.ASCII.GetBytes(captures[i].Name), new byte[captures[i].Length]);
        return built;
    }

    public void Clear()
    {
        Array.Fill(_requestLengths, -1);
        Array.Fill(_responseLengths, -1);
        _requestCookieLength = _responseCookieLength = -1;
    }

    public void CaptureRequest(HttpHead head) => Capture(head, _request, _requestLengths);

    public void CaptureResponse(HttpHead head) => Capture(head, _response, _responseLengths);

    private static void Capture(HttpHead head, (byte[] Name, byte[] Value)[] captures, int[] lengths)
    {
        for (int c = 0; c < captures.Length; c++)
        {
            if (captures[c].Name.Length == 0) continue;   // a rule's slot: the rule fills it
            lengths[c] = -1;
            for (int i = head.IndexOfHeader(captures[c].Name); i >= 0; i = head.IndexOfHeader(captures[c].Name, i + 1))
            {
                var value = head.GetHeaderValue(i);
                int n = Math.Min(value.Length, captures[c].Value.Length);
                value[..n].CopyTo(captures[c].Value);
                lengths[c] = n;
            }
        }
    }

    /// <summary>
    /// `http-request|tcp-request content capture` (<paramref name="response"/> false) or `http-response capture`:
    /// <paramref name="value"/> into slot <paramref name="slot"/>, cut at its length; a slot the frontend does not
    /// have is ignored, as HAProxy ignores a backend's rule naming one (4.2 "http-request capture").
    /// </summary>
    public void Set(bool response, int slot, ReadOnlySpan<byte> value)
    {
        var captures = response ? _response : _request;
        if ((uint)slot >= (uint)captures.Length) return;
        int n = Math.Min(value.Length, captures[slot].Value.Length);
        value[..n].CopyTo(captures[slot].Value);
        (response ? _responseLengths : _requestLengths)[slot] = n;
    }

    /// <summary>`capture.req.hdr(N)` / `capture.res.hdr(N)` (7.3.6): what slot N holds; false when it holds nothing.</summary>
    public bool TryGet(bool response, int slot, out ReadOnlySpan<byte> value)
    {
        var captures = response ? _response : _request;
        var lengths = response ? _responseLengths : _requestLengths;
        value = default;
        if ((uint)slot >= (uint)captures.Length || lengths[slot] < 0) return false;
        value = captures[slot].Value.AsSpan(0, lengths[slot]);
        return true;
    }

    /// <summary>
    /// `capture cookie` on the request: the first pair of the Cookie headers whose name starts with the capture's
    /// NAME, as `name=value` (HAProxy's http_manage_client_side_cookies, run once the request rules passed).
    /// </summary>
    public void CaptureRequestCookie(HttpHead request)
    {
        if (_cookieName.Length == 0) return;
        for (int i = request.IndexOfHeader("Cookie"u8); i >= 0 && _requestCookieLength < 0; i = request.IndexOfHeader("Cookie"u8, i + 1))
        {
            var reader = new Http.CookieReader(request.GetHeaderValue(i));
            while (reader.TryNext(out var name, out var value))
            {
                if (TryCaptureCookie(name, value, _requestCookie, out _requestCookieLength)) break;
            }
        }
    }

    /// <summary>
    /// `capture cookie` on the response: the first Set-Cookie whose cookie (its first pair, RFC 6265 4.1.1) has a name
    /// starting with NAME (HAProxy's http_manage_server_side_cookies, run once the response rules passed).
    /// </summary>
    public void CaptureResponseCookie(HttpHead response)
    {
        if (_cookieName.Length == 0) return;
        for (int i = response.IndexOfHeader("Set-Cookie"u8); i >= 0; i = response.IndexOfHeader("Set-Cookie"u8, i + 1))
        {
            var reader = new Http.CookieReader(response.GetHeaderValue(i));
            if (reader.TryNext(out var name, out var value) && TryCaptureCookie(name, value, _responseCookie, out _responseCookieLength)) return;
        }
    }

    /// <summary>`name=value` into <paramref name="dest"/>, cut at its length, when the name starts with the capture's.</summary>
    private bool TryCaptureCookie(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, byte[] dest, out int length)
    {
        length = -1;
        // A pair without '=' (CookieReader: empty name) is all name, as HAProxy reads it.
        bool bare = name.IsEmpty;
        if (bare)
        {
            name = value;
            value = default;
        }
        if (!name.StartsWith(_cookieName)) return false;
        int n = Math.Min(name.Length, dest.Length);
        name[..n].CopyTo(dest);
        if (!bare && n < dest.Length)
        {
            dest[n++] = (byte)'=';
            int v = Math.Min(value.Length, dest.Length - n);
            value[..v].CopyTo(dest.AsSpan(n));
            n += v;
        }
        length = n;
        return true;
    }

    /// <summary>%CC (<paramref name="response"/> false) or %CS: the captured `name=value`; false when none was.</summary>
    public bool TryGetCookie(bool response, out ReadOnlySpan<byte> value)
    {
        int n = response ? _responseCookieLength : _requestCookieLength;
        value = n < 0 ? default : (response ? _responseCookie : _requestCookie).AsSpan(0, n);
        return n >= 0;
    }

    public void AppendRequest(ref LogLineWriter w, bool list, bool quote) => Append(ref w, _request, _requestLengths, list, quote);

    public void AppendResponse(ref LogLineWriter w, bool list, bool quote) => Append(ref w, _response, _responseLengths, list, quote);

    /// <summary>
    /// `{v1|v2}` (%hr, %hs), or `v1 v2` (%hrl, %hsl); nothing when the frontend captures nothing. Quoted (`+Q`): the
    /// braces as a whole, or each value of a list, an empty one then `""` rather than `-` (HAProxy's log.c).
    /// </summary>
    private static void Append(ref LogLineWriter w, (byte[] Name, byte[] Value)[] captures, int[] lengths, bool list, bool quote)
    {
        if (captures.Length == 0) return;
        if (quote && !list) w.Append('"');
        if (!list) w.Append('{');
        for (int c = 0; c < captures.Length; c++)
        {
            if (c > 0) w.Append(list ? ' ' : '|');
            if (quote && list) w.Append('"');
            if (lengths[c] < 0)
            {
                if (list) w.Append(quote ? '"' : '-');
                continue;
            }
            foreach (byte b in captures[c].Value.AsSpan(0, lengths[c]))
            {
                // HAProxy's hdr_encode_map: controls, DEL and above, '"', '#', '{', '|' and '}' as #XX.
                if (b < 32 || b >= 127 || b is (byte)'"' or (byte)'#' or (byte)'{' or (byte)'|' or (byte)'}') w.AppendEscaped(b);
                else w.Append(b);
            }
            if (quote && list) w.Append('"');
        }
        if (!list) w.Append('}');
        if (quote && !list) w.Append('"');
    }
}
