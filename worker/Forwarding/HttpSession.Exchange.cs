using System.Runtime.CompilerServices;
using Proxy.Worker.Http;
using Proxy.Worker.Stats;
using Proxy.Worker.Io;

namespace Proxy.Worker.Forwarding;

// One request/response exchange of an HTTP session: head to the server, request body and response streamed at
// once (a server may answer before the body ends, and `Expect: 100-continue` needs the 100 before the body).
internal sealed partial class HttpSession
{
    private enum ResponseOutcome { KeepAlive, Close, Retry }
    private enum BodyResult { Done, ClientError, ServerError, Invalid }

    /// <summary>Sends the composed head (<see cref="_out"/>) and runs the exchange; true when the client connection stays open.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ExchangeAsync(BackendRuntime be, int headLength, bool serverClose, bool clientKeepAlive, bool upgrade)
    {
        var tx = _tx;
        Volatile.Write(ref tx.ServerTimeoutMs, be.ServerTimeoutMs);
        Volatile.Write(ref tx.TunnelTimeoutMs, be.TunnelTimeoutMs > 0 ? be.TunnelTimeoutMs : Math.Max(_fe.HttpClientTimeoutMs, be.ServerTimeoutMs));
        bool hasBody = RequestHead.BodyFraming != HttpBodyFraming.None && !(RequestHead.BodyFraming == HttpBodyFraming.ContentLength && RequestHead.ContentLength == 0);
        Volatile.Write(ref _requestRejected, 0);
        ServerRuntime? fresh = null;
        for (int attempt = 0; ; attempt++)
        {
            _server.Idle = false;
            SetPhase(PhaseConnecting);
            bool? reused = await _server.AcquireAsync(tx, be, fresh, ClientEndPoint, RequestHead, firstRequest: _requests == 1).ConfigureAwait(false);
            if (reused is null || _server.Connection is not { } conn)
            {
                if (Volatile.Read(ref _aborted) != 0)
                {
                    SetLogCause('C', 'C');   // the client left while we connected
                    return false;
                }
                await SendErrorAsync(503).ConfigureAwait(false);
                return false;
            }
            var srv = tx.Server!;
            Interlocked.Exchange(ref _serverTimedOut, 0);
            SetPhase(PhaseExchange);
            // A reused connection may have been closed by the server meanwhile: a request without body is retried
            // once on a new connection when nothing came back (HAProxy's `retry-on conn-failure empty-response`).
            bool retryable = reused.Value && !hasBody && attempt == 0;
            EnterWait(ref _tx.ServerBusy, ref _tx.ServerWaitSince);
            bool headSent = await conn.SendAsync(_out.AsMemory(0, headLength)).ConfigureAwait(false);
            Interlocked.Decrement(ref _tx.ServerBusy);
            if (!headSent)
            {
                if (retryable && Volatile.Read(ref _aborted) == 0) { fresh = srv; continue; }
                SetLogCause(Volatile.Read(ref _serverTimedOut) != 0 ? 's' : 'S', 'H');
                return await FailResponseAsync(be, srv, Volatile.Read(ref _serverTimedOut) != 0 ? 504 : 502).ConfigureAwait(false);
            }
            HttpTransaction.CountIn(be, srv, headLength);

            tx.RequestBodyFramed = !hasBody;
            tx.RequestBody.Reset(RequestHead);
            ValueTask<BodyResult> body = hasBody ? RelayRequestBodyAsync(conn, be, srv) : new(BodyResult.Done);
            ResponseOutcome outcome;
            try
            {
                outcome = await ForwardResponseAsync(conn, be, srv, clientKeepAlive, retryable, upgrade).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // An unexpected failure of the response side: the body relay may still be receiving into the client's
                // buffer and sending from it. It is ended and awaited before the session's failure path gives the
                // buffers back (RunAsync), or a late receive would write into an array already lent elsewhere.
                Abort();
                await AwaitQuietly(body).ConfigureAwait(false);
                throw;
            }
            if (!tx.RequestBodyFramed)
            {
                // The response ended (or failed) before the request body: the rest of it would be read as the next
                // request, so the client connection cannot continue (HAProxy closes too). A rejected body was answered
                // (400) already: the session's lingering close lets that answer arrive instead of a reset.
                if (Volatile.Read(ref _requestRejected) == 0) Abort();
                await body.ConfigureAwait(false);
                return false;
            }
            var bodyResult = await body.ConfigureAwait(false);
            if (outcome == ResponseOutcome.Retry)
            {
                fresh = srv;
                continue;
            }
            bool serverReusable = !serverClose && !upgrade && bodyResult == BodyResult.Done && ResponseHead.IsKeepAlive
                && tx.ResponseBody.IsComplete && conn.Buffered == 0 && Volatile.Read(ref _aborted) == 0
                && outcome != ResponseOutcome.Retry && ResponseHead.BodyFraming != HttpBodyFraming.Tunnel;
            if (serverReusable)
            {
                _server.Idle = true;
                conn.ReleaseBufferIfEmpty();   // idle until the next request: measured 16 KB per idle session otherwise
            }
            else _server.Drop();
            return outcome == ResponseOutcome.KeepAlive && bodyResult == BodyResult.Done;
        }
    }

    /// <summary>Waits for <paramref name="body"/> after an abort; its own failure is the abort's consequence, already reported.</summary>
    private static async ValueTask AwaitQuietly(ValueTask<BodyResult> body)
    {
        try
        {
            await body.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The failure that aborted the exchange is the one logged (RunAsync).
        }
    }

    /// <summary>Streams the request body to the server as it arrives, chunk framing included (HttpBodyFramer).</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<BodyResult> RelayRequestBodyAsync(BufferedSocket server, BackendRuntime be, ServerRuntime srv)
    {
        while (true)
        {
            var st = _tx.RequestBody.Process(_client.Data, _client.ReceivedEof, out long count);
            if (st == HttpBodyStatus.Complete) _tx.RequestBodyFramed = true;
            if (count > 0)   // never part of a broken message: the framer reports 0 bytes with an Error
            {
                HttpTransaction.CountIn(be, srv, count);
                EnterWait(ref _tx.ServerBusy, ref _tx.ServerWaitSince);
                bool sent = await _client.RelayToAsync(server, count).ConfigureAwait(false);
                Interlocked.Decrement(ref _tx.ServerBusy);
                if (!sent) return BodyResult.ServerError;
            }
            if (st == HttpBodyStatus.Complete) return BodyResult.Done;
            if (st == HttpBodyStatus.Error && _tx.RequestBody.Error != HttpParseError.Truncated)
            {
                // The head (and maybe body bytes) went out already, the broken part never does: the server connection is
                // cut so that it never sees a complete message, and the response side answers 400 unless a response
                // has started (HAProxy's http_request_forward_body, return_bad_req: failed_req, PRXCOND, FINST_H
                // before the response, FINST_D after, no error message once a response is under way; measured with
                // haproxy 2.6.12: 400 "PH--" for trailers over tune.http.maxhdr or tune.bufsize after the head went out).
                ProxyCounters.Increment(ref _fe.Counters.ereq);
                SetLogCause('P', _tx.ExchangePhase);
                Volatile.Write(ref _requestRejected, 1);
                _server.Connection?.Close();
                return BodyResult.Invalid;
            }
            if (st == HttpBodyStatus.Error) return ClientLeftBody(be, srv);   // FIN in the middle of the body

            EnterWait(ref _clientBusy, ref _clientWaitSince);
            int n = await _client.ReceiveAsync().ConfigureAwait(false);
            Interlocked.Decrement(ref _clientBusy);
            if (n < 0 || (n == 0 && Volatile.Read(ref _aborted) != 0)) return ClientLeftBody(be, srv);
            if (n > 0)
            {
                ProxyCounters.Add(ref _fe.Counters.bin, n);
                _tx.BytesIn += n;
            }
        }
    }

    /// <summary>
    /// The client closed or reset in the middle of its body: an abort, not a bad request. HAProxy 2.6
    /// (http_request_forward_body, return_cli_abort) counts cli_abrt and logs CD, response or not (measured: "CD--", -1).
    /// </summary>
    private BodyResult ClientLeftBody(BackendRuntime be, ServerRuntime srv)
    {
        SetLogCause('C', 'D');
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            ProxyCounters.Increment(ref _fe.Counters.cliAbrt);
            ProxyCounters.Increment(ref be.Counters.cliAbrt);
            ProxyCounters.Increment(ref srv.Counters.cliAbrt);
        }
        Abort();
        return BodyResult.ClientError;
    }

    /// <summary>
    /// Reads the response head (forwarding 1xx interim ones), answers 502/504 when there is none, then sends the head
    /// with the response rules applied and streams the body, or tunnels after a 101.
    /// </summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<ResponseOutcome> ForwardResponseAsync(BufferedSocket conn, BackendRuntime be, ServerRuntime srv,
        bool clientKeepAlive, bool retryable, bool upgrade)
    {
        var fe = _fe;
        bool anyByte = false;
        while (true)
        {
            ResponseHead.Reset(HttpMessageKind.Response, RequestHead.Method);
            while (true)
            {
                if (conn.Buffered > 0)
                {
                    anyByte = true;
                    var data = conn.Data;
                    var st = Http1ResponseParser.Parse(ResponseHead, data, out var consumed, out _);
                    conn.ConsumeTo(data, consumed);
                    if (st == HttpParseStatus.Complete) break;
                    if (st == HttpParseStatus.Error)
                    {
                        SetLogCause('P', 'H');   // 8.5: PH, invalid response blocked
                        Volatile.Write(ref be.LastResponseError, ErrorSnapshot.Capture(ResponseHead, conn.Data, ClientEndPoint, fe.Config.Name, srv.Name));
                        return await FailResponseCloseAsync(be, srv, 502).ConfigureAwait(false);   // never forward a bad response
                    }
                }
                EnterWait(ref _tx.ServerBusy, ref _tx.ServerWaitSince);
                int n = await conn.ReceiveAsync(expectData: true).ConfigureAwait(false);
                Interlocked.Decrement(ref _tx.ServerBusy);
                if (n > 0)
                {
                    _tx.CountOut(be, srv, n);
                    continue;
                }
                if (Volatile.Read(ref _aborted) != 0) return ResponseOutcome.Close;
                if (Volatile.Read(ref _requestRejected) != 0)
                {
                    _server.Drop();   // cut by RelayRequestBodyAsync: the request broke, not the server
                    await SendErrorAsync(400).ConfigureAwait(false);
                    return ResponseOutcome.Close;
                }
                if (Volatile.Read(ref _serverTimedOut) != 0)
                {
                    SetLogCause('s', 'H');   // 8.5: sH, `timeout server` before the response head
                    return await FailResponseCloseAsync(be, srv, 504).ConfigureAwait(false);
                }
                if (!anyByte && retryable) return ResponseOutcome.Retry;
                SetLogCause('S', 'H');       // SH: the server closed or failed before a whole response head
                ProxyCounters.Increment(ref be.Counters.srvAbrt);
                ProxyCounters.Increment(ref srv.Counters.srvAbrt);
                return await FailResponseCloseAsync(be, srv, 502).ConfigureAwait(false);
            }
            if (!ResponseHead.IsInterim) break;
            // RFC 9110 15.2: 1xx responses are forwarded, then the final one follows; never to an HTTP/1.0 client.
            _tx.CountResponse(be, srv, ResponseHead.StatusCode);
            if (RequestHead.Version == Http1Version.Http10) continue;
            int interim = Http1HeadWriter.Write(ResponseHead, _out, HttpHeadWriteFlags.None, default, [], 0, [], 0);
            if (interim < 0 || !await SendToClientAsync(_out.AsMemory(0, interim)).ConfigureAwait(false)) return ResponseOutcome.Close;
        }

        int status = ResponseHead.StatusCode;
        _tx.ResponseMs = LoopClock.Milliseconds;
        if (ConnectionBoundAuth.Offered(ResponseHead, status)) conn.Private = true;   // before http-response rules, as HAProxy
        bool tunnel = ResponseHead.BodyFraming == HttpBodyFraming.Tunnel;
        if (status == 101 && !upgrade)
        {
            SetLogCause('P', 'H');
            return await FailResponseCloseAsync(be, srv, 502).ConfigureAwait(false);   // no upgrade was asked for
        }

        // :: The body bytes that came with the head are checked before the head goes out: a broken first chunk is
        // answered 502 like a broken head (HAProxy's H1 mux flags the whole message as a parsing error, then
        // http_wait_for_response: return_bad_res, failed_resp, PH). A body cut by the server's close is not a parsing
        // error there: the head goes out and the cut is an abort (SD) below.
        HttpBodyStatus bodyState = HttpBodyStatus.NeedMoreData;
        long bodyCount = 0;
        if (!tunnel)
        {
            _tx.ResponseBody.Reset(ResponseHead);
            bodyState = _tx.ResponseBody.Process(conn.Data, conn.ReceivedEof, out bodyCount);
            if (bodyState == HttpBodyStatus.Error && _tx.ResponseBody.Error != HttpParseError.Truncated)
            {
                SetLogCause('P', 'H');
                return await FailResponseCloseAsync(be, srv, 502).ConfigureAwait(false);
            }
        }

        // :: The client connection stays open unless something asks to close or the body is delimited by the close.
        bool keepClient = clientKeepAlive && !tunnel && !ResponseHead.MustClose && ResponseHead.BodyFraming != HttpBodyFraming.CloseDelimited
            && !_engine.IsStopping;
        var flags = tunnel ? HttpHeadWriteFlags.KeepUpgrade : HttpHeadWriteFlags.None;
        if (!tunnel && !keepClient) flags |= HttpHeadWriteFlags.ConnectionClose;
        else if (keepClient && RequestHead.Version == Http1Version.Http10) flags |= HttpHeadWriteFlags.ConnectionKeepAlive;
        var facts = Samples;
        facts.Response = ResponseHead;
        facts.CapturesIfAny?.CaptureResponse(ResponseHead);
        // `http-response deny|set-status|return|redirect` (4.2): the backend's, then the frontend's; a deny, return or
        // redirect replaces the response.
        ulong feKept = ~0UL;
        bool listen = be.IsSectionOf(fe);   // one proxy: its rules once
        int denied = be.Http.RunResponseActions(facts, out var answer, out ulong beKept);
        if (denied == 0 && !listen) denied = fe.Http.RunResponseActions(facts, out answer, out feKept);
        if (answer is not null)
        {
            // The server's response goes no further: its connection closes (4.2 "http-response redirect"), and the
            // answer is logged LH as HAProxy's http_reply_message and http_apply_redirect_rule do on a response.
            srv.Counters.CountResponse(status);
            _server.Drop();
            SetLogCause('L', 'H');
            await AnswerLocallyAsync(answer, log: false).ConfigureAwait(false);
            return ResponseOutcome.Close;
        }
        if (denied != 0)
        {
            // dresp (management.txt 9.1 field 11): the frontend's, the backend's and the server's, as HAProxy counts denied_resp.
            ProxyCounters.Increment(ref fe.Counters.dresp);
            ProxyCounters.Increment(ref be.Counters.dresp);
            ProxyCounters.Increment(ref srv.Counters.dresp);
            SetLogCause('P', 'H');
            return await FailResponseCloseAsync(be, srv, denied).ConfigureAwait(false);
        }
        // `capture cookie` (4.2): the server's Set-Cookie, once the response rules passed (http_process_res_common).
        facts.CapturesIfAny?.CaptureResponseCookie(ResponseHead);
        if (facts.ResponseStatus != 0) status = facts.ResponseStatus;
        // An `http-response allow` also ends the header rules written after it (4.2: the rules run in file order).
        ulong beMask = HttpProxyRuntime.Evaluate(be.Http.ResponseRules, facts) & beKept;
        ulong feMask = listen ? 0 : HttpProxyRuntime.Evaluate(fe.Http.ResponseRules, facts) & feKept;
        // :: Compression (HttpSession.Compression.cs): a compressed response gets its own fields and body loop.
        bool compressionBypassed = false;
        byte[]? compressedLines = tunnel ? null : CompressionHead(be, out compressionBypassed);
        if (compressedLines is not null) flags |= HttpHeadWriteFlags.Compress;
        int length = Http1HeadWriter.Write(ResponseHead, _out, flags, compressedLines, be.Http.ResponseRules, beMask, fe.Http.ResponseRules, feMask, facts,
            _tx.Persistence.PrepareResponse(srv, RequestHead, ResponseHead));
        if (length < 0)
        {
            if (compressedLines is not null) _engine.Compression.Release();
            SetLogCause('P', 'H');   // a response rewrite that does not fit
            return await FailResponseCloseAsync(be, srv, 502).ConfigureAwait(false);
        }
        // `http-after-response` (HttpSession.AfterResponse.cs): the last rewrite, after the http-response rules.
        if (HasAfterResponse(fe, be))
        {
            length = RewriteAfterResponse(fe, be, _out.AsMemory(0, length), _out, flags, out _);
            if (length < 0)
            {
                if (compressedLines is not null) _engine.Compression.Release();
                SetLogCause('P', 'H');
                return await FailResponseCloseAsync(be, srv, 502).ConfigureAwait(false);
            }
            if (facts.ResponseStatus != 0) status = facts.ResponseStatus;
        }
        _tx.CountResponse(be, srv, status);
        // `stick on|store-request|store-response` (4.2): the server that answered, stored once its response came
        // (HAProxy's process_store_rules runs on the response).
        if (be.StickRules is { } stick)
        {
            stick.Store(facts, srv, response: false);
            stick.Store(facts, srv, response: true);
        }
        if (status is >= 400 and < 500) Samples.Tracker?.CountError(Environment.TickCount64);   // http_err_cnt (4.2 "stick-table")
        srv.Passive.Report(Health.PassiveHealth.ForStatus(status));   // `observe layer7`: 5xx but 501 and 505 are errors
        _tx.Status = status;
        if (compressedLines is not null) return await CompressBodyAsync(conn, be, srv, length, keepClient).ConfigureAwait(false);
        // The start of the body that came with the head goes out in the same send when it fits: one syscall and one
        // segment per small response instead of two (measured with strace on the keep-alive bench: 3 sends per request
        // before, the client woken twice per response).
        if (!tunnel)
        {
            if (bodyCount > 0 && bodyState != HttpBodyStatus.Error && bodyCount <= _out.Length - length)
            {
                if (compressionBypassed) CountBypassed(be, bodyCount);
                conn.DataMemory.Span[..(int)bodyCount].CopyTo(_out.AsSpan(length));
                conn.Consume(bodyCount);
                length += (int)bodyCount;
                bodyCount = 0;
            }
        }
        if (!await SendToClientAsync(_out.AsMemory(0, length)).ConfigureAwait(false)) return ResponseOutcome.Close;

        if (tunnel)
        {
            await TunnelAsync(conn, be, srv).ConfigureAwait(false);
            return ResponseOutcome.Close;
        }
        bool first = true;
        while (true)
        {
            if (!first) bodyState = _tx.ResponseBody.Process(conn.Data, conn.ReceivedEof, out bodyCount);
            first = false;
            if (bodyCount > 0)
            {
                EnterWait(ref _clientBusy, ref _clientWaitSince);
                bool ok = await conn.RelayToAsync(_client, bodyCount).ConfigureAwait(false);
                Interlocked.Decrement(ref _clientBusy);
                if (!ok) return ClientGone(be, srv);
                _tx.Bytes += bodyCount;
                if (compressionBypassed) CountBypassed(be, bodyCount);
            }
            if (bodyState == HttpBodyStatus.Complete) return keepClient ? ResponseOutcome.KeepAlive : ResponseOutcome.Close;
            if (bodyState == HttpBodyStatus.Error) return ResponseBodyFailed(be, srv);
            EnterWait(ref _tx.ServerBusy, ref _tx.ServerWaitSince);
            int n = await conn.ReceiveAsync(bulk: true).ConfigureAwait(false);
            Interlocked.Decrement(ref _tx.ServerBusy);
            if (n > 0) _tx.CountOut(be, srv, n);
            else if (n < 0 || Volatile.Read(ref _aborted) != 0)
            {
                SetLogCause(Volatile.Read(ref _serverTimedOut) != 0 ? 's' : 'S', 'D');   // 8.5: sD / SD during the body
                if (Volatile.Read(ref _requestRejected) == 0)   // else the proxy cut the server for the client's broken body
                {
                    ProxyCounters.Increment(ref be.Counters.srvAbrt);
                    ProxyCounters.Increment(ref srv.Counters.srvAbrt);
                }
                Abort();
                return ResponseOutcome.Close;
            }
        }
    }

    /// <summary>After a 101 (or 2xx to CONNECT): bytes both ways unchanged until both ends close, under `timeout tunnel`.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder))]
    private async ValueTask TunnelAsync(BufferedSocket server, BackendRuntime be, ServerRuntime srv)
    {
        SetPhase(PhaseTunnel);
        Task up = PumpAsync(_client, server);
        Task down = PumpAsync(server, _client);
        await up.ConfigureAwait(false);
        await down.ConfigureAwait(false);
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> until FIN (relayed as shutdown) or an error (aborts).</summary>
    private async Task PumpAsync(BufferedSocket from, BufferedSocket to)
    {
        while (true)
        {
            int buffered = from.Buffered;
            if (buffered > 0 && !await from.RelayToAsync(to, buffered).ConfigureAwait(false)) { Abort(); return; }
            if (to == _client) _tx.Bytes += buffered;   // one pump writes it: the server-to-client one
            int n = await from.ReceiveAsync(bulk: true).ConfigureAwait(false);
            if (n == 0) { to.ShutdownSend(); return; }
            if (n < 0) { Abort(); return; }
        }
    }

    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendToClientAsync(ReadOnlyMemory<byte> data)
    {
        EnterWait(ref _clientBusy, ref _clientWaitSince);
        bool ok = await _client.SendAsync(data).ConfigureAwait(false);
        Interlocked.Decrement(ref _clientBusy);
        if (ok) _tx.Bytes += data.Length;
        if (!ok && _tx.Backend is { } be && _tx.Server is { } srv) ClientGone(be, srv);
        return ok;
    }

    private ResponseOutcome ClientGone(BackendRuntime be, ServerRuntime srv)
    {
        SetLogCause('C', _tx.ExchangePhase);   // 8.5: CD, the client closed or reset while the response was sent
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            ProxyCounters.Increment(ref _fe.Counters.cliAbrt);
            ProxyCounters.Increment(ref be.Counters.cliAbrt);
            ProxyCounters.Increment(ref srv.Counters.cliAbrt);
        }
        Abort();
        return ResponseOutcome.Close;
    }

    /// <summary>Answers <paramref name="status"/> (502 bad or no response, 504 server timeout) and closes.</summary>
    private async ValueTask<ResponseOutcome> FailResponseCloseAsync(BackendRuntime be, ServerRuntime srv, int status)
    {
        await FailResponseAsync(be, srv, status).ConfigureAwait(false);
        return ResponseOutcome.Close;
    }

    private async ValueTask<bool> FailResponseAsync(BackendRuntime be, ServerRuntime srv, int status)
    {
        ProxyCounters.Increment(ref be.Counters.eresp);
        ProxyCounters.Increment(ref srv.Counters.eresp);
        srv.Counters.CountResponse(status);
        // `observe layer7`: no valid response from the server.
        srv.Passive.Report(status == 504 ? Health.PassiveEvent.HttpReadTimeout : Health.PassiveEvent.HttpInvalidResponse);
        _server.Drop();
        if (Volatile.Read(ref _aborted) == 0) await SendErrorAsync(status).ConfigureAwait(false);
        return false;
    }

    /// <summary>Marks the start of a wait on one side: its inactivity timeout counts from here or its last byte.</summary>
    private static void EnterWait(ref int busy, ref long since)
    {
        Volatile.Write(ref since, LoopClock.Milliseconds);
        Interlocked.Increment(ref busy);
    }

    /// <summary>
    /// The response body failed once its head was out: too late for a 502, the client connection is cut (HAProxy's
    /// http_response_forward_body: return_bad_res, failed_resp, SRVCL, FINST_D: SD). A body cut short by the server's
    /// close is an abort (return_srv_abort), not an invalid response. Shared by the plain and the compressed paths.
    /// </summary>
    private ResponseOutcome ResponseBodyFailed(BackendRuntime be, ServerRuntime srv)
    {
        if (_tx.ResponseBody.Error == HttpParseError.Truncated)
        {
            ProxyCounters.Increment(ref be.Counters.srvAbrt);
            ProxyCounters.Increment(ref srv.Counters.srvAbrt);
        }
        else
        {
            ProxyCounters.Increment(ref be.Counters.eresp);
            ProxyCounters.Increment(ref srv.Counters.eresp);
            srv.Passive.Report(Health.PassiveEvent.HttpInvalidResponse);
        }
        SetLogCause('S', 'D');
        Abort();
        return ResponseOutcome.Close;
    }
}
