using System.Buffers;

namespace Proxy.Worker.Http;

/// <summary>
/// Delimits a message body as it streams through (RFC 9112 6-7). The forwarder feeds it the buffered
/// bytes that follow the head; it answers how many of them belong to the body. Those bytes are forwarded
/// unchanged (chunked framing included) and consumed: the framer keeps its position in a small state, so
/// a byte is examined once and the body is never held whole. Chunked bodies are checked as they pass,
/// chunk sizes, extensions and trailers included.
/// <para>
/// Two rules keep invalid bytes from ever reaching the peer: on Error no byte of the call is reported as body
/// (HAProxy truncates its channel the same way), and framing lines are held back (left in the buffer,
/// <see cref="HeldBytes"/>) until they are whole: a chunk-size line until its LF, the last-chunk line with the trailer
/// section until the final CRLF. So trailers over `tune.bufsize` or `tune.http.maxhdr` fail before any of them is
/// forwarded: HAProxy's H1 mux parses the trailer block whole in its buffer (h1_parse_msg_tlrs) and only then emits
/// the last chunk and the trailers.
/// </para>
/// <code>
/// status = framer.Process(buffer, result.IsCompleted, out long n);
/// send buffer.Slice(0, n); reader.AdvanceTo(buffer.GetPosition(n));   // Complete: what follows is the next message
/// // NeedMoreData: bytes after n are held trailer bytes: keep them buffered, call again with them first
/// </code>
/// </summary>
public struct HttpBodyFramer
{
    private const int MaxChunkSizeDigits = 15;     // < 2^60: no overflow, no endless leading zeros
    private const int MaxChunkLineLength = 4096;   // size line with its extensions

    private HttpBodyFraming _framing;
    private ChunkState _state;
    private long _remaining;
    private int _digits;
    private int _lineLength;
    private int _maxLineLength;
    private int _trailerLength;
    private int _maxTrailerLength;
    private int _trailerLines;
    private int _maxTrailerLines;
    private int _held;

    public HttpBodyFraming Framing => _framing;
    public HttpParseError Error { get; private set; }
    public bool IsComplete => _state == ChunkState.Done;
    /// <summary>Content-Length bytes still expected, or the rest of the current chunk.</summary>
    public long Remaining => _remaining;
    /// <summary>Trailer bytes examined but not yet reported as body: they stay buffered until the section ends.</summary>
    public int HeldBytes => _held;

    /// <summary>Starts the body of <paramref name="head"/>; its trailers get the head's limits.</summary>
    public void Reset(HttpHead head) => Reset(head.BodyFraming, head.ContentLength, head.MaxHeadSize, head.MaxHeaders);

    /// <summary>
    /// Starts a body. The trailer section must stay under <paramref name="maxTrailerLength"/> bytes (tune.bufsize:
    /// held back whole, it must fit in a receive buffer of that size with room for one more byte) and hold at most
    /// <paramref name="maxTrailerLines"/> fields (tune.http.maxhdr).
    /// </summary>
    public void Reset(HttpBodyFraming framing, long contentLength = 0, int maxTrailerLength = HttpHead.DefaultMaxHeadSize,
        int maxTrailerLines = HttpHead.DefaultMaxHeaders)
    {
        _framing = framing;
        _remaining = framing == HttpBodyFraming.ContentLength ? contentLength : 0;
        _digits = _lineLength = _trailerLength = _trailerLines = _held = 0;
        _maxTrailerLength = maxTrailerLength;
        _maxTrailerLines = maxTrailerLines;
        _maxLineLength = Math.Min(MaxChunkLineLength, maxTrailerLength - 1);   // a held size line fits in the buffer too
        Error = HttpParseError.None;
        _state = framing switch
        {
            HttpBodyFraming.None => ChunkState.Done,
            HttpBodyFraming.ContentLength when contentLength <= 0 => ChunkState.Done,
            HttpBodyFraming.Chunked => ChunkState.SizeStart,
            _ => ChunkState.Body,
        };
    }

    /// <summary>
    /// Takes the buffered bytes after the head (or after the previous call's <paramref name="bodyBytes"/>)
    /// and whether the stream has ended. Returns NeedMoreData (all <paramref name="bodyBytes"/> are body:
    /// forward and consume them; the <see cref="HeldBytes"/> after them stay buffered), Complete (the body ends after
    /// <paramref name="bodyBytes"/>) or Error (<see cref="Error"/>; stop forwarding, close both sides). On a chunked
    /// Error <paramref name="bodyBytes"/> is 0: nothing of a broken message goes further.
    /// </summary>
    public HttpBodyStatus Process(in ReadOnlySequence<byte> buffer, bool isEndOfStream, out long bodyBytes)
    {
        bodyBytes = 0;
        if (_state == ChunkState.Done) return HttpBodyStatus.Complete;
        if (_state == ChunkState.Error) return HttpBodyStatus.Error;
        switch (_framing)
        {
            case HttpBodyFraming.ContentLength:
                bodyBytes = Math.Min(_remaining, buffer.Length);
                _remaining -= bodyBytes;
                if (_remaining == 0) { _state = ChunkState.Done; return HttpBodyStatus.Complete; }
                return isEndOfStream && bodyBytes == buffer.Length ? Fail(HttpParseError.Truncated) : HttpBodyStatus.NeedMoreData;

            case HttpBodyFraming.CloseDelimited:
            case HttpBodyFraming.Tunnel:
                bodyBytes = buffer.Length;
                if (isEndOfStream) { _state = ChunkState.Done; return HttpBodyStatus.Complete; }
                return HttpBodyStatus.NeedMoreData;

            default:
                return ProcessChunked(buffer, isEndOfStream, out bodyBytes);
        }
    }

    private HttpBodyStatus Fail(HttpParseError error)
    {
        Error = error;
        _state = ChunkState.Error;
        return HttpBodyStatus.Error;
    }

    private HttpBodyStatus ProcessChunked(in ReadOnlySequence<byte> buffer, bool isEndOfStream, out long bodyBytes)
    {
        bodyBytes = 0;
        long total = 0;
        int skip = _held;   // held trailer bytes lead the buffer: examined by an earlier call, never twice
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            ReadOnlySpan<byte> span = segment.Span;
            int i = Math.Min(skip, span.Length);
            skip -= i;
            while (i < span.Length)
            {
                if (_state == ChunkState.Data)
                {
                    // Chunk data is skipped in bulk, never looked at.
                    int n = (int)Math.Min(_remaining, span.Length - i);
                    i += n;
                    _remaining -= n;
                    if (_remaining == 0) _state = ChunkState.DataCr;
                    continue;
                }
                HttpParseError e = Step(span[i++]);
                if (e != HttpParseError.None)
                {
                    _held = 0;
                    return Fail(e);
                }
                if (_state == ChunkState.Done)
                {
                    bodyBytes = total + i;
                    _held = 0;
                    return HttpBodyStatus.Complete;
                }
            }
            total += span.Length;
        }
        if (isEndOfStream)
        {
            _held = 0;
            return Fail(HttpParseError.Truncated);
        }
        // A size line is held until it is whole (the peer never gets half of one), the last-chunk line and the
        // trailers until the final CRLF: what was examined of them stays in the buffer.
        _held = _state switch
        {
            <= ChunkState.SizeLf => _lineLength,
            >= ChunkState.TrailerStart and <= ChunkState.EndLf => _trailerLength,
            _ => 0,
        };
        bodyBytes = Math.Max(0, total - _held);
        return HttpBodyStatus.NeedMoreData;
    }

    // One byte of chunk framing (RFC 9112 7.1):
    //   chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF;  last-chunk = 1*"0" [ chunk-ext ] CRLF
    //   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    //   trailer-section = *( field-line CRLF ) CRLF
    private HttpParseError Step(byte b)
    {
        bool ws = b is (byte)' ' or (byte)'\t';
        if (_state < ChunkState.SizeLf && ++_lineLength > _maxLineLength) return HttpParseError.InvalidChunkExtension;
        if (_state >= ChunkState.TrailerStart && ++_trailerLength >= _maxTrailerLength) return HttpParseError.TrailerTooLarge;
        switch (_state)
        {
            case ChunkState.SizeStart:
            {
                int h = HexValue(b);
                if (h < 0) return HttpParseError.InvalidChunkSize;
                _remaining = h; _digits = 1; _state = ChunkState.Size;
                return HttpParseError.None;
            }
            case ChunkState.Size:
            {
                int h = HexValue(b);
                if (h >= 0)
                {
                    if (++_digits > MaxChunkSizeDigits) return HttpParseError.InvalidChunkSize;
                    _remaining = _remaining * 16 + h;
                    return HttpParseError.None;
                }
                if (b == ';') { _state = ChunkState.ExtBeforeName; return HttpParseError.None; }
                if (ws) { _state = ChunkState.SizeWs; return HttpParseError.None; }
                if (b == '\r') { _state = ChunkState.SizeLf; return HttpParseError.None; }
                return HttpParseError.InvalidChunkSize;
            }
            case ChunkState.SizeWs:
                if (ws) return HttpParseError.None;
                if (b == ';') { _state = ChunkState.ExtBeforeName; return HttpParseError.None; }
                if (b == '\r') { _state = ChunkState.SizeLf; return HttpParseError.None; }
                return HttpParseError.InvalidChunkSize;
            case ChunkState.ExtBeforeName:
                if (ws) return HttpParseError.None;
                if (HttpChars.IsTokenByte(b)) { _state = ChunkState.ExtName; return HttpParseError.None; }
                return HttpParseError.InvalidChunkExtension;
            case ChunkState.ExtName:
                if (HttpChars.IsTokenByte(b)) return HttpParseError.None;
                return AfterExtItem(b, ws, ChunkState.ExtAfterName, allowEquals: true);
            case ChunkState.ExtAfterName:
                if (ws) return HttpParseError.None;
                return AfterExtItem(b, ws, ChunkState.ExtAfterName, allowEquals: true);
            case ChunkState.ExtBeforeValue:
                if (ws) return HttpParseError.None;
                if (b == '"') { _state = ChunkState.ExtValueQuoted; return HttpParseError.None; }
                if (HttpChars.IsTokenByte(b)) { _state = ChunkState.ExtValueToken; return HttpParseError.None; }
                return HttpParseError.InvalidChunkExtension;
            case ChunkState.ExtValueToken:
                if (HttpChars.IsTokenByte(b)) return HttpParseError.None;
                return AfterExtItem(b, ws, ChunkState.ExtAfterValue, allowEquals: false);
            case ChunkState.ExtValueQuoted:
                // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                if (b == '"') { _state = ChunkState.ExtAfterValue; return HttpParseError.None; }
                if (b == '\\') { _state = ChunkState.ExtValueEscape; return HttpParseError.None; }
                return ws || b is >= 0x21 and not 0x7F ? HttpParseError.None : HttpParseError.InvalidChunkExtension;
            case ChunkState.ExtValueEscape:
                if (ws || b is >= 0x21 and not 0x7F) { _state = ChunkState.ExtValueQuoted; return HttpParseError.None; }
                return HttpParseError.InvalidChunkExtension;
            case ChunkState.ExtAfterValue:
                if (ws) return HttpParseError.None;
                return AfterExtItem(b, ws, ChunkState.ExtAfterValue, allowEquals: false);
            case ChunkState.SizeLf:
                if (b != '\n') return HttpParseError.InvalidChunkSize;
                if (_remaining == 0)
                {
                    // The last-chunk line is held with the trailers and counts in their limit.
                    _trailerLength = _lineLength + 1;
                    _state = ChunkState.TrailerStart;
                }
                else _state = ChunkState.Data;
                _lineLength = 0;
                return HttpParseError.None;
            case ChunkState.DataCr:
                if (b != '\r') return HttpParseError.InvalidChunkTerminator;
                _state = ChunkState.DataLf;
                return HttpParseError.None;
            case ChunkState.DataLf:
                if (b != '\n') return HttpParseError.InvalidChunkTerminator;
                _state = ChunkState.SizeStart;
                return HttpParseError.None;
            case ChunkState.TrailerStart:
                if (b == '\r') { _state = ChunkState.EndLf; return HttpParseError.None; }
                if (HttpChars.IsTokenByte(b))
                {
                    if (++_trailerLines > _maxTrailerLines) return HttpParseError.TooManyTrailers;
                    _state = ChunkState.TrailerName;
                    return HttpParseError.None;
                }
                return HttpParseError.InvalidTrailer;     // includes obs-fold and empty names
            case ChunkState.TrailerName:
                if (HttpChars.IsTokenByte(b)) return HttpParseError.None;
                if (b == ':') { _state = ChunkState.TrailerValue; return HttpParseError.None; }
                return HttpParseError.InvalidTrailer;
            case ChunkState.TrailerValue:
                if (b == '\r') { _state = ChunkState.TrailerLf; return HttpParseError.None; }
                return HttpChars.InvalidValue.Contains(b) ? HttpParseError.InvalidTrailer : HttpParseError.None;
            case ChunkState.TrailerLf:
                if (b != '\n') return HttpParseError.InvalidTrailer;
                _state = ChunkState.TrailerStart;
                return HttpParseError.None;
            case ChunkState.EndLf:
                if (b != '\n') return HttpParseError.InvalidTrailer;
                _state = ChunkState.Done;
                return HttpParseError.None;
            default:
                return HttpParseError.InvalidChunkSize;
        }
    }

    // After an extension name or value: BWS, "=" (names only), ";" for the next one, or CR.
    private HttpParseError AfterExtItem(byte b, bool ws, ChunkState wsState, bool allowEquals)
    {
        if (ws) { _state = wsState; return HttpParseError.None; }
        if (b == '=' && allowEquals) { _state = ChunkState.ExtBeforeValue; return HttpParseError.None; }
        if (b == ';') { _state = ChunkState.ExtBeforeName; return HttpParseError.None; }
        if (b == '\r') { _state = ChunkState.SizeLf; return HttpParseError.None; }
        return HttpParseError.InvalidChunkExtension;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    // Order matters: states before SizeLf belong to the size line, states from TrailerStart to the trailers.
    private enum ChunkState : byte
    {
        SizeStart, Size, SizeWs, ExtBeforeName, ExtName, ExtAfterName, ExtBeforeValue, ExtValueToken,
        ExtValueQuoted, ExtValueEscape, ExtAfterValue,
        SizeLf, Data, DataCr, DataLf,
        TrailerStart, TrailerName, TrailerValue, TrailerLf, EndLf,
        Done, Body, Error,
    }
}
