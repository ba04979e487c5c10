using Proxy.Shared.Config;
using Proxy.Worker.Http;

namespace Proxy.Worker.Samples;

/// <summary>
/// A fetch compiled (doc/configuration.txt 7.3.2 to 7.3.6): its kind and its arguments as bytes. <see cref="TryFetch"/>
/// is one case per kind; a new fetch registered in Proxy.Shared.Config.SampleRegistry adds one case here.
/// </summary>
internal sealed class SampleFetcher
{
    private readonly SampleFetchKind _kind;
    private readonly byte[] _text;
    private readonly byte[] _text2;
    private readonly long _number;
    private readonly bool _hasNumber;
    private readonly VariableRef _variable;
    private readonly string? _backend;
    private readonly Tables.StickSamples? _stick;
    private readonly UserListRuntime? _users;
    private readonly long _length;   // req.payload's LENGTH

    public SampleFetcher(SampleFetchStep step)
    {
        _kind = step.Kind;
        _text = step.Text is null ? [] : System.Text.Encoding.UTF8.GetBytes(step.Text);
        _text2 = step.Text2 is null ? [] : System.Text.Encoding.UTF8.GetBytes(step.Text2);
        _number = step.Number;
        _hasNumber = step.HasNumber;
        if (step.Kind == SampleFetchKind.Var) _variable = VariableRef.Of(step.Text!);
        if (step.Kind == SampleFetchKind.NbSrv) _backend = step.Text;
        if (step.Kind is SampleFetchKind.StickCounter or SampleFetchKind.StickSource or SampleFetchKind.TableAvl or SampleFetchKind.TableCnt)
            _stick = new Tables.StickSamples(step);
        if (step.UserList is { } users) _users = new UserListRuntime(users);
        if (step.Kind is SampleFetchKind.ReqPayload or SampleFetchKind.ResPayload) _length = long.Parse(step.Text2!, System.Globalization.CultureInfo.InvariantCulture);
        // env(NAME): the worker's environment, inherited from the supervisor, read once here; unset: no sample.
        if (step.Kind == SampleFetchKind.Env && Environment.GetEnvironmentVariable(step.Text!) is { } value)
            _text2 = System.Text.Encoding.UTF8.GetBytes(value);
        HasDefault = step.Kind == SampleFetchKind.Env ? _text2.Length > 0 || Environment.GetEnvironmentVariable(step.Text!) is not null : step.Text2 is not null;
    }

    private bool HasDefault { get; }

    /// <summary>
    /// True for fetches that yield one value per header occurrence or cookie (`hdr`, `cook`...) when no occurrence
    /// was given: an ACL then tries each in turn (7.3.6 "hdr": "all occurrences are iterated over until a match").
    /// </summary>
    public bool IsMultiValued => !_hasNumber && _kind is SampleFetchKind.ReqHdr or SampleFetchKind.ResHdr or SampleFetchKind.ReqCook
        or SampleFetchKind.UrlParam or SampleFetchKind.ReqHdrVal or SampleFetchKind.HttpAuthGroup or SampleFetchKind.ReqBodyParam;

    /// <summary>
    /// Fetches the sample; <paramref name="iteration"/> is -1 for the sample's single value (the last occurrence, as
    /// HAProxy's fetches return outside ACLs) or the index of the value an ACL asks for next.
    /// </summary>
    public bool TryFetch(SampleContext ctx, int iteration, out Sample s)
    {
        s = default;
        var req = ctx.Request;
        switch (_kind)
        {
            case SampleFetchKind.Src: return TryAddress(ctx, ctx.Client, out s);
            case SampleFetchKind.SrcPort: return ctx.Client is { } c && Int(c.Port, out s);
            case SampleFetchKind.Dst: return TryAddress(ctx, ctx.Local, out s);
            case SampleFetchKind.DstPort: return ctx.Local is { } l && Int(l.Port, out s);
            case SampleFetchKind.FeName: s = Sample.OfString(ctx.FrontendName); return true;
            case SampleFetchKind.BeName:
                if (ctx.Backend is null) return false;
                s = Sample.OfString(ctx.BackendName);
                return true;
            case SampleFetchKind.NbSrv: return Int(UsableServers(ctx), out s);
            case SampleFetchKind.Var:
                if (ctx.TryGetVariable(_variable, out s)) return true;
                if (!HasDefault) return false;
                s = Sample.OfString(_text2);
                return true;
            case SampleFetchKind.Env:
                if (!HasDefault) return false;
                s = Sample.OfString(_text2);
                return true;
            case SampleFetchKind.Str: s = Sample.OfString(_text); return true;
            case SampleFetchKind.Int: return Int(_number, out s);
            case SampleFetchKind.Bool: s = Sample.OfBool(_number != 0); return true;
            case SampleFetchKind.SslFc or SampleFetchKind.SslCUsed or SampleFetchKind.SslFcSni or SampleFetchKind.SslFcProtocol
                or SampleFetchKind.SslFcAlpn or SampleFetchKind.SslFcCipher or SampleFetchKind.SslCVerify or SampleFetchKind.SslCSDn
                or SampleFetchKind.SslCIDn or SampleFetchKind.SslCSerial or SampleFetchKind.SslCSha1 or SampleFetchKind.SslCDer
                or SampleFetchKind.SslCNotBefore or SampleFetchKind.SslCNotAfter or SampleFetchKind.SslCVersion
                or SampleFetchKind.SslFcSessionId:
                return TlsSamples.TryFetch(_kind, ctx, _text, _hasNumber ? (int)_number : 1, out s);
            case SampleFetchKind.SslFcIsResumed:   // a session resumed from the cache or a ticket (TlsContexts)
                s = Sample.OfBool(ctx.TlsResumed);
                return ctx.Tls is not null;
            case SampleFetchKind.FcErr: return Int(0, out s);   // see SampleRegistry: no logged connection has one
            case SampleFetchKind.SslFcErr or SampleFetchKind.SslCErr or SampleFetchKind.SslCCaErr:
                return ctx.Tls is not null && Int(0, out s);
            case SampleFetchKind.StickCounter or SampleFetchKind.StickSource or SampleFetchKind.TableAvl or SampleFetchKind.TableCnt:
                return _stick!.TryFetch(ctx, out s);
            case SampleFetchKind.ReqLen or SampleFetchKind.ReqPayload or SampleFetchKind.ReqSslHelloType or SampleFetchKind.ReqSslVer
                or SampleFetchKind.ResLen or SampleFetchKind.ResPayload
                or SampleFetchKind.ReqSslSni:
                return PayloadSamples.TryFetch(_kind, ctx, _number, _length, out s);
            case SampleFetchKind.ReqRdpCookie or SampleFetchKind.ReqRdpCookieCnt:
                return PayloadSamples.TryRdpCookie(_kind, ctx, _text, out s);
            case SampleFetchKind.CaptureReqHdr or SampleFetchKind.CaptureResHdr:
                if (!ctx.Captures.TryGet(_kind == SampleFetchKind.CaptureResHdr, (int)_number, out var captured)) return false;
                s = Sample.OfString(captured);
                return true;
            case SampleFetchKind.AlwaysTrue: s = Sample.OfBool(true); return true;
            case SampleFetchKind.AlwaysFalse: s = Sample.OfBool(false); return true;
            case SampleFetchKind.Date: return Int(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + _number, out s);
            case SampleFetchKind.Rand:
                return Int(_hasNumber ? Random.Shared.NextInt64(_number) : Random.Shared.NextInt64(1L << 32), out s);
        }
        if (req is null) return false;   // a layer-7 fetch before any request: no sample
        switch (_kind)
        {
            case SampleFetchKind.Method: s = Sample.OfString(ctx.RequestMethod); return true;
            case SampleFetchKind.Path: s = Sample.OfString(HttpTargets.Path(ctx.RequestTarget)); return true;
            case SampleFetchKind.Url: s = Sample.OfString(ctx.RequestTarget); return true;
            case SampleFetchKind.Query:
                var target = ctx.RequestTarget;
                int q = target.IndexOf((byte)'?');
                if (q < 0) return false;
                s = Sample.OfString(target[(q + 1)..]);
                return true;
            case SampleFetchKind.Base: return TryBase(ctx, req, out s);
            case SampleFetchKind.UrlParam: return TryUrlParam(ctx.RequestTarget, iteration, out s);
            case SampleFetchKind.ReqHdr: return TryHeader(req, iteration, splitCommas: true, out s);
            case SampleFetchKind.ReqFhdr: return TryHeader(req, iteration, splitCommas: false, out s);
            case SampleFetchKind.ReqHdrCnt: return Int(HeaderValues.Count(req, _text, splitCommas: true), out s);
            case SampleFetchKind.ReqHdrVal:
                if (!TryHeader(req, iteration, splitCommas: true, out var v) || !SampleText.TryParseInt(v.Bytes, out long n)) return false;
                return Int(n, out s);
            case SampleFetchKind.ReqCook: return TryCookie(req, iteration, out s);
            case SampleFetchKind.ReqVer:
                s = Sample.OfString(req.Version == Http1Version.Http10 ? "1.0"u8 : "1.1"u8);
                return true;
            case SampleFetchKind.ProtoHttp: s = Sample.OfBool(true); return true;
            case SampleFetchKind.HttpAuth: s = Sample.OfBool(_users!.Authenticate(req) >= 0); return true;
            case SampleFetchKind.HttpAuthGroup:
                // 7.3.6 "http_auth_group": the user's name; in an ACL, each of the user's groups in turn, which the
                // patterns (group names) are matched against, as HAProxy's pat_match_auth.
                int user = _users!.Authenticate(req);
                if (user < 0) return false;
                if (iteration < 0) { s = Sample.OfString(_users.UserName(user)); return true; }
                var groups = _users.GroupsOf(user);
                if (iteration >= groups.Length) return false;
                s = Sample.OfString(groups[iteration]);
                return true;
            case SampleFetchKind.ReqBody or SampleFetchKind.ReqBodyLen or SampleFetchKind.ReqBodySize or SampleFetchKind.ReqBodyParam:
                return TryBody(ctx.Body, iteration, out s);
            case SampleFetchKind.UniqueId:
                if (ctx.UniqueId.IsEmpty) return false;
                s = Sample.OfString(ctx.UniqueId);
                return true;
        }
        var res = ctx.Response;
        if (res is null) return false;   // a response fetch before the response: no sample
        switch (_kind)
        {
            case SampleFetchKind.Status: return Int(res.StatusCode, out s);
            case SampleFetchKind.ResHdr: return TryHeader(res, iteration, splitCommas: true, out s);
            case SampleFetchKind.ResHdrCnt: return Int(HeaderValues.Count(res, _text, splitCommas: true), out s);
        }
        return false;
    }

    private static bool Int(long value, out Sample s)
    {
        s = Sample.OfInt(value);
        return true;
    }

    private static bool TryAddress(SampleContext ctx, System.Net.IPEndPoint? endPoint, out Sample s)
    {
        s = default;
        if (endPoint is null) return false;
        int n = WriteAddress(endPoint.Address, ctx.ScratchFree);
        if (n < 0) return false;
        s = Sample.OfIp(ctx.Commit(n));
        return true;
    }

    /// <summary>
    /// The address's bytes as `src`/`dst` give them into <paramref name="dest"/> (16 bytes at least): 4 for IPv4, 16
    /// for IPv6; -1 when there is no room.
    /// </summary>
    internal static int WriteAddress(System.Net.IPAddress address, Span<byte> dest)
    {
        if (dest.Length < 16 || !address.TryWriteBytes(dest, out int n)) return -1;
        // An IPv4 client on a dual-stack socket is ::ffff:a.b.c.d: HAProxy reports it as IPv4.
        if (n == 16 && dest[..10].IndexOfAnyExcept((byte)0) < 0 && dest[10] == 0xFF && dest[11] == 0xFF)
        {
            dest.Slice(12, 4).CopyTo(dest);
            n = 4;
        }
        return n;
    }

    private int UsableServers(SampleContext ctx)
    {
        if (_backend is null) return ctx.Backend is { } be ? be.ActiveUsable + be.BackupUsable : 0;
        foreach (var b in ctx.Backends)
            if (b.Name == _backend) return b.ActiveUsable + b.BackupUsable;
        return 0;
    }

    /// <summary>`base`: the Host header's value then the path (7.3.6 "base"); the path alone without a Host.</summary>
    private static bool TryBase(SampleContext ctx, HttpHead req, out Sample s)
    {
        s = default;
        var path = HttpTargets.Path(ctx.RequestTarget);
        if (!req.TryGetHeader("Host"u8, out var host))
        {
            s = Sample.OfString(path);
            return true;
        }
        var dest = ctx.ScratchFree;
        if (dest.Length < host.Length + path.Length) return false;
        host.CopyTo(dest);
        path.CopyTo(dest[host.Length..]);
        s = Sample.OfString(ctx.Commit(host.Length + path.Length));
        return true;
    }

    /// <summary>`hdr(NAME[,OCC])`: occurrence OCC (1 first, -1 last), the last by default, or value <paramref name="iteration"/> for an ACL.</summary>
    private bool TryHeader(HttpHead head, int iteration, bool splitCommas, out Sample s)
    {
        s = default;
        long occurrence = _hasNumber ? _number : iteration >= 0 ? iteration + 1 : -1;
        if (occurrence == 0) return false;
        if (occurrence < 0)
        {
            int count = HeaderValues.Count(head, _text, splitCommas);
            occurrence = count + 1 + occurrence;
            if (occurrence <= 0) return false;
        }
        if (!HeaderValues.TryGet(head, _text, splitCommas, (int)occurrence - 1, out var value)) return false;
        s = Sample.OfString(value);
        return true;
    }

    /// <summary>`cook(NAME)`: the value of cookie NAME in the Cookie headers (the last one, or the n-th for an ACL).</summary>
    private bool TryCookie(HttpHead req, int iteration, out Sample s)
    {
        s = default;
        int found = 0;
        ReadOnlySpan<byte> last = default;
        bool any = false;
        for (int i = req.IndexOfHeader("Cookie"u8); i >= 0; i = req.IndexOfHeader("Cookie"u8, i + 1))
        {
            var cookies = new CookieReader(req.GetHeaderValue(i));
            while (cookies.TryNext(out var name, out var value))
            {
                if (name.IsEmpty || !name.SequenceEqual(_text)) continue;
                last = value;
                any = true;
                if (iteration >= 0 && found++ == iteration)
                {
                    s = Sample.OfString(last);
                    return true;
                }
            }
        }
        if (iteration >= 0 || !any) return false;
        s = Sample.OfString(last);
        return true;
    }

    /// <summary>`url_param(NAME[,DELIM])`: the value of NAME in the query string (the first, or the n-th for an ACL).</summary>
    private bool TryUrlParam(ReadOnlySpan<byte> target, int iteration, out Sample s)
    {
        s = default;
        int q = target.IndexOf((byte)'?');
        if (q < 0) return false;
        var query = target[(q + 1)..];
        int hash = query.IndexOf((byte)'#');
        if (hash >= 0) query = query[..hash];
        return TryParam(query, _text, _text2.Length > 0 ? _text2 : "&"u8, iteration, out s);
    }

    /// <summary>
    /// The value of parameter <paramref name="name"/> (any one when empty) in `NAME=VALUE` pairs separated by one of
    /// <paramref name="delims"/>: the first, or the n-th for an ACL; not URL-decoded (7.3.6 "url_param", "req.body_param").
    /// </summary>
    private static bool TryParam(ReadOnlySpan<byte> query, ReadOnlySpan<byte> name, ReadOnlySpan<byte> delims, int iteration, out Sample s)
    {
        s = default;
        int found = 0, wanted = Math.Max(iteration, 0);
        while (true)
        {
            int end = query.IndexOfAny(delims);
            var pair = end < 0 ? query : query[..end];
            int eq = pair.IndexOf((byte)'=');
            var key = eq < 0 ? pair : pair[..eq];
            if (pair.Length > 0 && (name.Length == 0 || key.SequenceEqual(name)) && found++ == wanted)
            {
                s = Sample.OfString(eq < 0 ? default : pair[(eq + 1)..]);
                return true;
            }
            if (end < 0) return false;
            query = query[(end + 1)..];
        }
    }

    /// <summary>
    /// 7.3.6 `req.body`, `req.body_len`, `req.body_size`, `req.body_param([NAME])`: what the client's buffer holds of
    /// the body while the request's rules run (all of it after `option http-buffer-request`, when it fit); no sample
    /// once the body is being relayed.
    /// </summary>
    private bool TryBody(RequestBodyView body, int iteration, out Sample s)
    {
        s = default;
        if (!body.Visible) return false;
        switch (_kind)
        {
            case SampleFetchKind.ReqBody: s = Sample.OfBinary(body.Available); return true;
            case SampleFetchKind.ReqBodyLen: return Int(body.Available.Length, out s);
            case SampleFetchKind.ReqBodySize: return Int(body.AdvertisedSize, out s);
            default: return TryParam(body.Available, _text, "&"u8, iteration, out s);
        }
    }
}

/// <summary>The values of a header field: each line, or each comma-separated element of them (7.3.6 "hdr" vs "fhdr").</summary>
internal static class HeaderValues
{
    public static int Count(HttpHead head, ReadOnlySpan<byte> name, bool splitCommas)
    {
        int count = 0;
        for (int i = head.IndexOfHeader(name); i >= 0; i = head.IndexOfHeader(name, i + 1))
        {
            if (!splitCommas) { count++; continue; }
            var value = head.GetHeaderValue(i);
            count += value.Count((byte)',') + 1;
        }
        return count;
    }

    /// <summary>Value number <paramref name="index"/> (0-based), blanks around it trimmed.</summary>
    public static bool TryGet(HttpHead head, ReadOnlySpan<byte> name, bool splitCommas, int index, out ReadOnlySpan<byte> value)
    {
        int n = 0;
        for (int i = head.IndexOfHeader(name); i >= 0; i = head.IndexOfHeader(name, i + 1))
        {
            var line = head.GetHeaderValue(i);
            if (!splitCommas)
            {
                if (n++ == index) { value = line; return true; }
                continue;
            }
            while (true)
            {
                int comma = line.IndexOf((byte)',');
                if (n++ == index)
                {
                    value = (comma < 0 ? line : line[..comma]).Trim(" \t"u8);
                    return true;
                }
                if (comma < 0) break;
                line = line[(comma + 1)..];
            }
        }
        value = default;
        return false;
    }
}
