using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Shared.Config;
using Proxy.Worker.Compression;
using Proxy.Worker.Http;
using Proxy.Worker.Runtime;
using Proxy.Worker.Stats;
using Proxy.Worker.Tls;

namespace Proxy.Worker.Forwarding;

// The answers the proxy gives itself instead of a server's: rule actions (deny, return, redirect, auth), tarpit,
// errors, and the lingering close after an error.
internal sealed partial class HttpSession : ProxySession
{
    /// <summary>
    /// Runs the frontend's or the backend's (<paramref name="be"/>) `tcp-request content` rules on this request; true
    /// when one rejected it: counted denied (dreq) on the frontend and the backend, logged PR, closed without an
    /// answer, as HAProxy's tcp_inspect_request. The head is whole here, so no rule waits for more bytes.
    /// </summary>
    private bool RejectedByContentRules(TcpContentRuntime rules, BackendRuntime? be)
    {
        int next = 0;
        if (rules.Run(Samples, ref next) != TcpContentVerdict.Reject) return false;
        ProxyCounters.Increment(ref _fe.Counters.dreq);
        if (be is not null) ProxyCounters.Increment(ref be.Counters.dreq);
        SetLogCause('P', 'R');
        WriteLog();
        return true;
    }

    /// <summary>
    /// Answers an `http-request deny|return|redirect` and logs it; the connection closes after it (a body the client
    /// may still send is drained by the linger, never forwarded). Termination states as HAProxy's: PR for deny (and
    /// dreq counted), LR for return and redirect.
    /// </summary>
    /// <param name="log">false for an `http-response return|redirect`, whose exchange logs the request itself</param>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder))]
    private async ValueTask AnswerLocallyAsync(CompiledRequestAction action, bool log = true)
    {
        switch (action.Kind)
        {
            case HttpRequestActionKind.Deny:
                ProxyCounters.Increment(ref _fe.Counters.dreq);
                if (_tx.Backend is { } be) ProxyCounters.Increment(ref be.Counters.dreq);
                SetLogCause('P', 'R');
                await SendErrorAsync(action.Status).ConfigureAwait(false);
                break;
            case HttpRequestActionKind.Tarpit:
                // 4.2 "http-request tarpit": a denied request (dreq, counted at once as HAProxy does), answered with its
                // status once `timeout tarpit` has passed, unless the client left first (CT rather than PT).
                ProxyCounters.Increment(ref _fe.Counters.dreq);
                if (_tx.Backend is { } tarpitBe) ProxyCounters.Increment(ref tarpitBe.Counters.dreq);
                if (await TarpitAsync().ConfigureAwait(false))
                {
                    SetLogCause('P', 'T');
                    await SendErrorAsync(action.Status).ConfigureAwait(false);
                }
                else SetLogCause('C', 'T');
                break;
            case HttpRequestActionKind.SilentDrop:
                // 4.2 "http-request silent-drop": no response, no FIN (SilentDrop.cs); a denied request, logged PR.
                ProxyCounters.Increment(ref _fe.Counters.dreq);
                if (_tx.Backend is { } dropBe) ProxyCounters.Increment(ref dropBe.Counters.dreq);
                SetLogCause('P', 'R');
                Interlocked.Exchange(ref _aborted, 1);   // nothing more is sent nor read: no lingering close
                SilentDrop.Close(_client.Socket);
                break;
            case HttpRequestActionKind.UseService:
                await ServePrometheusAsync().ConfigureAwait(false);   // logs itself (HttpSession.Stats.cs)
                return;
            case HttpRequestActionKind.Return or HttpRequestActionKind.Auth when !action.RendersPerRequest:
                // auth: the 401 with its challenge (4.2 "http-request auth"), prepared with the rule; LR as HAProxy logs it.
                SetLogCause('L', 'R');
                // No payload: the status's page (or its errorfile), as HAProxy's default-errorfiles.
                if (action.Response is { } response) await SendErrorAsync(action.Status, response).ConfigureAwait(false);
                else await SendErrorAsync(action.Status).ConfigureAwait(false);
                break;
            default:
                SetLogCause('L', 'R');
                if (_out.Length == 0) _out = ThreadArrayPool<byte>.Rent(_outSize);
                int length = action.WriteAnswer(RequestHead, _out, Samples);   // a redirect, or a return rendered per request
                if (length < 0) await SendErrorAsync(500).ConfigureAwait(false);   // an answer longer than the buffer
                else await SendErrorAsync(action.Status, _out.AsMemory(0, length)).ConfigureAwait(false);
                break;
        }
        if (log) WriteLog();
    }

    /// <summary>
    /// Holds a tarpitted request for `timeout tarpit` of the proxy whose rule matched (its `timeout connect` when unset,
    /// as HAProxy; neither: no wait), dropping what the client sends meanwhile; the engine's timer ends the wait
    /// (<see cref="CheckTimeouts"/>). True when the time ran out, false when the client closed first.
    /// </summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TarpitAsync()
    {
        var timeouts = _tx.Backend?.Config.Timeouts ?? _fe.Config.Timeouts;
        long ms = Milliseconds.From(timeouts.Tarpit ?? timeouts.Connect);
        if (ms <= 0) return true;
        Volatile.Write(ref _tarpitMs, ms);
        Interlocked.Exchange(ref _tarpitExpired, 0);
        SetPhase(PhaseTarpit);
        while (true)
        {
            _client.Consume(_client.Buffered);
            if (await _client.ReceiveAsync().ConfigureAwait(false) > 0) continue;
            return Volatile.Read(ref _tarpitExpired) != 0;
        }
    }

    /// <summary>Sends a generated response (errorfile or built-in, or <paramref name="message"/>) and counts it; the connection closes after it.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder))]
    private async ValueTask SendErrorAsync(int status, ReadOnlyMemory<byte>? prepared = null)
    {
        var be = _tx.Backend;
        ReadOnlyMemory<byte> message = prepared ?? HttpErrorResponses.Get(status, be?.Http.ErrorFiles, _fe.Http.ErrorFiles);
        byte[]? rewritten = null;
        if (HasAfterResponse(_fe, be) && !message.IsEmpty)
        {
            // `http-after-response` applies to the proxy's own answers too (4.2), unlike http-response.
            rewritten = ThreadArrayPool<byte>.Rent(message.Length + _outSize);
            int before = Samples.ResponseStatus;
            int length = AfterResponseAnswer(be, message, rewritten);
            if (length >= 0)
            {
                message = rewritten.AsMemory(0, length);
                if (Samples.ResponseStatus != before) status = Samples.ResponseStatus;
            }
            else
            {
                status = 500;   // a rewrite that failed: HAProxy's 500 in its place, as it is
                message = HttpErrorResponses.Get(500, be?.Http.ErrorFiles, _fe.Http.ErrorFiles);
            }
        }
        _fe.Counters.CountResponse(status);
        if (be is not null) be.Counters.CountResponse(status);
        if (status is >= 400 and < 500) Samples.Tracker?.CountError(Environment.TickCount64);   // http_err_cnt (4.2 "stick-table")
        ProxyCounters.Add(ref _fe.Counters.bout, message.Length);
        _tx.Status = status;
        _tx.Bytes += message.Length;
        EnterWait(ref _clientBusy, ref _clientWaitSince);
        await _client.SendAsync(message).ConfigureAwait(false);
        Interlocked.Decrement(ref _clientBusy);
        if (rewritten is not null) ThreadArrayPool<byte>.Return(rewritten);
    }

    /// <summary>
    /// A local answer through `http-after-response` into <paramref name="destination"/>: its head rewritten, its body
    /// after; the length, or -1 when a rewrite failed or it does not fit. An answer with no response head (an errorfile
    /// that is not one) is copied as it is.
    /// </summary>
    private int AfterResponseAnswer(Runtime.BackendRuntime? be, ReadOnlyMemory<byte> message, Span<byte> destination)
    {
        int head = RewriteAfterResponse(_fe, be, message, destination, HttpHeadWriteFlags.ConnectionClose, out int headLength);
        if (head == -2)
        {
            message.Span.CopyTo(destination);
            return message.Length;
        }
        var body = message.Span[headLength..];
        if (head < 0 || destination.Length - head < body.Length) return -1;
        body.CopyTo(destination[head..]);
        return head + body.Length;
    }

    /// <summary>
    /// Closes gracefully: FIN first, then reads and drops what the client still sends for up to a second, so that a
    /// response is not destroyed by a reset caused by unread request bytes (RFC 9112 9.6).
    /// </summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder))]
    private async ValueTask LingerCloseAsync()
    {
        if (Volatile.Read(ref _aborted) != 0) return;
        _client.ShutdownSend();
        SetPhase(PhaseClosing);
        while (true)
        {
            _client.Consume(_client.Buffered);
            // The client's FIN is due at once: read straight into a buffer rather than first waiting without one
            // (strace: one recvfrom per `Connection: close` request fewer; the buffer is held for this short wait only).
            if (await _client.ReceiveAsync(expectData: true).ConfigureAwait(false) <= 0) return;
        }
    }
}
