using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Worker.Http;
using Proxy.Worker.Runtime;

namespace Proxy.Worker.Samples;

/// <summary>
/// What expressions read on one connection (the request and response heads, both addresses, the proxies, the
/// variables) and the scratch space converters write into, as HAProxy's trash chunks: one per thread, shared by
/// every session that thread runs and reused by every expression, so evaluating allocates nothing. An expression's
/// result lives until the next one is evaluated (<see cref="ResetScratch"/>): its user copies it out first.
/// </summary>
/// <remarks>
/// Why per thread and not per session (issue 18): a session held its scratch (rented) from its rules to its log
/// line, across the server's answer, so 50 requests in flight held 50 and the shared pool, which keeps far fewer,
/// fell through to its locked stacks and to new arrays (and the gen0 collections after them). What is written into
/// the scratch is only ever seen through spans (<see cref="Sample"/> is a ref struct), which cannot outlive an
/// await: a session gives the thread up only after its spans are gone, so the next session on that thread may
/// overwrite the space, as HAProxy's threads share their trash chunks between streams. A session that resumes on
/// another thread (.NET's engine, PROXY_IO_LOOP=0) uses that thread's buffers from then on.
/// </remarks>
internal sealed class SampleContext
{
    /// <summary>tune.bufsize's default, the size of HAProxy's trash chunks.</summary>
    public const int DefaultScratchBytes = 16384;

    [ThreadStatic] private static byte[]? t_scratch;
    [ThreadStatic] private static byte[]? t_value;
    [ThreadStatic] private static char[]? t_chars;
    private int _used;
    private BackendRuntime? _backend;

    public HttpHead? Request { get; set; }
    public HttpHead? Response { get; set; }
    /// <summary>
    /// The client's address as fetches (`src`, `src_port`), `%ci`, stick-table keys, the log line and `option
    /// forwardfor` see it: the connection's, or from then on the one `http-request set-src` gave (HAProxy rewrites the
    /// session's source: the later requests of a kept-alive connection keep it).
    /// </summary>
    public IPEndPoint? Client
    {
        get => _source ?? _client;
        set
        {
            _client = value;
            _source = null;
        }
    }

    private IPEndPoint? _client;
    private IPEndPoint? _source;
    private IPEndPoint? _lastSource;   // the last set-src address of this session, reused while it repeats

    /// <summary>
    /// `http-request set-src` (4.2): <paramref name="address"/> (4 or 16 bytes) with the connection's port, for the rest
    /// of the connection (until another set-src). A client sending the same address on each request (the usual X-Forwarded-For) costs one object
    /// per session, not one per request.
    /// </summary>
    public void SetSource(ReadOnlySpan<byte> address)
    {
        int port = _client?.Port ?? 0;
        Span<byte> last = stackalloc byte[16];
        if (_lastSource is not { } previous || previous.Port != port || !previous.Address.TryWriteBytes(last, out int n)
            || !last[..n].SequenceEqual(address))
        {
            previous = new IPEndPoint(new IPAddress(address), port);
            _lastSource = previous;
        }
        _source = previous;
    }
    public IPEndPoint? Local { get; set; }

    /// <summary>
    /// `set-dst` / `set-dst-port` (4.2): the session's destination once a rule rewrote it (null: never), which <see
    /// cref="Local"/> then holds too; the session connects a port-less server and writes `send-proxy` with it.
    /// </summary>
    public IPEndPoint? Destination { get; private set; }

    /// <summary>`set-dst` (4.2): <paramref name="address"/> (4 or 16 bytes), the destination port kept ("when the address family allows it").</summary>
    public void SetDestination(ReadOnlySpan<byte> address)
    {
        var current = Local;
        Span<byte> bytes = stackalloc byte[16];
        if (current is not null && current.Address.TryWriteBytes(bytes, out int n) && bytes[..n].SequenceEqual(address)) return;
        Destination = Local = new IPEndPoint(new IPAddress(address), current?.Port ?? 0);
    }

    /// <summary>
    /// Drops a `tcp-request connection set-dst|set-dst-port`: an `accept-proxy` header read after those rules brings
    /// the destination that counts (HAProxy's conn_recv_proxy overwrites the connection's dst the rules had set).
    /// </summary>
    public void ForgetDestination() => Destination = null;

    /// <summary>`set-dst-port` (4.2): the destination port, the address kept.</summary>
    public void SetDestinationPort(int port)
    {
        var current = Local;
        if (current is not null && current.Port == port) return;
        Destination = Local = new IPEndPoint(current?.Address ?? IPAddress.Any, port);
    }
    /// <summary>The client connection's TLS (`bind ... ssl`); null on a plain connection (the `ssl_fc*` fetches).</summary>
    public System.Net.Security.SslStream? Tls
    {
        get => _tls;
        set
        {
            _tls = value;
            _tlsPeer = null;
            TlsResumed = false;
        }
    }

    /// <summary>Whether the client's TLS handshake resumed a session (`ssl_fc_is_resumed`).</summary>
    public bool TlsResumed { get; set; }

    /// <summary>The client certificate's fields (`ssl_c_*`), rendered on first use; null without a client certificate.</summary>
    public TlsPeerCertificate? TlsPeer =>
        _tlsPeer ??= _tls?.RemoteCertificate is { } c ? new TlsPeerCertificate(c as X509Certificate2 ?? new X509Certificate2(c)) : null;

    private System.Net.Security.SslStream? _tls;
    private TlsPeerCertificate? _tlsPeer;
    public byte[] FrontendName { get; set; } = [];
    public byte[] BackendName { get; private set; } = [];
    /// <summary>Every backend of the engine, for `nbsrv(NAME)`.</summary>
    public IReadOnlyList<BackendRuntime> Backends { get; set; } = [];
    /// <summary>The `sess.` variables (the connection's) and the `txn.`/`req.`/`res.` ones (the request's).</summary>
    // Created when first used: most sessions use none, and an idle one then holds neither (perf/README.md).
    public VariableStore SessionVariables => _sessionVariables ??= new();
    public VariableStore TransactionVariables => _transactionVariables ??= new();
    private VariableStore? _sessionVariables, _transactionVariables;
    /// <summary>The stick counters this connection tracks (track-sc); null until the first track.</summary>
    public Tables.StickTracker? Tracker { get; private set; }

    /// <summary>The tracker, made at the first track-sc of the connection.</summary>
    public Tables.StickTracker EnsureTracker() => Tracker ??= new Tables.StickTracker();

    /// <summary>
    /// The request body the `req.body*` fetches see (7.3.6), shown by the session while the request's rules run. Made
    /// at the first fetch that reads it: until then a shown body is only remembered (<see cref="ShowBody"/>), so a
    /// session whose rules never read a body holds no view (issue 15, memory per idle session).
    /// </summary>
    public RequestBodyView Body
    {
        get
        {
            var body = _body ??= new RequestBodyView();
            if (_shownRequest is { } request)
            {
                body.Show(_shownBody, request);
                _shownRequest = null;
                _shownBody = default;
            }
            return body;
        }
    }

    private RequestBodyView? _body;
    private ReadOnlyMemory<byte> _shownBody;   // shown before the view was made: given to it when first asked for
    private HttpHead? _shownRequest;

    /// <summary>Shows the body of <paramref name="request"/> to the fetches: <see cref="RequestBodyView.Show"/>, when one asks.</summary>
    public void ShowBody(ReadOnlyMemory<byte> buffered, HttpHead request)
    {
        if (_body is { } body)
        {
            body.Show(buffered, request);
            return;
        }
        _shownBody = buffered;
        _shownRequest = request;
    }

    /// <summary>Hides the body (<see cref="RequestBodyView.Hide"/>): the relay consumes the buffer from here.</summary>
    public void HideBody()
    {
        _shownRequest = null;
        _shownBody = default;
        _body?.Hide();
    }

    /// <summary>`capture request|response header`: what the log prints as %hr and %hs (made when first asked for).</summary>
    public HeaderCaptures Captures => _captures ??= new HeaderCaptures();

    /// <summary>The captures when this session has any; null for a frontend that declares none, whose sessions then hold no capture object.</summary>
    public HeaderCaptures? CapturesIfAny => _captures;
    private HeaderCaptures? _captures;

    /// <summary>
    /// Sets the frontend's capture slots (once per session). A frontend without any (`capture`, `declare capture`,
    /// `capture cookie`) makes none: one object fewer per idle session (perf/README.md, "Memory per idle session").
    /// </summary>
    public void ConfigureCaptures(FrontendConfig frontend)
    {
        if (_captures is null && frontend.RequestCaptures.Count == 0 && frontend.ResponseCaptures.Count == 0 && frontend.CookieCapture is null) return;
        Captures.Configure(frontend);
    }

    private byte[] _uniqueId = [];   // allocated when a frontend with `unique-id-format` first renders one
    private int _uniqueIdLength;

    /// <summary>The request's unique id (`unique-id-format`, %ID, the `unique-id` fetch); empty when none.</summary>
    public ReadOnlySpan<byte> UniqueId => _uniqueId.AsSpan(0, _uniqueIdLength);

    /// <summary>A buffer to render the unique id into, then <see cref="SetUniqueIdLength"/>.</summary>
    public Span<byte> UniqueIdBuffer => _uniqueId.Length > 0 ? _uniqueId : (_uniqueId = new byte[128]);

    public void SetUniqueIdLength(int length) => _uniqueIdLength = Math.Max(0, length);

    /// <summary>The backend chosen for the request (null before `use_backend`); its name is encoded once per change.</summary>
    public BackendRuntime? Backend
    {
        get => _backend;
        set
        {
            if (ReferenceEquals(value, _backend)) return;
            _backend = value;
            BackendName = value is null ? [] : value.NameBytes;
        }
    }

    private byte[] _payload = [];
    private int _payloadLength;

    /// <summary>
    /// The bytes `tcp-request inspect-delay` buffered before a backend was chosen (7.3.5 `req.payload`, `req.ssl_sni`...);
    /// empty where nothing inspects (mode http, or no inspect-delay).
    /// </summary>
    public ReadOnlySpan<byte> Payload => _payload.AsSpan(0, _payloadLength);

    /// <summary>True when no more bytes will be buffered (the buffer is full, the client closed, or the delay passed).</summary>
    public bool PayloadFinal { get; private set; } = true;

    /// <summary>Set by a payload fetch that needed bytes which may still come: the content rules then wait for them.</summary>
    public bool PayloadIncomplete { get; set; }

    /// <summary>What the content rules see now: <paramref name="length"/> bytes of <paramref name="buffer"/>.</summary>
    public void SetPayload(byte[] buffer, int length, bool final)
    {
        _payload = buffer;
        _payloadLength = length;
        PayloadFinal = final;
    }

    /// <summary>
    /// `set-log-level` (4.2): the syslog severity of this request's log line, 0..7, HttpRequestAction.SilentLogLevel
    /// for none; -1: the default (info).
    /// </summary>
    public int LogLevel = -1;

    /// <summary>
    /// A new connection (a pooled http session starting again, HttpSessionPool): everything the last one left is
    /// forgotten, each field back to the constructor's value; only the buffers whose content is always written before
    /// it is read (the unique id's, the rewritten request line's, the de-chunked body's) are kept.
    /// </summary>
    public void BeginSession()
    {
        _used = 0;
        _backend = null;
        BackendName = [];
        Request = null;
        Response = null;
        _client = null;
        _source = null;
        _lastSource = null;
        Local = null;
        Destination = null;
        _tls = null;
        _tlsPeer = null;
        TlsResumed = false;
        FrontendName = [];
        Backends = [];
        _sessionVariables = null;
        _transactionVariables = null;
        Tracker = null;   // its session ended with the last connection (ProxyEngine.UnregisterSession)
        HideBody();
        _body?.Reset();   // kept once made (a pooled session serves connection after connection): no allocation per connection
        _captures = null;
        _uniqueIdLength = 0;
        _payload = [];
        _payloadLength = 0;
        PayloadFinal = true;
        PayloadIncomplete = false;
        LogLevel = -1;
        _requestLine?.Clear();   // kept once made, as the body view
        ResponseStatus = 0;
        _responseStatusLine = [];
    }

    /// <summary>A new request on the connection: its variables are forgotten.</summary>
    public void BeginTransaction()
    {
        LogLevel = -1;
        Tracker?.BeginRequest(Environment.TickCount64);
        _transactionVariables?.Clear();
        _captures?.Clear();
        _requestLine?.Clear();
        Response = null;
        ResponseStatus = 0;
        _responseStatusLine = [];
        _uniqueIdLength = 0;
        _used = 0;
        HideBody();
    }

    public Span<byte> ScratchFree => Scratch.AsSpan(_used);

    /// <summary>The thread's scratch space, made the first time the thread evaluates an expression.</summary>
    private static byte[] Scratch => t_scratch ??= new byte[DefaultScratchBytes];

    /// <summary>
    /// A second buffer, for a rule's rendered value (set-path, set-var-fmt): rendering uses the scratch space for
    /// its expressions, so the value cannot live there. The thread's, as the scratch space.
    /// </summary>
    public Span<byte> ValueBuffer => t_value ??= new byte[DefaultScratchBytes];

    /// <summary>`http-request set-method|set-path|set-query|set-uri`: the request line they compose (made at the first rewrite).</summary>
    public RequestLineRewrite RequestLine => _requestLine ??= new RequestLineRewrite();

    /// <summary>The request line the rules composed; empty when none rewrote it.</summary>
    public ReadOnlySpan<byte> RewrittenRequestLine => _requestLine is { } r ? r.Line : default;

    private RequestLineRewrite? _requestLine;

    /// <summary>`http-response set-status`: the status line to send (empty: the server's) and its code (0: none).</summary>
    public ReadOnlySpan<byte> ResponseStatusLine => _responseStatusLine;
    public int ResponseStatus { get; private set; }
    private byte[] _responseStatusLine = [];

    public void SetResponseStatus(int status, byte[] line)
    {
        ResponseStatus = status;
        _responseStatusLine = line;
    }

    /// <summary>The request's target as the rules left it (a rewrite is what later fetches see, as in HAProxy).</summary>
    public ReadOnlySpan<byte> RequestTarget
    {
        get
        {
            var line = RewrittenRequestLine;
            if (line.IsEmpty) return Request is { } r ? r.Target : default;
            int sp1 = line.IndexOf((byte)' '), sp2 = line.LastIndexOf((byte)' ');
            return line[(sp1 + 1)..sp2];
        }
    }

    /// <summary>The request's method as the rules left it.</summary>
    public ReadOnlySpan<byte> RequestMethod
    {
        get
        {
            var line = RewrittenRequestLine;
            if (line.IsEmpty) return Request is { } r ? r.MethodBytes : default;
            return line[..line.IndexOf((byte)' ')];
        }
    }

    /// <summary>The request is over: its scratch content is no longer needed, and the body view lets its buffer go.</summary>
    public void ReleaseBuffers()
    {
        _used = 0;
        HideBody();   // the client's buffer and the head go back to their pools: nothing may read them through the view
        _body?.Release();
    }

    /// <summary>Keeps the next <paramref name="length"/> bytes of <see cref="ScratchFree"/> and returns them.</summary>
    public ReadOnlySpan<byte> Commit(int length)
    {
        var kept = Scratch.AsSpan(_used, length);
        _used += length;
        return kept;
    }

    public void ResetScratch() => _used = 0;

    /// <summary>The bytes as chars (Latin-1, one per byte) for a regex, in the context's own char buffer.</summary>
    public ReadOnlySpan<char> AsChars(ReadOnlySpan<byte> bytes)
    {
        var chars = t_chars ??= new char[DefaultScratchBytes];
        int n = Math.Min(bytes.Length, chars.Length);
        return chars.AsSpan(0, Encoding.Latin1.GetChars(bytes[..n], chars));
    }

    public bool TryGetVariable(VariableRef v, out Sample sample) => v.Scope switch
    {
        VariableScope.Process => ProcessVariables.TryGet(v.Id, out sample),
        VariableScope.Session => SessionVariables.TryGet(v.Id, out sample),
        _ => TransactionVariables.TryGet(v.Id, out sample),
    };

    public void SetVariable(VariableRef v, scoped in Sample value)
    {
        switch (v.Scope)
        {
            case VariableScope.Process: ProcessVariables.Set(v.Id, value); break;
            case VariableScope.Session: SessionVariables.Set(v.Id, value); break;
            default: TransactionVariables.Set(v.Id, value); break;
        }
    }

    /// <summary>
    /// `set-var(NAME,COND...)` (2.6, VarSetConditions.cs): sets the variable when every condition holds, as HAProxy's
    /// var_set decides; true when it was set (the `set-var()` converter passes its input on only then).
    /// </summary>
    public bool SetVariableIf(VariableRef v, scoped in Sample value, VarSetConditions when)
    {
        if (when != VarSetConditions.None)
        {
            bool set = TryGetVariable(v, out var old);
            // proc variables exist from the configuration on; the others while they hold a value (unset-var removes them).
            bool exists = set || v.Scope == VariableScope.Process;
            bool text = value.Type is SampleType.Str or SampleType.Bin;
            if (((when & VarSetConditions.IfExists) != 0 && !exists) || ((when & VarSetConditions.IfNotExists) != 0 && exists)
                || ((when & VarSetConditions.IfSet) != 0 && !set) || ((when & VarSetConditions.IfNotSet) != 0 && set)
                || ((when & VarSetConditions.IfEmpty) != 0 && !(text && value.Bytes.IsEmpty))
                || ((when & VarSetConditions.IfNotEmpty) != 0 && text && value.Bytes.IsEmpty))
                return false;
            if (set && old.Type == SampleType.Int && value.Type == SampleType.Int
                && (((when & VarSetConditions.IfGt) != 0 && old.Int <= value.Int) || ((when & VarSetConditions.IfLt) != 0 && old.Int >= value.Int)))
                return false;
        }
        SetVariable(v, value);
        return true;
    }

    public void UnsetVariable(VariableRef v)
    {
        switch (v.Scope)
        {
            case VariableScope.Process: ProcessVariables.Unset(v.Id); break;
            case VariableScope.Session: SessionVariables.Unset(v.Id); break;
            default: TransactionVariables.Unset(v.Id); break;
        }
    }
}
