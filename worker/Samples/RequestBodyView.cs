using System.Buffers;
using Proxy.Worker.Http;

namespace Proxy.Worker.Samples;

/// <summary>
/// What the `req.body*` fetches (7.3.6) see of the request body: the bytes after the head in the client's receive
/// buffer, as they were when the session last showed them (after the head, then again after `option
/// http-buffer-request` waited), never copied. Hidden once the body starts to be relayed: from then on the buffer
/// belongs to the relay (and perhaps to the next pipelined request), and HAProxy refuses these fetches there anyway.
/// A chunked body is seen decoded, as HAProxy's HTX data blocks: decoded once, on first use, into a pooled buffer
/// given back with the context's other buffers.
/// </summary>
internal sealed class RequestBodyView
{
    private ReadOnlyMemory<byte> _raw;
    private bool _chunked;
    private long _contentLength;
    private byte[] _decoded = [];
    private int _decodedLength = -1;   // -1: not decoded since the last Show

    /// <summary>True between <see cref="Show"/> and <see cref="Hide"/>: the request's rules are running.</summary>
    public bool Visible { get; private set; }

    /// <summary>
    /// Shows the body of <paramref name="request"/>: the start of <paramref name="buffered"/> (the client bytes after
    /// the head), at most its Content-Length (what follows is the next request).
    /// </summary>
    public void Show(ReadOnlyMemory<byte> buffered, HttpHead request)
    {
        _chunked = request.BodyFraming == HttpBodyFraming.Chunked;
        _contentLength = request.BodyFraming == HttpBodyFraming.ContentLength ? Math.Max(0, request.ContentLength) : 0;
        _raw = _chunked ? buffered
            : request.BodyFraming == HttpBodyFraming.ContentLength ? buffered[..(int)Math.Min(buffered.Length, _contentLength)]
            : default;
        _decodedLength = -1;
        Visible = true;
    }

    public void Hide()
    {
        Visible = false;
        _raw = default;
    }

    /// <summary>The body available (7.3.6 "req.body"): the buffered part, de-chunked.</summary>
    public ReadOnlySpan<byte> Available
    {
        get
        {
            if (!_chunked) return _raw.Span;
            if (_decodedLength < 0)
            {
                if (_decoded.Length < _raw.Length) Release();
                if (_decoded.Length == 0 && _raw.Length > 0) _decoded = ArrayPool<byte>.Shared.Rent(_raw.Length);
                _decodedLength = ChunkedData.Decode(_raw.Span, _decoded);
            }
            return _decoded.AsSpan(0, _decodedLength);
        }
    }

    /// <summary>7.3.6 "req.body_size": the advertised Content-Length, or the available data of a chunked body.</summary>
    public long AdvertisedSize => _chunked ? Available.Length : _contentLength;

    /// <summary>
    /// As new, for another connection of a pooled session (SampleContext.BeginSession). The decoding buffer normally
    /// went back at the last request's end (SampleContext.ReleaseBuffers); one still held is kept, its content forgotten.
    /// </summary>
    public void Reset()
    {
        Hide();
        _chunked = false;
        _contentLength = 0;
        _decodedLength = -1;
    }

    /// <summary>Gives the decoding buffer back (between requests).</summary>
    public void Release()
    {
        var d = _decoded;
        _decoded = [];
        _decodedLength = -1;
        if (d.Length > 0) ArrayPool<byte>.Shared.Return(d);
    }
}

/// <summary>The data of a chunked body (RFC 9112 7.1) without its framing.</summary>
internal static class ChunkedData
{
    /// <summary>
    /// Copies the chunk data of <paramref name="raw"/> into <paramref name="destination"/>, up to the last chunk or
    /// the first incomplete framing line; returns the length. A chunk cut by the end of <paramref name="raw"/> gives
    /// the part present. The bytes are the client's, unchecked: without `option http-buffer-request` the body framer
    /// has not seen them yet, so a chunk size past int.MaxValue (which would also wrap the sum) ends the data there,
    /// as an invalid chunk; the framer refuses it when the body is relayed.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> raw, Span<byte> destination)
    {
        int written = 0;
        while (true)
        {
            int lf = raw.IndexOf((byte)'\n');
            if (lf < 0) return written;
            long size = 0;
            foreach (byte b in raw[..lf])
            {
                int h = b is >= (byte)'0' and <= (byte)'9' ? b - '0' : (b | 0x20) is >= 'a' and <= 'f' ? (b | 0x20) - 'a' + 10 : -1;
                if (h < 0) break;   // extensions, blanks, CR
                size = size * 16 + h;
                if (size > int.MaxValue) return written;   // a chunk no buffer holds: invalid, no data from it
            }
            if (size == 0) return written;   // the last chunk: trailers are not data
            raw = raw[(lf + 1)..];
            int n = (int)Math.Min(size, Math.Min(raw.Length, destination.Length - written));
            raw[..n].CopyTo(destination[written..]);
            written += n;
            if (n < size || raw.Length < n + 2) return written;
            raw = raw[(n + 2)..];   // the chunk's CRLF
        }
    }
}
