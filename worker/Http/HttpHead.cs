using Proxy.Worker.Forwarding;
using System.Text;

namespace Proxy.Worker.Http;

/// <summary>
/// A parsed request or response head, reusable from message to message. It owns one buffer of
/// tune.bufsize bytes (rented once per connection) into which the head is copied as it is parsed, and a
/// table of tune.http.maxhdr header entries (offsets into that buffer): parsing a message allocates nothing.
/// Call <see cref="Reset"/> before each message; <see cref="Dispose"/> returns the buffer.
/// </summary>
public sealed class HttpHead : IDisposable
{
    public const int DefaultMaxHeadSize = 16384;   // tune.bufsize
    public const int DefaultMaxHeaders = 101;      // tune.http.maxhdr

    private byte[] _buffer;
    private HttpHeaderEntry[] _headers;     // rented with the buffer, returned with it (ReleaseBuffer)
    private readonly int _maxHeaders;

    // :: Parser state (Http1HeadParser); the head bytes so far are _buffer[.._length].
    internal int _length;
    internal int _lineStart;
    internal bool _startLineDone;
    internal int _startLineStart;
    internal int _startLineLength;
    internal int _headerCount;

    // :: Start line
    internal int _methodLength, _targetStart, _targetLength, _reasonStart, _reasonLength;

    // :: What the framing headers said
    internal int _hostCount;
    internal bool _hasTransferEncoding;
    internal bool _chunkedSeen;           // "chunked" appeared among the codings
    internal bool _chunkedFinal;          // ... and is the last one so far
    internal bool _chunkedTwice;
    internal bool _chunkedNotFinal;       // a coding followed "chunked"

    public HttpHead(int maxHeadSize = DefaultMaxHeadSize, int maxHeaders = DefaultMaxHeaders)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHeadSize, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHeaders, 1);
        _buffer = [];   // rented when a head is parsed, returned by ReleaseBuffer between messages
        _headers = [];
        _maxHeaders = maxHeaders;
        MaxHeadSize = maxHeadSize;
        Reset(HttpMessageKind.Request);
    }

    public int MaxHeadSize { get; }
    public int MaxHeaders => _maxHeaders;

    public HttpMessageKind Kind { get; private set; }
    /// <summary>For a response: the method of the request it answers (HEAD and CONNECT change the framing).</summary>
    public Http1Method RequestMethod { get; private set; }

    public HttpParseError Error { get; internal set; }
    /// <summary>After an error: where in <see cref="Buffer"/>[..<see cref="Length"/>] the parser refused the head (the
    /// refused byte of a header line, else the start of the refused line, or the end of the bytes when the head grew too large), for `show errors`.</summary>
    public int ErrorOffset { get; internal set; }
    /// <summary>How many head bytes <see cref="Buffer"/> holds so far.</summary>
    public int Length => _length;
    public Http1Method Method { get; internal set; }
    public Http1Version Version { get; internal set; }
    public int StatusCode { get; internal set; }

    /// <summary>Content-Length, or -1 when absent.</summary>
    public long ContentLength { get; internal set; }
    public HttpBodyFraming BodyFraming { get; internal set; }
    public HttpConnectionOptions ConnectionOptions { get; internal set; }
    public bool HasUpgrade { get; internal set; }
    public bool ExpectsContinue { get; internal set; }
    /// <summary>Transfer-Encoding on an HTTP/1.0 message: framing is suspect, close after it (RFC 9112 6.1).</summary>
    public bool MustClose { get; internal set; }

    /// <summary>
    /// The sender said this message is its connection's last (`Connection: close`, or HTTP/1.0 without keep-alive):
    /// a client that says so sends no further request on the connection (RFC 9112 9.6).
    /// </summary>
    public bool AnnouncesClose =>
        (ConnectionOptions & HttpConnectionOptions.Close) != 0
        || (Version == Http1Version.Http10 && (ConnectionOptions & HttpConnectionOptions.KeepAlive) == 0);

    /// <summary>Whether the connection may carry another message after this one (RFC 9112 9.3).</summary>
    public bool IsKeepAlive =>
        !MustClose && BodyFraming is not (HttpBodyFraming.CloseDelimited or HttpBodyFraming.Tunnel) &&
        (Version == Http1Version.Http11
            ? (ConnectionOptions & HttpConnectionOptions.Close) == 0
            : (ConnectionOptions & (HttpConnectionOptions.KeepAlive | HttpConnectionOptions.Close)) == HttpConnectionOptions.KeepAlive);

    /// <summary>A 1xx response other than 101: another response head follows it.</summary>
    public bool IsInterim => Kind == HttpMessageKind.Response && StatusCode is >= 100 and < 200 && StatusCode != 101;

    /// <summary>The method as sent (useful for <see cref="Http1Method.Other"/>).</summary>
    public ReadOnlySpan<byte> MethodBytes => _buffer.AsSpan(_startLineStart, _methodLength);
    public ReadOnlySpan<byte> Target => _buffer.AsSpan(_targetStart, _targetLength);
    public ReadOnlySpan<byte> Reason => _buffer.AsSpan(_reasonStart, _reasonLength);
    /// <summary>The start line without its CRLF.</summary>
    public ReadOnlySpan<byte> StartLine => _buffer.AsSpan(_startLineStart, _startLineLength);

    public int HeaderCount => _headerCount;
    public ReadOnlySpan<byte> GetHeaderName(int index) { ref readonly var h = ref Entry(index); return _buffer.AsSpan(h.NameStart, h.NameLength); }
    /// <summary>The value with surrounding OWS removed.</summary>
    public ReadOnlySpan<byte> GetHeaderValue(int index) { ref readonly var h = ref Entry(index); return _buffer.AsSpan(h.ValueStart, h.ValueLength); }

    /// <summary>First header named <paramref name="name"/> (ASCII case-insensitive); -1 when none. Start at <paramref name="from"/> to find the next.</summary>
    public int IndexOfHeader(ReadOnlySpan<byte> name, int from = 0)
    {
        for (int i = from; i < _headerCount; i++)
        {
            ref readonly var h = ref _headers[i];
            if (h.NameLength == name.Length && Ascii.EqualsIgnoreCase(_buffer.AsSpan(h.NameStart, h.NameLength), name))
                return i;
        }
        return -1;
    }

    public bool TryGetHeader(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        int i = IndexOfHeader(name);
        value = i < 0 ? default : GetHeaderValue(i);
        return i >= 0;
    }

    /// <summary>Whether <paramref name="token"/> appears in any Connection header (e.g. a header it names as hop-by-hop).</summary>
    public bool IsListedInConnection(ReadOnlySpan<byte> token)
    {
        for (int i = 0; i < _headerCount; i++)
        {
            if (_headers[i].Known != HttpKnownHeader.Connection) continue;
            ReadOnlySpan<byte> list = GetHeaderValue(i);
            bool done = false;
            while (HttpChars.NextListElement(ref list, out var element, ref done))
                if (element.Length == token.Length && Ascii.EqualsIgnoreCase(element, token)) return true;
        }
        return false;
    }

    /// <summary>Forget the previous message and expect a new one of <paramref name="kind"/>.</summary>
    public void Reset(HttpMessageKind kind, Http1Method requestMethod = Http1Method.None)
    {
        Kind = kind;
        RequestMethod = requestMethod;
        _length = _lineStart = _startLineStart = _startLineLength = _headerCount = 0;
        ErrorOffset = 0;
        _startLineDone = false;
        _methodLength = _targetStart = _targetLength = _reasonStart = _reasonLength = 0;
        _hostCount = 0;
        _hasTransferEncoding = _chunkedSeen = _chunkedFinal = _chunkedTwice = _chunkedNotFinal = false;
        Error = HttpParseError.None;
        Method = Http1Method.None;
        Version = Http1Version.Unknown;
        StatusCode = 0;
        ContentLength = -1;
        BodyFraming = HttpBodyFraming.None;
        ConnectionOptions = HttpConnectionOptions.None;
        HasUpgrade = ExpectsContinue = MustClose = false;
    }

    public void Dispose() => ReleaseBuffer();

    /// <summary>
    /// Returns the head buffer and the header table to the pools; the next parse rents them again. A keep-alive connection waiting for its
    /// next request so holds no buffer (HAProxy and Kestrel do the same), which is what lets many idle clients fit.
    /// </summary>
    public void ReleaseBuffer()
    {
        byte[] b = _buffer;
        _buffer = [];
        if (b.Length > 0) ThreadArrayPool<byte>.Return(b);
        // The header table too (tune.http.maxhdr entries, 2 KB by default): measured with 5,000 idle keep-alive
        // sessions, keeping it cost 4 KB per session (request and response heads).
        var h = _headers;
        _headers = [];
        if (h.Length > 0) ThreadArrayPool<HttpHeaderEntry>.Return(h);
    }

    internal byte[] Buffer => _buffer.Length > 0 ? _buffer : (_buffer = ThreadArrayPool<byte>.Rent(MaxHeadSize));
    internal HttpHeaderEntry[] Headers => _headers.Length > 0 ? _headers : (_headers = ThreadArrayPool<HttpHeaderEntry>.Rent(_maxHeaders));

    internal ref readonly HttpHeaderEntry Entry(int index)
    {
        if ((uint)index >= (uint)_headerCount) ThrowIndex();
        return ref _headers[index];
    }

    private static void ThrowIndex() => throw new ArgumentOutOfRangeException("index");
}
