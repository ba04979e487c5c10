using System.Buffers;
using Proxy.Worker.Http;
using Proxy.Worker.Runtime;

namespace Proxy.Worker.Forwarding;

// `http-after-response` (doc/configuration.txt 4.2): the last rewrite of every response head leaving the proxy, the
// server's (after the http-response rules) and the proxy's own answers (deny, return, redirect, errors). The head
// already written is parsed again into a head of the session's own and written once more with these rules, which
// costs a proxy with such rules a second pass per response, and one without them nothing.
internal sealed partial class HttpSession : ProxySession
{
    private HttpHead? _afterHead;   // the head the after-response rules rewrite; created on first use, its buffer rented per use

    /// <summary>Whether <paramref name="fe"/> or <paramref name="be"/> has `http-after-response` rules.</summary>
    private static bool HasAfterResponse(FrontendRuntime fe, BackendRuntime? be) => fe.Http.HasAfterResponse || be?.Http.HasAfterResponse == true;

    /// <summary>
    /// Rewrites the response head at the start of <paramref name="head"/> with the backend's `http-after-response`
    /// rules, then the frontend's (a `listen` section's once), into <paramref name="destination"/> (which may be the
    /// memory <paramref name="head"/> is in: it is parsed out first). Returns the new head's length; -1 when a rewrite
    /// failed or does not fit; -2 when <paramref name="head"/> is no response head to rewrite (an errorfile that is
    /// not one: sent as it is). <paramref name="headLength"/>: the head's length in <paramref name="head"/>.
    /// </summary>
    private int RewriteAfterResponse(FrontendRuntime fe, BackendRuntime? be, ReadOnlyMemory<byte> head, Span<byte> destination,
        HttpHeadWriteFlags flags, out int headLength)
    {
        // The head was written by the proxy, not received: tune.bufsize and tune.http.maxhdr bound what a server may
        // send, and a head grown past them by `http-response add-header` or compression is still a valid answer. So
        // the head that parses it again is as large as this head (a line per LF at most), grown when one is larger.
        int lines = head.Span.Count((byte)'\n');
        var parsed = _afterHead;
        if (parsed is null || parsed.MaxHeadSize < head.Length || parsed.MaxHeaders < lines)
            _afterHead = parsed = new HttpHead(Math.Max(head.Length, HttpHead.DefaultMaxHeadSize), Math.Max(lines, HttpHead.DefaultMaxHeaders));
        parsed.Reset(HttpMessageKind.Response);
        headLength = 0;
        var facts = Samples;
        var received = facts.Response;
        try
        {
            if (Http1ResponseParser.Parse(parsed, new ReadOnlySequence<byte>(head), out var consumed, out _) != HttpParseStatus.Complete) return -2;
            headLength = (int)new ReadOnlySequence<byte>(head).Slice(0, consumed).Length;
            facts.Response = parsed;   // `status`, `res.hdr` read the response these rules rewrite
            if (be is not null && be.IsSectionOf(fe)) be = null;   // a `listen`: one proxy, its rules once
            ulong beKept = ~0UL;
            be?.Http.RunAfterResponseActions(facts, out beKept);
            fe.Http.RunAfterResponseActions(facts, out ulong feKept);
            var beRules = be?.Http.AfterResponseRules ?? [];
            ulong beMask = HttpProxyRuntime.Evaluate(beRules, facts) & beKept;
            ulong feMask = HttpProxyRuntime.Evaluate(fe.Http.AfterResponseRules, facts) & feKept;
            // The Connection line and Upgrade as the first pass wrote them; the compression changes are made already.
            flags &= HttpHeadWriteFlags.KeepUpgrade | HttpHeadWriteFlags.ConnectionClose | HttpHeadWriteFlags.ConnectionKeepAlive;
            return Http1HeadWriter.Write(parsed, destination, flags, default, beRules, beMask, fe.Http.AfterResponseRules, feMask, facts);
        }
        finally
        {
            facts.Response = received;   // also when a rule threw: the log and the next rules read the received head
            parsed.ReleaseBuffer();
        }
    }
}
