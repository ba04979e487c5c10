using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Http;

/// <summary>
/// One `http-request deny|return|redirect` rule, compiled: the condition, and the response prepared once (deny uses
/// the status's page at send time, so `errorfile` applies as in HAProxy; return and redirect are built here, a
/// redirect's location completed per request into the session's head buffer). Answering allocates nothing.
/// </summary>
internal sealed class CompiledRequestAction
{
    private readonly byte[] _redirectHead = [];    // "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: "
    private readonly byte[] _target = [];
    private readonly RedirectKind _redirect;
    private readonly bool _dropQuery;
    private readonly bool _appendSlash;
    private readonly Logging.CompiledLogFormat? _targetFormat;
    private readonly byte[] _redirectTail = [];    // "\r\n[set-cookie: ...\r\n]cache-control: no-cache\r\nConnection: close\r\n\r\n"

    private readonly Samples.VariableRef _variable;
    private readonly VarSetConditions _varConditions;
    private readonly Samples.CompiledSampleExpr? _expr;
    private readonly Logging.CompiledLogFormat? _valueFormat;
    private readonly Tables.CompiledTrack? _track;
    private readonly StickActionConfig? _sticky;
    private readonly int _logLevel;

    // return with `lf-string|lf-file` or `hdr` (4.2): the parts around what is rendered per request.
    private readonly byte[] _returnHead = [];         // "HTTP/1.1 200 OK\r\n"
    private readonly byte[] _returnContentType = [];  // "content-type: TYPE\r\n"
    private readonly byte[] _returnBody = [];         // `string` / `file`: the literal payload
    private readonly Logging.CompiledLogFormat? _returnBodyFormat;
    private readonly (byte[] Name, Logging.CompiledLogFormat Value)[] _returnHeaders = [];
    private readonly bool _returnNoContent;
    private readonly int _captureSlot;
    private readonly bool _captureResponse;

    /// <summary>What an action that fails to rewrite the request answers (HAProxy's strict-mode: 500).</summary>
    public static CompiledRequestAction RewriteFailed { get; } = new(new HttpRequestAction(HttpRequestActionKind.Deny, 500, null, new SourceLocation("", 0)));

    /// <param name="proxyName">the proxy whose rule it is: `http-request auth`'s realm when it names none</param>
    /// <param name="errorFiles">that proxy's errorfiles: `http-request auth` answers with its 401 page</param>
    public CompiledRequestAction(HttpRequestAction action, string proxyName = "", IReadOnlyDictionary<int, byte[]>? errorFiles = null)
    {
        Kind = action.Kind;
        Status = action.Status;
        Condition = action.Condition is null ? null : new CompiledCondition(action.Condition);
        IsFinal = action.IsFinal;
        if (action.Variable is { } variable) _variable = Samples.VariableRef.Of(variable);
        _varConditions = action.VarConditions;
        if (action.Expr is { } expr) _expr = new Samples.CompiledSampleExpr(expr);
        if (action.ValueFormat is { } format) _valueFormat = new Logging.CompiledLogFormat(format);
        if (action.Track is { } track) _track = new Tables.CompiledTrack(track);
        _sticky = action.Sticky;
        _logLevel = action.LogLevel;
        _captureSlot = action.CaptureSlot;
        _captureResponse = action.CaptureResponse;
        if (action.Sticky?.ValueExpr is { } gptExpr) _expr = new Samples.CompiledSampleExpr(gptExpr);
        switch (action.Kind)
        {
            case HttpRequestActionKind.Return when action.BodyFormat is not null || action.Headers is not null:
                // Rendered per request (WriteAnswer); RFC 9110 8.6, 15.3.5, 15.4.5: a 204 or 304 has no content.
                RendersPerRequest = true;
                _returnNoContent = action.Status is 204 or 304;
                _returnHead = Encoding.ASCII.GetBytes($"HTTP/1.1 {action.Status} {Reason(action.Status)}\r\n");
                _returnContentType = action.ContentType is { } returnType && !_returnNoContent ? Encoding.ASCII.GetBytes($"content-type: {returnType}\r\n") : [];
                _returnBody = action.Body ?? [];
                _returnBodyFormat = action.BodyFormat is null ? null : new Logging.CompiledLogFormat(action.BodyFormat);
                _returnHeaders = action.Headers is null ? []
                    : [.. action.Headers.Select(h => (Encoding.ASCII.GetBytes(h.Name), new Logging.CompiledLogFormat(h.Value)))];
                break;
            case HttpRequestActionKind.Return when action.WholeResponse is { } whole:
                Response = whole;   // `errorfile` / `errorfiles` (4.2 "http-request return"): sent as it is
                break;
            case HttpRequestActionKind.Return when action.Body is not null || !HttpErrorResponses.HasPage(action.Status):
                // RFC 9110 8.6, 15.3.5, 15.4.5: a 204 or 304 has no content and no Content-Length.
                bool noContent = action.Status is 204 or 304;
                var body = noContent ? [] : action.Body ?? [];
                var head = $"HTTP/1.1 {action.Status} {Reason(action.Status)}\r\n" + (noContent ? "" : $"content-length: {body.Length}\r\n") +
                    (action.ContentType is { } type && !noContent ? $"content-type: {type}\r\n" : "") + "cache-control: no-cache\r\nConnection: close\r\n\r\n";
                Response = [.. Encoding.ASCII.GetBytes(head), .. body];
                break;
            case HttpRequestActionKind.Auth:
                Response = HttpErrorResponses.WithChallenge(errorFiles, action.Realm ?? proxyName);
                break;
            case HttpRequestActionKind.Redirect:
                _redirectHead = Encoding.ASCII.GetBytes($"HTTP/1.1 {action.Status} {Reason(action.Status)}\r\ncontent-length: 0\r\nlocation: ");
                _target = Encoding.UTF8.GetBytes(action.Target ?? "");
                _redirect = action.Redirect;
                _dropQuery = action.DropQuery;
                _appendSlash = action.AppendSlash;
                _redirectTail = Encoding.ASCII.GetBytes("\r\n" + (action.Cookie is { } cookie ? $"set-cookie: {cookie}\r\n" : "")
                    + "cache-control: no-cache\r\nConnection: close\r\n\r\n");
                _targetFormat = action.TargetFormat is null ? null : new Logging.CompiledLogFormat(action.TargetFormat);
                break;
        }
    }

    public HttpRequestActionKind Kind { get; }
    public int Status { get; }
    public CompiledCondition? Condition { get; }
    /// <summary>return, auth: the whole response; null when the status's page (or its errorfile) is the answer.</summary>
    public byte[]? Response { get; }

    /// <summary>return with `lf-string`, `lf-file` or `hdr`: the answer is written per request (<see cref="WriteAnswer"/>), as a redirect's.</summary>
    public bool RendersPerRequest { get; }

    /// <summary>deny, return, redirect: the action answers the request; the others act and the rules go on.</summary>
    public bool IsFinal { get; }

    /// <summary>
    /// Runs the actions in order (4.2 "http-request": the first final one whose condition holds ends the list) and
    /// returns that final action, <see cref="RewriteFailed"/> when a rewrite failed, or null. <paramref name="allowedAt"/>
    /// is the index of the `allow` that ended the list, -1 when none did (the header rules written after it are then
    /// skipped too: <see cref="HttpProxyRuntime.RequestRulesBefore"/>).
    /// </summary>
    public static CompiledRequestAction? Run(CompiledRequestAction[] actions, Samples.SampleContext ctx, out int allowedAt)
    {
        allowedAt = -1;
        for (int i = 0; i < actions.Length; i++)
        {
            var a = actions[i];
            if (a.Condition is { } c && !c.Evaluate(ctx)) continue;
            if (a.Kind == HttpRequestActionKind.Allow)
            {
                allowedAt = i;   // 4.2 "allow": this proxy's rules end here
                return null;
            }
            if (a.IsFinal) return a;
            if (!a.Execute(ctx)) return RewriteFailed;
        }
        return null;
    }

    /// <summary>`tcp-request content` and `http-response` set-var|set-var-fmt|unset-var (TcpContentRuntime.cs, HttpProxyRuntime): the same actions.</summary>
    internal void ExecuteVariable(Samples.SampleContext ctx) => Execute(ctx);

    /// <summary>set-var, set-var-fmt, unset-var, set-log-level, capture, set-method, set-path, set-query, set-uri; false when a rewrite failed.</summary>
    private bool Execute(Samples.SampleContext ctx)
    {
        switch (Kind)
        {
            case HttpRequestActionKind.UnsetVar:
                ctx.UnsetVariable(_variable);
                return true;
            case HttpRequestActionKind.TrackSc:
                _track!.Run(ctx, forRequest: true);
                return true;
            case HttpRequestActionKind.StickAction:
                RunStickAction(ctx);
                return true;
            case HttpRequestActionKind.SetLogLevel:
                ctx.LogLevel = _logLevel;
                return true;
            case HttpRequestActionKind.SetSrc:
                // 4.2 "set-src": no address leaves the source as it was.
                ctx.ResetScratch();
                if (_expr!.TryEvaluate(ctx, out var src) && Samples.SampleText.TryAsIp(ctx, src, out var address)) ctx.SetSource(address);
                return true;
            case HttpRequestActionKind.SetDst:
                // 4.2 "set-dst": like set-src, no address leaves the destination as it was.
                ctx.ResetScratch();
                if (_expr!.TryEvaluate(ctx, out var dst) && Samples.SampleText.TryAsIp(ctx, dst, out var dstAddress)) ctx.SetDestination(dstAddress);
                return true;
            case HttpRequestActionKind.SetDstPort:
                ctx.ResetScratch();
                if (_expr!.TryEvaluate(ctx, out var dstPort) && Samples.SampleText.TryAsInt(dstPort, out long port) && port is >= 0 and <= 65535)
                    ctx.SetDestinationPort((int)port);
                return true;
            case HttpRequestActionKind.Capture:
                // 4.2 "http-request capture": the sample as a string into its slot; no sample leaves the slot as it was.
                ctx.ResetScratch();
                if (_expr!.TryEvaluate(ctx, out var captured) && Samples.SampleText.TryAsBytes(ctx, captured, out var text))
                    ctx.Captures.Set(_captureResponse, _captureSlot, text);
                return true;
            case HttpRequestActionKind.SetVar when _expr is not null:
                // 4.2 "set-var": no sample leaves the variable as it was.
                ctx.ResetScratch();
                if (_expr.TryEvaluate(ctx, out var s)) ctx.SetVariableIf(_variable, s, _varConditions);
                return true;
        }
        var value = ctx.ValueBuffer;
        int n = _valueFormat!.Render(ctx, null, value);
        if (n < 0) return false;
        if (Kind == HttpRequestActionKind.SetVar)
        {
            ctx.SetVariableIf(_variable, Samples.Sample.OfString(value[..n]), _varConditions);
            return true;
        }
        if (ctx.Request is not { } request) return false;
        var part = Kind switch
        {
            HttpRequestActionKind.SetMethod => RequestLineRewrite.Part.Method,
            HttpRequestActionKind.SetPath => RequestLineRewrite.Part.Path,
            HttpRequestActionKind.SetPathQ => RequestLineRewrite.Part.PathQuery,
            HttpRequestActionKind.SetQuery => RequestLineRewrite.Part.Query,
            _ => RequestLineRewrite.Part.Uri,
        };
        return ctx.RequestLine.Replace(request, part, value[..n]);
    }

    /// <summary>`sc-inc-gpc0|1`, `sc-inc-gpc`, `sc-set-gpt0` on a tracked counter (nothing when it is not tracked).</summary>
    private void RunStickAction(Samples.SampleContext ctx)
    {
        var a = _sticky!;
        if (ctx.Tracker is not { } tracker || !tracker.IsTracked(a.Counter)) return;
        long value = a.Value;
        if (_expr is not null)
        {
            ctx.ResetScratch();
            if (!_expr.TryEvaluate(ctx, out var s) || !Samples.SampleText.TryAsInt(s, out value)) return;
        }
        tracker.Apply(a.Kind, a.Counter, a.Index, value, Environment.TickCount64);
    }

    /// <summary>A return or redirect answer for <paramref name="request"/> into <paramref name="dest"/>; its length, or -1 when it does not fit.</summary>
    public int WriteAnswer(HttpHead request, Span<byte> dest, Samples.SampleContext samples) =>
        Kind == HttpRequestActionKind.Return ? WriteReturn(dest, samples) : WriteRedirect(request, dest, samples);

    /// <summary>
    /// `return ... lf-string FMT | lf-file PATH` and `hdr NAME FMT` (4.2 "http-request return"): the payload rendered
    /// first (into a pooled buffer, for its length), then the head with Content-Length and the `hdr` lines, then the
    /// payload; -1 when it does not fit in <paramref name="dest"/> (a header value with CR, LF or NUL fails too).
    /// </summary>
    private int WriteReturn(Span<byte> dest, Samples.SampleContext samples)
    {
        byte[] rendered = _returnBodyFormat is null || _returnNoContent ? [] : System.Buffers.ArrayPool<byte>.Shared.Rent(dest.Length);
        try
        {
            ReadOnlySpan<byte> body = _returnNoContent ? default : _returnBody;
            if (rendered.Length > 0)
            {
                int n = _returnBodyFormat!.Render(samples, null, rendered);
                if (n < 0) return -1;
                body = rendered.AsSpan(0, n);
            }
            var w = new SpanWriter(dest);
            w.Put(_returnHead);
            if (!_returnNoContent)
            {
                w.Put("content-length: "u8);
                w.PutNumber(body.Length);
                w.Put("\r\n"u8);
                w.Put(_returnContentType);
            }
            foreach (var (name, value) in _returnHeaders)
            {
                w.Put(name);
                w.Put(": "u8);
                if (!w.PutFormat(value, samples)) return -1;
                w.Put("\r\n"u8);
            }
            w.Put("cache-control: no-cache\r\nConnection: close\r\n\r\n"u8);
            w.Put(body);
            return w.Overflow ? -1 : w.Length;
        }
        finally
        {
            if (rendered.Length > 0) System.Buffers.ArrayPool<byte>.Shared.Return(rendered);
        }
    }

    /// <summary>
    /// Writes the redirect for <paramref name="request"/> into <paramref name="dest"/>; its length, or -1 when it does
    /// not fit. location: the value; prefix: the value then the request's path (and query unless drop-query), a
    /// prefix of "/" giving the path alone; scheme: SCHEME://HOST then the path.
    /// </summary>
    public int WriteRedirect(HttpHead request, Span<byte> dest, Samples.SampleContext? samples = null)
    {
        var w = new SpanWriter(dest);
        w.Put(_redirectHead);
        if (_targetFormat is not null && samples is not null && !w.PutFormat(_targetFormat, samples)) return -1;
        if (_redirect == RedirectKind.Location)
        {
            if (_targetFormat is null) w.Put(_target);
        }
        else
        {
            var path = PathOf(request.Target);
            if (_dropQuery && path.IndexOf((byte)'?') is int q and >= 0) path = path[..q];
            if (_redirect == RedirectKind.Scheme)
            {
                w.Put(_target);
                w.Put("://"u8);
                if (request.TryGetHeader("Host"u8, out var host)) w.Put(host);
            }
            else if (_targetFormat is null && !(_target.Length == 1 && _target[0] == '/'))
            {
                w.Put(_target);
            }
            w.Put(path);
            // 4.4 "append-slash": after the path (and query, unless dropped), when the location does not end with one.
            if (_appendSlash && !w.EndsWith((byte)'/')) w.Put("/"u8);
        }
        w.Put(_redirectTail);
        return w.Overflow ? -1 : w.Length;
    }

    /// <summary>
    /// The path (and query) of a request target, as HAProxy's redirects use it: an absolute-form target loses its
    /// scheme and authority, and `*` or an empty path is "/".
    /// </summary>
    internal static ReadOnlySpan<byte> PathOf(ReadOnlySpan<byte> target)
    {
        int scheme = target.IndexOf("://"u8);
        if (scheme > 0 && target[0] != '/')
        {
            var rest = target[(scheme + 3)..];
            int slash = rest.IndexOfAny((byte)'/', (byte)'?');
            target = slash < 0 ? default : rest[slash..];
        }
        if (target.IsEmpty || target[0] != '/') return "/"u8;
        return target;
    }

    private ref struct SpanWriter(Span<byte> dest)
    {
        private readonly Span<byte> _dest = dest;
        public int Length;
        public bool Overflow;

        public readonly bool EndsWith(byte b) => Length > 0 && _dest[Length - 1] == b;

        public void PutNumber(int value)
        {
            if (Overflow || !value.TryFormat(_dest[Length..], out int n, default, System.Globalization.CultureInfo.InvariantCulture)) { Overflow = true; return; }
            Length += n;
        }

        public void Put(scoped ReadOnlySpan<byte> bytes)
        {
            if (Overflow || !bytes.TryCopyTo(_dest[Length..])) { Overflow = true; return; }
            Length += bytes.Length;
        }

        /// <summary>A log-format value rendered in place; false when it does not fit or holds CR, LF or NUL.</summary>
        public bool PutFormat(Logging.CompiledLogFormat format, Samples.SampleContext samples)
        {
            if (Overflow) return false;
            int n = format.Render(samples, null, _dest[Length..]);
            if (n < 0 || _dest.Slice(Length, n).IndexOfAny(HttpChars.InvalidValue) >= 0) return false;
            Length += n;
            return true;
        }
    }

    /// <summary>The reason phrase HAProxy sends with a status it generates.</summary>
    internal static string Reason(int status) => status switch
    {
        200 => "OK", 201 => "Created", 202 => "Accepted", 204 => "No Content", 301 => "Moved Permanently", 302 => "Found",
        303 => "See Other", 304 => "Not Modified", 307 => "Temporary Redirect", 308 => "Permanent Redirect",
        400 => "Bad Request", 401 => "Unauthorized", 403 => "Forbidden", 404 => "Not Found", 405 => "Method Not Allowed",
        407 => "Proxy Authentication Required", 408 => "Request Timeout", 410 => "Gone", 413 => "Payload Too Large", 418 => "I'm a teapot",
        421 => "Misdirected Request", 422 => "Unprocessable Content", 425 => "Too Early", 429 => "Too Many Requests",
        500 => "Internal Server Error", 501 => "Not Implemented", 502 => "Bad Gateway", 503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => status < 300 ? "OK" : status < 400 ? "Redirection" : status < 500 ? "Client Error" : "Server Error",
    };
}
