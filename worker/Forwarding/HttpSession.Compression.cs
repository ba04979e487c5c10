using System.Runtime.CompilerServices;
using Proxy.Shared.Config;
using Proxy.Worker.Compression;
using Proxy.Worker.Http;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Forwarding;

// HTTP compression on the response path (doc/configuration.txt 4.2 "compression"): the decision on the response
// head and the compressed body. The rules are in worker/Compression/CompressionNegotiation, the codec in ResponseCompressor.
internal sealed partial class HttpSession
{
    /// <summary>
    /// Compressed output is sent once this much is waiting (or at a flush, or at the end): a 150 KB page compresses to
    /// about 55 KB, two sends. With 16 KB sends and the head sent alone, perf/compression-bench.sh measured 6.4-6.8 CPU
    /// ms per MB compressed; with these, 5.7-6.0.
    /// </summary>
    private const int CompressedSendThreshold = 32 * 1024;

    private ResponseCompressor? _compressor;        // created at the session's first compressed response, reused
    private ChunkedPayloadReader _chunkPayload;

    // The fields a compressed response adds at the end of its head: chunked framing (the length is no longer known),
    // its coding (none for identity, RFC 9110 8.4.1) and, unless the server's Vary covers it, Vary: Accept-Encoding.
    private static readonly byte[][] s_compressedHeadLines =
    [
        "Transfer-Encoding: chunked\r\n"u8.ToArray(),
        "Transfer-Encoding: chunked\r\nVary: Accept-Encoding\r\n"u8.ToArray(),
        "Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n"u8.ToArray(),
        "Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n"u8.ToArray(),
        "Transfer-Encoding: chunked\r\nContent-Encoding: deflate\r\n"u8.ToArray(),
        "Transfer-Encoding: chunked\r\nContent-Encoding: deflate\r\nVary: Accept-Encoding\r\n"u8.ToArray(),
    ];

    /// <summary>
    /// On the final response head: the fields to add when this response is compressed, else null. A response the
    /// rules allow but a global limit refuses passes as it is, its body counted in comp_byp (<paramref name="bypassed"/>).
    /// A true answer holds a place in the limits until the body ends (<see cref="CompressBodyAsync"/>).
    /// </summary>
    private byte[]? CompressionHead(BackendRuntime be, out bool bypassed)
    {
        bypassed = false;
        if (_tx.Compression is not { } algo) return null;
        var fe = _fe.Http.Compression;
        if (CompressionNegotiation.Check(RequestHead, ResponseHead, fe, be.Http.Compression) != CompressionVerdict.Compress) return null;
        if (!_engine.Compression.TryAcquire(Environment.TickCount64))
        {
            bypassed = true;
            return null;
        }
        int coding = algo switch { CompressionAlgorithm.Identity => 0, CompressionAlgorithm.Gzip => 2, _ => 4 };
        return s_compressedHeadLines[coding + (CompressionNegotiation.VaryCovers(ResponseHead) ? 0 : 1)];
    }

    /// <summary>
    /// Sends the head (<paramref name="headLength"/> bytes of <see cref="_out"/>), then the body compressed as it
    /// arrives, in chunks: what was read is flushed to the client before waiting for the server again, so a slow body
    /// still streams.
    /// </summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<ResponseOutcome> CompressBodyAsync(BufferedSocket conn, BackendRuntime be, ServerRuntime srv,
        int headLength, bool keepClient)
    {
        var limits = _engine.Compression;
        var c = _compressor ??= new ResponseCompressor();
        var fe = _fe;
        bool chunked = ResponseHead.BodyFraming == HttpBodyFraming.Chunked;
        try
        {
            // The head goes out with the first chunk (one send, one segment), from the room kept in front of it, or alone
            // before the first wait for the server.
            c.Begin(_tx.Compression!.Value, limits.Level, prefixRoom: headLength);
            int headToSend = headLength;
            _chunkPayload.Reset();
            _tx.ResponseBody.Reset(ResponseHead);
            // Whether the server has likely sent all it had for now: then what was read is flushed before the next
            // wait. A buffer the head read nearly filled suggests more is already waiting.
            bool drained = conn.Buffered + 8192 < _engine.BufferSize;
            long unflushed = 0;
            while (true)
            {
                var st = _tx.ResponseBody.Process(conn.Data, conn.ReceivedEof, out long count);
                if (st == HttpBodyStatus.Error) return ResponseBodyFailed(be, srv);
                if (count > 0)
                {
                    long fed = Feed(c, conn.DataMemory.Span[..(int)count], chunked);
                    conn.Consume(count);
                    unflushed += fed;
                    ProxyCounters.Add(ref fe.Counters.compIn, fed);
                    ProxyCounters.Add(ref be.Counters.compIn, fed);
                    limits.In.Add(Environment.TickCount64, fed);
                }
                bool complete = st == HttpBodyStatus.Complete;
                if (complete) c.Finish();
                else if (unflushed > 0 && drained) { c.Flush(); unflushed = 0; }
                if (complete || c.Pending >= CompressedSendThreshold || (unflushed == 0 && c.Pending > 0))
                {
                    int compressed = c.Pending;
                    ProxyCounters.Add(ref fe.Counters.compOut, compressed);
                    ProxyCounters.Add(ref be.Counters.compOut, compressed);
                    limits.Out.Add(Environment.TickCount64, compressed);
                    var chunk = c.TakeChunk(last: complete, _out.AsSpan(0, headToSend));
                    headToSend = 0;
                    if (!await SendToClientAsync(chunk).ConfigureAwait(false)) return ResponseOutcome.Close;
                }
                if (complete)
                {
                    ProxyCounters.Increment(ref fe.Counters.compRsp);
                    ProxyCounters.Increment(ref be.Counters.compRsp);
                    return keepClient ? ResponseOutcome.KeepAlive : ResponseOutcome.Close;
                }
                if (headToSend > 0)
                {
                    // Nothing compressed to go with the head yet (zlib holds what it was fed until a flush): the head
                    // goes alone before waiting, so a server that sends its headers then computes slowly still
                    // answers the client at once.
                    if (!await SendToClientAsync(_out.AsMemory(0, headToSend)).ConfigureAwait(false)) return ResponseOutcome.Close;
                    headToSend = 0;
                }
                EnterWait(ref _tx.ServerBusy, ref _tx.ServerWaitSince);
                int n = await conn.ReceiveAsync().ConfigureAwait(false);
                Interlocked.Decrement(ref _tx.ServerBusy);
                if (n > 0)
                {
                    _tx.CountOut(be, srv, n);
                    drained = n < _engine.BufferSize;   // a full read suggests more is already waiting
                }
                else if (n < 0 || Volatile.Read(ref _aborted) != 0)
                {
                    SetLogCause(Volatile.Read(ref _serverTimedOut) != 0 ? 's' : 'S', 'D');   // 8.5: sD / SD during the body
                    ProxyCounters.Increment(ref be.Counters.srvAbrt);
                    ProxyCounters.Increment(ref srv.Counters.srvAbrt);
                    Abort();
                    return ResponseOutcome.Close;
                }
            }
        }
        finally
        {
            c.End();
            limits.Release();
        }
    }

    /// <summary>Feeds the body bytes in <paramref name="body"/> (chunk framing skipped); returns the data bytes fed.</summary>
    private long Feed(ResponseCompressor c, ReadOnlySpan<byte> body, bool chunked)
    {
        if (!chunked)
        {
            c.Write(body);
            return body.Length;
        }
        long fed = 0;
        int offset = 0;
        while (_chunkPayload.Next(body, ref offset, out var data))
        {
            c.Write(data);
            fed += data.Length;
        }
        return fed;
    }

    /// <summary>comp_byp: body bytes of a response a compression limit let through as it was.</summary>
    private void CountBypassed(BackendRuntime be, long bytes)
    {
        ProxyCounters.Add(ref _fe.Counters.compByp, bytes);
        ProxyCounters.Add(ref be.Counters.compByp, bytes);
    }
}
