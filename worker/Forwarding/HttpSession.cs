using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Shared.Config;
using Proxy.Worker.Compression;
using Proxy.Worker.Http;
using Proxy.Worker.Io;
using Proxy.Worker.Runtime;
using Proxy.Worker.Stats;
using Proxy.Worker.Tls;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// One `mode http` client connection (HTTP/1.0 and 1.1): requests are parsed strictly (a malformed one is answered
/// 400 and never forwarded), routed (`use_backend`, then `default_backend`), balanced per request, and sent with the
/// hop-by-hop fields removed and the header rules applied; bodies are streamed as they arrive; responses go back in
/// request order (pipelining), the connection kept alive on both sides as `option http-keep-alive` /
/// `http-server-close` / `httpclose` say, and an accepted `Upgrade` becomes a tunnel under `timeout tunnel`.
/// Timeouts are enforced from outside by the engine's timer (<see cref="CheckTimeouts"/>), which only closes or
/// shuts down sockets; the session then answers 408 / 504 itself.
/// </summary>
internal sealed partial class HttpSession : ProxySession
{
    private const int PhaseIdle = 0, PhaseRequestHead = 1, PhaseConnecting = 2, PhaseExchange = 3, PhaseTunnel = 4,
        PhaseClosing = 5, PhaseClosed = 6, PhaseTarpit = 7;
    private const long LingerMs = 1000;   // how long a closing connection may still drain what the client sends

    // :: What lives as long as the client connection. A request's own state is in _tx (HttpTransaction), with its
    // heads (RequestHead, ResponseHead): rented from HttpTransactionPool for each request and given back when it has
    // ended, so _tx is null while the session waits idle between requests; the session's own code reads the heads only
    // while it holds one, and the timer, `show sess` and Abort read `Transaction`, which may be null.
    // Set again for each connection of a pooled session (HttpSessionPool, Reuse), as the constructor sets them.
    private ProxyEngine _engine;
    private FrontendRuntime _fe;
    private readonly BufferedSocket _client;
    private HttpTransaction _tx = null!;
    private readonly ServerConnector _connector;   // the session's, lent to each request's transaction
    private int _maxHeaders;                       // tune.http.maxhdr, for the heads of rented transactions
    private byte[] _out = [];                // composed heads (tune.bufsize plus room for added fields), rented per request
    private int _outSize;
    private AddedLines? _addedLines;         // the header lines the proxy adds (HttpSession.AddedHeaders.cs), made at first use
    private int _requests;

    private readonly HttpServerConnection _server;   // the request's server connection, or the idle one kept for the next

    private int _phase;
    private long _phaseStart;
    // Client I/O in progress: `timeout client` applies only then, counted from the start of the wait or the last
    // byte moved, whichever is later (the server side's timers are the transaction's).
    private int _clientBusy;
    private long _clientWaitSince;
    private int _clientTimedOut, _aborted;
    // What other threads record about the current request lives here, never on the transaction, which may serve
    // another session's request by the time they write (HttpTransactionPool); both are reset with each request.
    private int _cause;                      // termination state (8.5): cause | phase << 16, first wins; 0: normal end
    private int _serverTimedOut;             // the timer closed the server side (`timeout server`)
    // The request body broke its framing after the head went out: the server side was cut (see RelayRequestBodyAsync).
    private int _requestRejected;
    // The last request said it was the client's last, was read whole and answered: the connection closes without the
    // lingering wait for the client's FIN (see RunAsync). Set after each exchange, true only when the session then
    // ends, so no request starts with it set (Clear resets it for a pooled session's next connection).
    private bool _clientSaidLast;
    private long _tarpitMs;                  // `timeout tarpit` of the request being tarpitted
    private int _tarpitExpired;              // set by the timer when it ends the tarpit

    public HttpSession(ProxyEngine engine, FrontendRuntime fe, Socket client) : base(client)
    {
        _connector = new ServerConnector(this);
        _server = new HttpServerConnection(engine.BufferSize);
        _client = new BufferedSocket(client, engine.BufferSize);
        Bind(engine, fe);
    }

    /// <summary>What the constructor and <see cref="Reuse"/> both set from the engine and the frontend.</summary>
    [MemberNotNull(nameof(_engine), nameof(_fe))]
    private void Bind(ProxyEngine engine, FrontendRuntime fe)
    {
        _engine = engine;
        _fe = fe;
        int size = engine.BufferSize;
        _maxHeaders = engine.Config.Global.MaxHeaders > 0 ? engine.Config.Global.MaxHeaders : HttpHead.DefaultMaxHeaders;
        _outSize = size + 4096;
    }

    internal override FrontendRuntime Frontend => _fe;

    /// <summary>Runs the whole connection; never throws. Gives the session's place in the engine back at the end.</summary>
    private async Task RunAsync()
    {
        var fe = _fe;
        SetPhase(PhaseIdle);
        _client.LastActivity = LoopClock.Milliseconds;
        _engine.RegisterSession(this);
        // :: The client's address (an `accept-proxy` listener's PROXY header first, before any request byte is read);
        // a failed header closes only this connection, which never became a session.
        bool accepted = await AcceptClientAsync(_engine).ConfigureAwait(false);
        // TLS records travel through the worker's loop too (BufferedSocket.TlsTransport.cs), unless a PROXY header was
        // read through .NET's engine first.
        if (accepted && Listener?.Tls is not null && !ClientOnDotNetEngine) _client.UseIoLoop();
        if (!accepted || !await AcceptTlsAsync(_client.OnIoLoop ? _client.TlsTransport : null).ConfigureAwait(false))
        {
            Abort();
            _engine.UnregisterSession(this);
            _client.Dispose();
            _server.Dispose();
            Retire();
            return;
        }
        if (Tls is { } tls) _client.UseTls(tls);
        else if (!ClientOnDotNetEngine) _client.UseIoLoop();   // plain: the worker's own epoll loop (worker/Io)
        SetPhase(PhaseIdle);
        _client.LastActivity = LoopClock.Milliseconds;
        fe.Counters.OpenSession();
        bool failed = false;
        try
        {
            Samples.Client = ClientEndPoint;
            Samples.Local = FrontendEndPoint;
            Samples.Backends = _engine.Backends;
            Samples.ConfigureCaptures(fe.Config);
            bool first = true;
            while (true)
            {
                // Waiting for a request (the first, or the next on a keep-alive connection): the wait happens here, in
                // the session's own frame, so an idle session holds this state machine and one socket operation, not
                // the request's, the head read's and the receive's as well (perf/README.md, "Memory per idle session").
                if (first)
                {
                    first = false;
                    // The first request keeps its transaction while it waits: it was started at the connection's
                    // start, which its log line and `timeout http-request` count from.
                    BeginRequest();
                    // It is usually queued already: read it without waiting (BufferedSocket.FirstRead.cs).
                    int n = _client.TryReceiveQueued();
                    if (n > 0)
                    {
                        ProxyCounters.Add(ref fe.Counters.bin, n);
                        _tx.BytesIn += n;
                    }
                    if (_client.CanWaitIdle) _client.EndIdleWait(await _client.WaitIdleAsync().ConfigureAwait(false));
                }
                else
                {
                    // Between requests the transaction and its heads go back to the pool while the client is silent
                    // (`timeout http-keep-alive`), and a reset one comes back when its next bytes (or its close) arrive.
                    if (_client.CanWaitIdle)
                    {
                        SetPhase(PhaseIdle);
                        ReturnTransaction();
                        _client.EndIdleWait(await _client.WaitIdleAsync().ConfigureAwait(false));
                    }
                    BeginRequest();
                }
                if (!await HandleOneRequestAsync().ConfigureAwait(false)) break;
            }
            // The session's idle server connection goes back to its server's pool before the sockets close.
            if (_server.Idle && Volatile.Read(ref _aborted) == 0) _server.ReleaseIdle();
            // A client that said its request was the last sends nothing more (RFC 9112 9.6): the close (Abort, below)
            // sends the FIN at once, after the answer the kernel still holds, as HAProxy closes (shutdown and close,
            // no read). Otherwise the client may still be sending (an early answer, a close it did not ask for), and
            // the lingering close reads what comes until its FIN: a close with unread bytes queued sends a reset,
            // which drops what of the answer the kernel has not sent yet. So do bytes the client sent anyway (a CRLF
            // after a body, a TLS close_notify): one FIONREAD looks for them.
            if (!_clientSaidLast || _client.HasUnreadBytes()) await LingerCloseAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failed = true;
            _engine.Log.Error(e, "http session on frontend {0} failed unexpectedly", fe.Config.Name);
        }
        finally
        {
            Abort();
            SetPhase(PhaseClosed);
            Transaction?.End();
            fe.Counters.CloseSession();
            if (Tls is not null) TlsCounters.Closed(fe);
            _engine.UnregisterSession(this);
            // Every operation has completed: the buffers can go back.
            _server.Dispose();
            _client.Dispose();
            ReleaseRequestBuffers();
            // After a failure an operation of the request might still hold the transaction: it is left to the GC,
            // and so is the session.
            if (Transaction is not null && !failed) ReturnTransaction();
            if (!failed) Retire();
        }
    }

    /// <summary>One request and its response; true when the client connection may carry another one.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<bool> HandleOneRequestAsync()
    {
        var fe = _fe;
        // :: Step 1: the request head (timeout http-keep-alive while idle, then timeout http-request).
        var head = await ReadRequestHeadAsync().ConfigureAwait(false);
        if (head == HeadResult.Closed)
        {
            // A request the client abandoned half-sent is logged (CR); a connection closed between requests is not.
            if (_tx.Cause != 0) WriteLog();
            return false;
        }
        if (head != HeadResult.Complete)
        {
            // `option http-ignore-probes` (4.2): a browser's pre-connection that sent nothing closes silently.
            if (!_tx.RequestSeen && fe.Config.IgnoreProbes) return false;
            // No request to read: the log line's expressions see none (a new transaction, no head).
            Samples.BeginTransaction();
            Samples.Request = null;
            int status = head == HeadResult.TimedOut ? 408 : HttpParseErrors.StatusCode(RequestHead.Error, HttpMessageKind.Request);
            ProxyCounters.Increment(ref fe.Counters.ereq);
            SetLogCause(head == HeadResult.TimedOut ? 'c' : 'P', 'R');   // 8.5: cR request timeout, PR bad request
            if (head == HeadResult.Invalid)
                Volatile.Write(ref fe.LastRequestError, ErrorSnapshot.Capture(RequestHead, _client.Data, ClientEndPoint, null, null));   // `show errors`
            if (head == HeadResult.TimedOut || head == HeadResult.Invalid) await SendErrorAsync(status).ConfigureAwait(false);
            // `option dontlognull`: a connection that sent nothing before `timeout http-request` is not logged.
            if (_tx.RequestSeen || !fe.Config.DontLogNull) WriteLog();
            return false;
        }
        _requests++;
        ProxyCounters.Increment(ref fe.Counters.reqTot);
        // :: Step 1b: chunked body bytes that came with the head are checked before anything is forwarded, so a
        // malformed body already in hand (smuggling attempts arrive whole) is a 400 and the server sees nothing.
        if (RequestHead.BodyFraming == HttpBodyFraming.Chunked && _client.Buffered > 0 && !BufferedChunksAreValid())
        {
            ProxyCounters.Increment(ref fe.Counters.ereq);
            SetLogCause('P', 'R');
            await SendErrorAsync(400).ConfigureAwait(false);
            WriteLog();
            return false;
        }
        // The request's sample context: its head, the variables of a new transaction (Proxy.Worker.Samples).
        var facts = Samples;
        facts.BeginTransaction();
        facts.Request = RequestHead;
        facts.Backend = fe.Backend;
        facts.ShowBody(_client.DataMemory, RequestHead);   // `req.body*`: what came with the head, until the body is relayed
        facts.CapturesIfAny?.CaptureRequest(RequestHead);
        // `unique-id-format` (4.2): the request's id, rendered once, before any rule can read it.
        if (fe.UniqueIdFormat is { } uniqueId) facts.SetUniqueIdLength(uniqueId.Render(facts, null, facts.UniqueIdBuffer));

        // :: Step 1b': `tcp-request content` (4.2): in mode http, run again with each request, before `http-request`.
        if (fe.TcpContent is { } content && RejectedByContentRules(content, null)) return false;
        // :: Step 1b'': `monitor-uri` (4.2): answered before any http-request rule, neither forwarded nor logged.
        if (fe.Http.IsMonitorRequest(RequestHead.Target))
        {
            await SendErrorAsync(fe.Http.MonitorStatus(facts)).ConfigureAwait(false);
            return false;
        }
        // :: Step 1b''': `option http-buffer-request` (HttpSession.BufferRequest.cs): the body, before the rules see it.
        if (fe.Config.Http.BufferRequest)
        {
            if (!await BufferRequestBodyAsync().ConfigureAwait(false)) return false;
            facts.ShowBody(_client.DataMemory, RequestHead);
        }
        // :: Step 1c: the frontend's `http-request deny|return|redirect`: the first that applies answers, nothing is forwarded.
        if (CompiledRequestAction.Run(fe.Http.RequestActions, facts, out int feAllowedAt) is { } feAction)
        {
            await AnswerLocallyAsync(feAction).ConfigureAwait(false);
            return false;
        }
        // :: Step 1d: the frontend's `stats uri` (HAProxy checks it after the proxy's http-request rules): HttpSession.Stats.cs.
        if (fe.StatsPage is { } feStats && feStats.Matches(RequestHead.Target))
        {
            await ServeStatsAsync(feStats, feStats.Admin is { } feAdmin && feAdmin.Evaluate(facts)).ConfigureAwait(false);
            return false;
        }

        // :: Step 2: the backend: first matching `use_backend` rule, else `default_backend` (4.2 "use_backend").
        var be = fe.ChooseBackend(facts, resetScratch: false);
        facts.Backend = be;
        if (be is null)
        {
            SetLogCause('S', 'C');   // no backend: HAProxy's 503 without a server
            await SendErrorAsync(503).ConfigureAwait(false);
            WriteLog();
            return false;
        }
        _tx.EnterBackend(be);
        // A `listen` section is one proxy: its rules ran above, as the frontend's.
        bool listen = be.IsSectionOf(fe);
        // A backend's `option http-buffer-request` waits once it is chosen, before its rules (HAProxy's stream_set_backend).
        if (!listen && be.Config.Http.BufferRequest && !fe.Config.Http.BufferRequest)
        {
            if (!await BufferRequestBodyAsync().ConfigureAwait(false)) return false;
            facts.ShowBody(_client.DataMemory, RequestHead);
        }
        // The backend's own `tcp-request content` rules (4.2), once the request is assigned to it, before its http-request rules.
        if (!listen && be.TcpContent is { } beContent && RejectedByContentRules(beContent, be)) return false;
        int beAllowedAt = -1;
        if (!listen && CompiledRequestAction.Run(be.Http.RequestActions, facts, out beAllowedAt) is { } beAction)
        {
            await AnswerLocallyAsync(beAction).ConfigureAwait(false);
            return false;
        }
        if (be.StatsPage is { } beStats && beStats.Matches(RequestHead.Target))
        {
            await ServeStatsAsync(beStats, beStats.Admin is { } beAdmin && beAdmin.Evaluate(facts)).ConfigureAwait(false);
            return false;
        }
        // `capture cookie` (4.2): read once the request rules passed, as HAProxy's http_process_request does.
        facts.CapturesIfAny?.CaptureRequestCookie(RequestHead);
        // :: Step 2b: persistence (worker/Persistence): force/ignore-persist, the cookie, use-server.
        _tx.Persistence.Begin(be.Persistence, facts, RequestHead);
        // `stick match` / `stick on` (4.2) when neither the cookie nor `use-server` chose (HAProxy's process_sticking_rules).
        if (be.StickRules is { } stick && _tx.Persistence.Assigned is null)
            _tx.Persistence.AssignSticky(stick.Match(facts, _tx.Persistence.Forced));

        // :: Step 3: connection modes. The stronger option of frontend and backend wins (httpclose > server-close
        // > keep-alive); a request asking to close, an HTTP/1.0 one without keep-alive, or a draining worker closes.
        var mode = (HttpConnectionMode)Math.Max((int)fe.Http.ConnectionMode, (int)be.Http.ConnectionMode);
        bool upgrade = RequestHead.HasUpgrade && (RequestHead.ConnectionOptions & HttpConnectionOptions.Upgrade) != 0;
        bool clientKeepAlive = RequestHead.IsKeepAlive && mode != HttpConnectionMode.Close && !_engine.IsStopping;
        bool serverClose = mode != HttpConnectionMode.KeepAlive;

        // :: Step 4: the head for the server: hop-by-hop fields removed (RFC 9110 7.6.1), forwardfor, header rules.
        if (_out.Length == 0) _out = ThreadArrayPool<byte>.Rent(_outSize);
        var flags = upgrade ? HttpHeadWriteFlags.KeepUpgrade : HttpHeadWriteFlags.None;
        if (serverClose) flags |= HttpHeadWriteFlags.ConnectionClose;
        else if (RequestHead.Version == Http1Version.Http10) flags |= HttpHeadWriteFlags.ConnectionKeepAlive;
        if (_continueSent) flags |= HttpHeadWriteFlags.DropExpectContinue;   // answered here (BufferRequestBodyAsync)
        // Compression (4.2 "compression"): the algorithm is chosen on the request, as `compression offload` then
        // keeps Accept-Encoding from the server.
        _tx.Compression = CompressionNegotiation.SelectAlgorithm(RequestHead, fe.Http.Compression, be.Http.Compression);
        if (_tx.Compression is not null && CompressionNegotiation.Offloads(fe.Http.Compression, be.Http.Compression))
            flags |= HttpHeadWriteFlags.DropAcceptEncoding;
        // An `http-request allow` also ends the header rules written after it (4.2: the rules run in file order).
        ulong feMask = HttpProxyRuntime.Evaluate(fe.Http.RequestRules, facts) & fe.Http.RequestRulesBefore(feAllowedAt);
        ulong beMask = listen ? 0 : HttpProxyRuntime.Evaluate(be.Http.RequestRules, facts) & be.Http.RequestRulesBefore(beAllowedAt);
        int headLength = Http1HeadWriter.Write(RequestHead, _out, flags, ExtraRequestLines(fe, be),
            fe.Http.RequestRules, feMask, be.Http.RequestRules, beMask, facts, _tx.Persistence.RequestRewrite);
        if (headLength < 0)
        {
            SetLogCause('P', 'R');
            await SendErrorAsync(500).ConfigureAwait(false);   // a rewrite that does not fit (HAProxy: 500)
            WriteLog();
            _tx.End();
            return false;
        }

        // :: Step 5: a server connection, the head sent, then body and response both ways at once.
        facts.HideBody();   // the relay consumes the buffer from here
        var outcome = await ExchangeAsync(be, headLength, serverClose, clientKeepAlive, upgrade).ConfigureAwait(false);
        _clientSaidLast = !outcome && RequestHead.AnnouncesClose && _tx.RequestBodyFramed && _client.Buffered == 0
            && Volatile.Read(ref _aborted) == 0;
        WriteLog();   // before the counters drop, so the line's connection counts include this request (as HAProxy's)
        Samples.Tracker?.CountBytes(_tx.BytesIn, _tx.Bytes, Environment.TickCount64);   // bytes_in|out of tracked entries
        _tx.CountTimes();
        _tx.End();
        // Between requests the session holds no buffer: the next head is parsed into freshly rented ones.
        ReleaseRequestBuffers();
        return outcome;
    }

    private void ReleaseRequestBuffers()
    {
        if (Transaction is { } tx)
        {
            tx.Request.ReleaseBuffer();
            tx.Response.ReleaseBuffer();
        }
        byte[] o = _out;
        _out = [];
        if (o.Length > 0) ThreadArrayPool<byte>.Return(o);
        Samples.ReleaseBuffers();
        Samples.Tracker?.EndRequest();   // `http-request track-sc` lasts the request, as HAProxy's stream
    }

    /// <summary>Runs a throw-away copy of the body framer over the buffered bytes: false when they break chunk framing.</summary>
    private bool BufferedChunksAreValid()
    {
        var probe = default(HttpBodyFramer);
        probe.Reset(RequestHead);
        var data = _client.Data;
        while (true)
        {
            var st = probe.Process(data, false, out long count);
            if (st == HttpBodyStatus.Error) return false;
            if (st == HttpBodyStatus.Complete || count == 0) return true;
            data = data.Slice(count);
        }
    }

    private enum HeadResult { Complete, Closed, Invalid, TimedOut }

    /// <summary>
    /// The session's transaction, or null between requests; what other threads (the engine's timer, `show sess`, an
    /// abort) read. One they read just before the session gave it back may already serve another session's request:
    /// they never write to it (causes go to the session), and check what they read with <see cref="StillHolds"/>.
    /// </summary>
    private HttpTransaction? Transaction => Volatile.Read(ref _tx);

    /// <summary>The current request's head and its response's: the transaction's (valid while the session holds one).</summary>
    private HttpHead RequestHead => _tx.Request;
    private HttpHead ResponseHead => _tx.Response;

    /// <summary>
    /// Whether <paramref name="tx"/>, read from <see cref="Transaction"/> by another thread with its
    /// <see cref="HttpTransaction.Lease"/> read next, is still this session's under that lease: only then is what
    /// that thread read from it in between this session's request, not another session's (HttpTransactionPool).
    /// </summary>
    private bool StillHolds(HttpTransaction tx, int lease) =>
        ReferenceEquals(Transaction, tx) && Volatile.Read(ref tx.Lease) == lease;

    /// <summary>Starts waiting for the next request: a transaction rented if the session has none, its head and state reset, the phase whose timeout applies.</summary>
    private void BeginRequest()
    {
        if (Transaction is null)
        {
            var tx = HttpTransactionPool.Rent(this, _fe, _connector, _engine.BufferSize, _maxHeaders);
            Volatile.Write(ref _tx, tx);
        }
        RequestHead.Reset(HttpMessageKind.Request);
        _tx.Reset();
        Volatile.Write(ref _cause, 0);
        Volatile.Write(ref _serverTimedOut, 0);
        _continueSent = false;
        // Idle between requests: timeout http-keep-alive until the first byte; the first request: timeout http-request.
        SetPhase(_client.Buffered == 0 && _requests > 0 ? PhaseIdle : PhaseRequestHead);
    }

    /// <summary>Reads and parses the next request head from the client buffer (pipelined bytes first), after <see cref="BeginRequest"/>.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<HeadResult> ReadRequestHeadAsync()
    {
        bool started = false;
        while (true)
        {
            if (_client.Buffered > 0)
            {
                if (!started)
                {
                    started = true;
                    _tx.MarkStart();
                    if (Volatile.Read(ref _phase) == PhaseIdle) SetPhase(PhaseRequestHead);
                }
                var data = _client.Data;
                var st = Http1RequestParser.Parse(RequestHead, data, out var consumed, out _);
                _client.ConsumeTo(data, consumed);
                if (st == HttpParseStatus.Complete)
                {
                    _tx.HeadMs = LoopClock.Milliseconds;
                    return HeadResult.Complete;
                }
                if (st == HttpParseStatus.Error) return HeadResult.Invalid;
            }
            int n = await _client.ReceiveAsync().ConfigureAwait(false);
            if (CountReceived(n)) continue;
            if (Volatile.Read(ref _clientTimedOut) != 0)
            {
                // An idle keep-alive connection just closes; a first or partial request gets 408 (4.2 "timeout http-request").
                return started || _requests == 0 ? HeadResult.TimedOut : HeadResult.Closed;
            }
            if (started && n == 0) ProxyCounters.Increment(ref _fe.Counters.cliAbrt);
            if (started) SetLogCause('C', 'R');   // 8.5: CR, the client closed in the middle of its request
            return HeadResult.Closed;
        }
    }

    /// <summary>Records why the current request ends (8.5): the first cause only, what follows an abort is its consequence.</summary>
    internal void SetLogCause(char cause, char phase) => Interlocked.CompareExchange(ref _cause, cause | (phase << 16), 0);

    /// <summary>The current request's termination state so far, cause | phase &lt;&lt; 16 (0: none); its log line reads it.</summary>
    internal int CauseWord => Volatile.Read(ref _cause);

    /// <summary>
    /// Gives the ended request's transaction and heads back to the pool (their buffers already released), so the idle
    /// session holds none; the sample context forgets the heads it pointed at.
    /// </summary>
    private void ReturnTransaction()
    {
        var tx = _tx;
        Volatile.Write(ref _tx, null!);
        Samples.Request = null;
        Samples.Response = null;
        HttpTransactionPool.Return(tx);
    }

    private void WriteLog() => _tx.WriteLog(RequestHead, Samples.Client, _engine.ActiveConnections);   // set-src's address when it ran

    private void SetPhase(int phase)
    {
        Volatile.Write(ref _phaseStart, LoopClock.Milliseconds);
        Volatile.Write(ref _phase, phase);
    }

    /// <summary>Closes both sides now; pending operations complete with errors and every loop ends. Idempotent.</summary>
    internal override void Abort()
    {
        Interlocked.Exchange(ref _aborted, 1);
        _connector.Abort();
        _client.Close();
        _server.Connection?.Close();
    }

    internal override bool IsAborted => Volatile.Read(ref _aborted) != 0;
}
