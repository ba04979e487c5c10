using System.Text;
using Proxy.Shared.Config;
using Proxy.Worker.Http;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Persistence;

/// <summary>
/// Server persistence for one request of an http session (doc/configuration.txt 4.2 "cookie", after HAProxy's
/// http_manage_client_side_cookies, process_server_rules, http_manage_server_side_cookies and the Set-Cookie insert
/// of http_process_res_common). The session owns one and reuses it: <see cref="Begin"/> reads the request (persist
/// rules, the cookie, `use-server`) and gives <see cref="Assigned"/>, the server the request must go to;
/// <see cref="Http1HeadWriter"/> calls <see cref="WriteField"/> for the Cookie fields it forwards and the Set-Cookie
/// fields it returns, and <see cref="PutInserted"/> for the cookie the proxy sets. Nothing here allocates.
/// </summary>
internal sealed class RequestPersistence
{
    private const long FutureToleranceSeconds = 86400;   // HAProxy ignores dates more than a day ahead (clock fixes)

    private BackendPersistence? _bp;
    private ServerRuntime? _server;          // the server that answered (PrepareResponse)
    private bool _ignore, _rewriteRequest, _insert, _cacheControl;
    private long _lastDate, _firstDate, _now; // the cookie's dates, UNIX seconds (0: none)
    private Http1Method _method;

    /// <summary>The server a valid cookie or a `use-server` rule designates; null: the balancer chooses.</summary>
    public ServerRuntime? Assigned { get; private set; }

    /// <summary>`force-persist` matched (HAProxy's SF_FORCE_PRST): the request is never redispatched.</summary>
    public bool Forced { get; private set; }

    /// <summary>HAProxy's SF_DIRECT: the request went to the server its cookie or `use-server` named (no new cookie needed).</summary>
    public bool Direct { get; private set; }

    /// <summary>
    /// Starts a request on a backend with <paramref name="bp"/> (null: no persistence): `force-persist` /
    /// `ignore-persist`, then `use-server`, then the persistence cookie when nothing is assigned yet (a valid one
    /// assigns its server: up, or any with `option persist` or `force-persist`); HAProxy's order.
    /// </summary>
    public void Begin(BackendPersistence? bp, SampleContext facts, HttpHead request)
    {
        Clear();
        _bp = bp;
        _method = request.Method;
        if (bp is null) return;
        int rule = bp.EvaluatePersistRules(facts);
        _ignore = rule < 0;
        Forced = rule > 0;
        bool force = rule > 0 || bp.Persist;
        // `use-server` before the cookie (HAProxy 2.6 runs its server rules first: a matching rule wins over a valid
        // cookie, checked side by side); the cookie is still read for its dates and rewritten.
        if (bp.EvaluateUseServer(facts, force) is { } server)
        {
            Assigned = server;
            Direct = true;
        }
        if (bp.Cookie is { } cookie)
        {
            _now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            for (int i = request.IndexOfHeader("Cookie"u8); i >= 0; i = request.IndexOfHeader("Cookie"u8, i + 1))
            {
                var reader = new CookieReader(request.GetHeaderValue(i));
                while (reader.TryNext(out var name, out var value))
                    if (!name.IsEmpty && name.SequenceEqual(bp.Name)) ReadCookie(bp, cookie, value, force);
            }
        }
    }

    /// <summary>
    /// A `stick match` rule found the request's server (StickRules.Match, run when nothing else assigned one): HAProxy
    /// sets SF_DIRECT|SF_ASSIGNED as for a cookie, so an inserting cookie is not set again.
    /// </summary>
    public void AssignSticky(ServerRuntime? server)
    {
        if (server is null || Assigned is not null) return;
        Assigned = server;
        Direct = true;
    }

    /// <summary>Forgets the previous request (a request that never reaches a backend has no persistence).</summary>
    public void Clear()
    {
        _bp = null;
        _server = null;
        Assigned = null;
        Direct = Forced = _ignore = _rewriteRequest = _insert = _cacheControl = false;
        _lastDate = _firstDate = 0;
    }

    /// <summary>One occurrence of the persistence cookie: `SRV`, `SRV|LAST[|FIRST]`, or `SRV~VALUE` in prefix mode.</summary>
    private void ReadCookie(BackendPersistence bp, CookiePersistenceConfig cookie, ReadOnlySpan<byte> value, bool force)
    {
        var id = value;
        if (cookie.Mode == CookieMode.Prefix)
        {
            int tilde = value.IndexOf((byte)'~');
            if (tilde >= 0)
            {
                id = value[..tilde];
                _rewriteRequest = true;   // the server sees its own value, without "SRV~"
            }
        }
        else
        {
            if (cookie.Mode == CookieMode.Insert && cookie.Indirect) _rewriteRequest = true;   // the server never sees it
            ParseDates(value, out id, out _lastDate, out _firstDate);
            if ((_firstDate != 0 && cookie.MaxLifeSeconds > 0 && (_now - _firstDate > cookie.MaxLifeSeconds || _firstDate - _now > FutureToleranceSeconds))
                || (_lastDate != 0 && cookie.MaxIdleSeconds > 0 && (_now - _lastDate > cookie.MaxIdleSeconds || _lastDate - _now > FutureToleranceSeconds)))
            {
                // Too old or idle too long: as if there were no cookie (a new one is inserted).
                _firstDate = _lastDate = 0;
                return;
            }
        }
        // An empty value never designates a server (HAProxy: a client must not stick to a cookie-less backup).
        if (id.IsEmpty || _ignore || Assigned is not null) return;
        var servers = bp.ServerCookies;
        for (int i = 0; i < servers.Length; i++)
        {
            if (servers[i] is not { } mine || !id.SequenceEqual(mine)) continue;
            var server = bp.Servers[i];
            if (!BackendPersistence.IsRunning(server) && !force) continue;   // down: another server may share the value
            Assigned = server;
            Direct = true;
            return;
        }
    }

    /// <summary>
    /// Splits `SRV|LAST|FIRST` (4.2 "cookie ... maxidle"): <paramref name="id"/> before the first '|', and the dates
    /// in UNIX seconds (0 when absent or invalid).
    /// </summary>
    internal static void ParseDates(ReadOnlySpan<byte> value, out ReadOnlySpan<byte> id, out long last, out long first)
    {
        id = value;
        last = first = 0;
        int bar = value.IndexOf((byte)'|');
        if (bar < 0) return;
        id = value[..bar];
        var rest = value[(bar + 1)..];
        int v = CookieDate.Decode(rest);
        if (v > 0) last = (long)v << 2;
        int bar2 = rest.IndexOf((byte)'|');
        if (bar2 >= 0 && (v = CookieDate.Decode(rest[(bar2 + 1)..])) > 0) first = (long)v << 2;
    }

    /// <summary>The request's Cookie fields need rewriting (insert+indirect removes the cookie, prefix strips "SRV~").</summary>
    public RequestPersistence? RequestRewrite => _rewriteRequest ? this : null;

    /// <summary>
    /// The response of <paramref name="server"/> is about to be written: decides whether a cookie is inserted (insert
    /// mode, when the request did not come straight from a valid cookie for this server, or its dates need
    /// refreshing), and returns this when the response's Set-Cookie fields need the writer's attention, else null.
    /// </summary>
    public RequestPersistence? PrepareResponse(ServerRuntime server, HttpHead request, HttpHead response)
    {
        if (_bp?.Cookie is not { } cookie || _ignore) return null;
        _server = server;
        Direct &= Assigned == server;   // a redispatched request is no longer direct
        bool serverSetsIt = false;
        if (cookie.Preserve)
        {
            for (int i = response.IndexOfHeader("Set-Cookie"u8); i >= 0; i = response.IndexOfHeader("Set-Cookie"u8, i + 1))
                serverSetsIt |= SetCookieName(response.GetHeaderValue(i)).SequenceEqual(_bp.Name);
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        _now = now;
        _insert = cookie.Mode == CookieMode.Insert && !(serverSetsIt && cookie.Preserve)
            && (!Direct
                || ((cookie.MaxIdleSeconds > 0 || _lastDate != 0) && (_lastDate == 0 || _lastDate - now < 0))
                || (cookie.MaxLifeSeconds > 0 && _firstDate == 0)
                || (cookie.MaxLifeSeconds == 0 && _firstDate != 0))
            && (!cookie.PostOnly || _method == Http1Method.Post);
        _cacheControl = _insert && cookie.NoCache && IsCacheable(request, response);
        return this;
    }

    /// <summary>
    /// Writes one Cookie (request) or Set-Cookie (response) field as it must reach the other side; false when it does
    /// not fit. Fields of other names are never passed here (<see cref="Handles"/>).
    /// </summary>
    public bool WriteField(HttpMessageKind kind, Span<byte> destination, ref int p, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
        kind == HttpMessageKind.Request ? WriteCookie(destination, ref p, name, value) : WriteSetCookie(destination, ref p, name, value);

    /// <summary>Whether the writer must pass the field <paramref name="name"/> of a <paramref name="kind"/> head here.</summary>
    public static bool Handles(HttpMessageKind kind, ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, kind == HttpMessageKind.Request ? "Cookie"u8 : "Set-Cookie"u8);

    private bool WriteCookie(Span<byte> destination, ref int p, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var bp = _bp!;
        bool prefix = bp.Cookie!.Mode == CookieMode.Prefix;
        int start = p;
        if (!Put(destination, ref p, name) || !Put(destination, ref p, ": "u8)) return false;
        int valueStart = p;
        var reader = new CookieReader(value);
        while (reader.TryNext(out var n, out var v))
        {
            if (!n.IsEmpty && n.SequenceEqual(bp.Name))
            {
                int tilde = v.IndexOf((byte)'~');
                if (prefix && tilde >= 0) v = v[(tilde + 1)..];
                else if (!prefix) continue;   // insert + indirect: removed
            }
            if (p != valueStart && !Put(destination, ref p, "; "u8)) return false;
            if (!n.IsEmpty && (!Put(destination, ref p, n) || !Put(destination, ref p, "="u8))) return false;
            if (!Put(destination, ref p, v)) return false;
        }
        if (p == valueStart)
        {
            p = start;   // nothing left: the whole field goes (HAProxy removes the header)
            return true;
        }
        return Put(destination, ref p, "\r\n"u8);
    }

    private bool WriteSetCookie(Span<byte> destination, ref int p, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var bp = _bp!;
        var cookie = bp.Cookie!;
        if (!SetCookieName(value).SequenceEqual(bp.Name) || cookie.Preserve) return PutField(destination, ref p, name, value);
        // Insert mode replaces the server's cookie with its own; indirect removes it from a direct access.
        if (cookie.Mode == CookieMode.Insert || (Direct && cookie.Indirect)) return true;
        if (bp.ServerCookies[_server!.Index] is not { } mine || cookie.Mode is not (CookieMode.Rewrite or CookieMode.Prefix))
            return PutField(destination, ref p, name, value);
        int semi = value.IndexOf((byte)';');
        var pair = semi < 0 ? value : value[..semi];
        var own = pair[(pair.IndexOf((byte)'=') + 1)..].Trim(" \t"u8);
        if (!Put(destination, ref p, name) || !Put(destination, ref p, ": "u8) || !Put(destination, ref p, bp.Name)
            || !Put(destination, ref p, "="u8) || !Put(destination, ref p, mine)) return false;
        // rewrite: the server's value becomes its cookie value; prefix: "SRV~" goes before the server's own value.
        if (cookie.Mode == CookieMode.Prefix && (!Put(destination, ref p, "~"u8) || !Put(destination, ref p, own))) return false;
        return Put(destination, ref p, semi < 0 ? default : value[semi..]) && Put(destination, ref p, "\r\n"u8);
    }

    /// <summary>The Set-Cookie the proxy adds in insert mode (and `Cache-control: private` with `nocache`); false when it does not fit.</summary>
    public bool PutInserted(Span<byte> destination, ref int p)
    {
        if (!_insert) return true;
        var bp = _bp!;
        var cookie = bp.Cookie!;
        if (!Put(destination, ref p, "Set-Cookie: "u8) || !Put(destination, ref p, bp.Name) || !Put(destination, ref p, "="u8)) return false;
        if (bp.ServerCookies[_server!.Index] is { } mine)
        {
            if (!Put(destination, ref p, mine)) return false;
            if (cookie.MaxIdleSeconds > 0 || cookie.MaxLifeSeconds > 0)
            {
                if (destination.Length - p < 2 * (CookieDate.Length + 1)) return false;
                destination[p++] = (byte)'|';
                CookieDate.Encode(CookieDate.ToUnits(_now), destination[p..]);
                p += CookieDate.Length;
                if (cookie.MaxLifeSeconds > 0)
                {
                    destination[p++] = (byte)'|';
                    CookieDate.Encode(_firstDate != 0 ? (int)(_firstDate >> 2) : CookieDate.ToUnits(_now), destination[p..]);
                    p += CookieDate.Length;
                }
            }
        }
        else if (!Put(destination, ref p, "; Expires=Thu, 01-Jan-1970 00:00:01 GMT"u8))
        {
            return false;   // a server without a cookie value: the client's cookie is deleted
        }
        if (!Put(destination, ref p, bp.Attributes) || !Put(destination, ref p, "\r\n"u8)) return false;
        return !_cacheControl || Put(destination, ref p, "Cache-control: private\r\n"u8);
    }

    /// <summary>The cookie name of a Set-Cookie value (before the first '=' of its first pair); empty without '='.</summary>
    private static ReadOnlySpan<byte> SetCookieName(ReadOnlySpan<byte> value)
    {
        int semi = value.IndexOf((byte)';');
        var pair = semi < 0 ? value : value[..semi];
        int eq = pair.IndexOf((byte)'=');
        return eq < 0 ? default : pair[..eq].Trim(" \t"u8);
    }

    /// <summary>
    /// HAProxy's TX_CACHEABLE for `nocache`: a safe method (RFC 9110 9.2.1) without Authorization, a status a cache may
    /// store by default (RFC 9111 4), no Cache-Control / Pragma that forbids storing it, and something a cache could
    /// use: max-age, s-maxage or Expires, else an ETag or Last-Modified (HAProxy 2.6 adds no `Cache-control: private`
    /// to a response without any of them, checked side by side).
    /// </summary>
    private static bool IsCacheable(HttpHead request, HttpHead response)
    {
        if (request.Method is not (Http1Method.Get or Http1Method.Head or Http1Method.Options or Http1Method.Trace)) return false;
        if (request.IndexOfHeader("Authorization"u8) >= 0) return false;
        if (response.StatusCode is not (200 or 203 or 204 or 206 or 300 or 301 or 404 or 405 or 410 or 414 or 501)) return false;
        if (response.TryGetHeader("Pragma"u8, out var pragma) && Ascii.EqualsIgnoreCase(pragma.Trim(" \t"u8), "no-cache"u8)) return false;
        bool usable = response.IndexOfHeader("Expires"u8) >= 0 || response.IndexOfHeader("ETag"u8) >= 0
            || response.IndexOfHeader("Last-Modified"u8) >= 0;
        for (int i = response.IndexOfHeader("Cache-Control"u8); i >= 0; i = response.IndexOfHeader("Cache-Control"u8, i + 1))
        {
            var rest = response.GetHeaderValue(i);
            while (!rest.IsEmpty)
            {
                int comma = rest.IndexOf((byte)',');
                var item = (comma < 0 ? rest : rest[..comma]).Trim(" \t"u8);
                rest = comma < 0 ? default : rest[(comma + 1)..];
                if (Ascii.EqualsIgnoreCase(item, "private"u8) || Ascii.EqualsIgnoreCase(item, "no-cache"u8) || Ascii.EqualsIgnoreCase(item, "no-store"u8)
                    || Ascii.EqualsIgnoreCase(item, "max-age=0"u8) || Ascii.EqualsIgnoreCase(item, "s-maxage=0"u8)) return false;
                usable |= item.StartsWith("max-age"u8) || item.StartsWith("s-maxage"u8);
            }
        }
        return usable;
    }

    private static bool PutField(Span<byte> destination, ref int p, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
        Http1HeadWriter.PutField(destination, ref p, name, value);

    private static bool Put(Span<byte> destination, ref int p, ReadOnlySpan<byte> bytes) => Http1HeadWriter.Put(destination, ref p, bytes);
}
