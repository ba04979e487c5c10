using System.Runtime.CompilerServices;
using Proxy.Worker.Http;
using Proxy.Worker.Stats;
using Proxy.Worker.Io;

namespace Proxy.Worker.Forwarding;

// `option http-buffer-request` (doc/configuration.txt 4.2): the request body is waited for before the proxy's rules
// run, so that they (and `req.body*`) see it whole. It stays where it arrived, in the client's receive buffer, and is
// relayed from there as any body afterwards.
internal sealed partial class HttpSession
{
    // HAProxy keeps tune.maxrewrite (1024, at most half the buffer) free in a request buffer for header rewrites, and
    // the head lives in that buffer too: a body waits until it would fill the rest (channel_htx_full). Measured with
    // haproxy 2.6.12 and tune.bufsize 16384: `req.body_len` 15213 of a 30000-byte body behind a 71-byte head.
    private const int RewriteReserve = 1024;

    /// <summary>Sent by the proxy itself when it waits for a body the client holds back until it gets one.</summary>
    private static readonly byte[] ContinueBytes = "HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray();

    /// <summary>Set when the proxy answered `Expect: 100-continue` itself: the server never sees the Expect field.</summary>
    private bool _continueSent;

    /// <summary>
    /// Waits until the whole body is buffered, or the buffer is full (tune.bufsize less the rewrite reserve and the
    /// head), as HAProxy's http_wait_for_request_body. True to go on; false when the request ended here, answered and
    /// logged: `timeout http-request` (it counts from the request's first byte, body included: 408, cR), the client
    /// closing or resetting (CR, no answer) or a broken chunked body (400, PR). `Expect: 100-continue` is answered
    /// here (HAProxy's http_handle_expect_hdr), since a client waiting for it would send nothing.
    /// </summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<bool> BufferRequestBodyAsync()
    {
        if (RequestHead.BodyFraming is not (HttpBodyFraming.ContentLength or HttpBodyFraming.Chunked) || RequestHead.Method == Http1Method.Connect
            || (RequestHead.BodyFraming == HttpBodyFraming.ContentLength && RequestHead.ContentLength == 0))
            return true;
        if (RequestHead.ExpectsContinue && RequestHead.Version == Http1Version.Http11)
        {
            // Before looking at what came: HAProxy answers it whenever it waits for a body (http_wait_for_msg_body).
            _continueSent = true;
            if (!await SendToClientAsync(ContinueBytes).ConfigureAwait(false)) return ClientLeftBuffering(reset: true);
        }
        int limit = Math.Max(0, _engine.BufferSize - Math.Min(RewriteReserve, _engine.BufferSize / 2) - RequestHead.Length);
        var framer = default(HttpBodyFramer);
        framer.Reset(RequestHead);
        long examined = 0;
        while (true)
        {
            var data = _client.Data;
            var st = framer.Process(data.Slice(examined), _client.ReceivedEof, out long count);
            examined += count;
            if (st == HttpBodyStatus.Complete || _client.Buffered >= limit) break;
            if (st == HttpBodyStatus.Error && framer.Error != HttpParseError.Truncated)
            {
                ProxyCounters.Increment(ref _fe.Counters.ereq);
                SetLogCause('P', 'R');   // a broken chunk never reaches a server, as with Step 1b
                await SendErrorAsync(400).ConfigureAwait(false);
                WriteLog();
                return false;
            }
            if (st == HttpBodyStatus.Error) return ClientLeftBuffering(reset: false);   // FIN in the middle of the body
            int n = await _client.ReceiveAsync().ConfigureAwait(false);
            if (CountReceived(n)) continue;
            if (Volatile.Read(ref _clientTimedOut) != 0)
            {
                // Measured with haproxy 2.6.12: 408, "cR--", Tr -1, the frontend as backend.
                _tx.BodyAbandoned = true;
                ProxyCounters.Increment(ref _fe.Counters.ereq);
                SetLogCause('c', 'R');
                await SendErrorAsync(408).ConfigureAwait(false);
                WriteLog();
                return false;
            }
            return ClientLeftBuffering(reset: n < 0);
        }
        _tx.HeadMs = LoopClock.Milliseconds;   // the log's TR counts the body it waited for, as HAProxy's
        return true;
    }

    /// <summary>The client closed or reset before its body was whole: closed without an answer, logged CR (measured: "CR--", -1).</summary>
    private bool ClientLeftBuffering(bool reset)
    {
        if (!reset) ProxyCounters.Increment(ref _fe.Counters.cliAbrt);
        SetLogCause('C', 'R');
        WriteLog();
        return false;
    }

    /// <summary>Counts <paramref name="n"/> bytes just received from the client (bin, the log's %U); false when none came.</summary>
    private bool CountReceived(int n)
    {
        if (n <= 0) return false;
        ProxyCounters.Add(ref _fe.Counters.bin, n);
        _tx.BytesIn += n;
        return true;
    }
}
