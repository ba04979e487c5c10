namespace Proxy.Worker.Http;

// Types of the HTTP/1.1 parser, kept apart from the code that uses them (HAProxy's *-t.h habit).

/// <summary>Request method: the common ones by value, any other valid token as <see cref="Other"/> (RFC 9110 9).</summary>
public enum Http1Method : byte
{
    None, Get, Head, Post, Put, Delete, Connect, Options, Trace, Patch, Other,
}

/// <summary>Only HTTP/1.0 and HTTP/1.1 are spoken on an HTTP/1 connection.</summary>
public enum Http1Version : byte
{
    Unknown, Http10, Http11,
}

public enum HttpMessageKind : byte
{
    Request, Response,
}

/// <summary>What a parser call achieved. Errors carry an <see cref="HttpParseError"/>; nothing throws.</summary>
public enum HttpParseStatus : byte
{
    NeedMoreData, Complete, Error,
}

/// <summary>
/// Why a message was refused. A request error is answered with <see cref="HttpParseErrors.StatusCode"/>
/// (400, or 505 for an unsupported version); a response error becomes 502. Nothing is forwarded.
/// </summary>
public enum HttpParseError : byte
{
    None,
    HeadTooLarge,                       // head > tune.bufsize (HAProxy answers 400)
    TooManyHeaders,                     // > tune.http.maxhdr
    BareCr,                             // CR not followed by LF (RFC 9112 2.2)
    BareLf,                             // LF without CR: refused, see Http1HeadParser
    ObsoleteLineFolding,                // line starting with SP/HTAB (RFC 9112 5.2)
    InvalidRequestLine,
    InvalidMethod,
    InvalidRequestTarget,
    InvalidVersion,
    UnsupportedVersion,                 // HTTP/x.y other than 1.0 / 1.1: 505 for requests
    InvalidStatusLine,
    InvalidHeaderName,
    WhitespaceBeforeColon,              // RFC 9112 5.1: MUST reject with 400
    EmptyHeaderName,
    InvalidHeaderValue,                 // NUL or other control byte (HTAB allowed)
    MissingHost,                        // HTTP/1.1 request without Host (RFC 9112 3.2)
    MultipleHost,
    InvalidHost,                        // Host value is not uri-host [":" port] (RFC 9110 7.2)
    HostMismatch,                       // absolute-form target's authority differs from Host (RFC 9112 3.2.2)
    ContentLengthAndTransferEncoding,   // RFC 9112 6.1: request smuggling
    InvalidContentLength,
    ConflictingContentLength,
    InvalidTransferEncoding,
    InvalidChunkSize,
    InvalidChunkExtension,
    InvalidChunkTerminator,             // chunk data not followed by CRLF
    InvalidTrailer,
    TrailerTooLarge,                    // trailer section does not fit in tune.bufsize
    TooManyTrailers,                    // more trailer fields than tune.http.maxhdr
    Truncated,                          // end of stream inside a framed body
}

/// <summary>How the body of a parsed message is delimited (RFC 9112 6.3).</summary>
public enum HttpBodyFraming : byte
{
    None,           // no body: GET without framing headers, HEAD responses, 1xx/204/304
    ContentLength,
    Chunked,
    CloseDelimited, // response without Content-Length or chunked: body until EOF
    Tunnel,         // 101 Switching Protocols or 2xx to CONNECT: bytes both ways until EOF
}

/// <summary>Tokens of the Connection header the forwarder acts on.</summary>
[Flags]
public enum HttpConnectionOptions : byte
{
    None = 0, Close = 1, KeepAlive = 2, Upgrade = 4,
}

/// <summary>Result of <see cref="HttpBodyFramer.Process"/>.</summary>
public enum HttpBodyStatus : byte
{
    NeedMoreData, Complete, Error,
}

/// <summary>What <see cref="Http1HeadWriter"/> changes while re-serializing a head.</summary>
[Flags]
public enum HttpHeadWriteFlags : byte
{
    None = 0,
    KeepUpgrade = 1,             // tunnelling: keep Upgrade and send "Connection: upgrade"
    ConnectionClose = 4,         // add "Connection: close"
    ConnectionKeepAlive = 8,     // add "Connection: keep-alive" (HTTP/1.0 peers)
    DropAcceptEncoding = 16,     // `compression offload`: the server never sees Accept-Encoding
    Compress = 32,               // a compressed response: no Content-Length nor Transfer-Encoding (re-framed), ETag weakened
    DropExpectContinue = 64,     // the proxy answered `Expect: 100-continue` itself (option http-buffer-request)
}

internal enum HttpKnownHeader : byte
{
    Other, Host, ContentLength, TransferEncoding, Connection, KeepAlive, ProxyConnection, TE, Trailer, Upgrade, Expect,
}

/// <summary>One header: offsets into the head buffer, no strings.</summary>
internal struct HttpHeaderEntry
{
    public int NameStart;
    public int NameLength;
    public int ValueStart;
    public int ValueLength;
    public HttpKnownHeader Known;
}

public static class HttpParseErrors
{
    /// <summary>Status to answer with: 400 (505 for an unsupported version) for a request, 502 for a response.</summary>
    public static int StatusCode(HttpParseError error, HttpMessageKind kind) =>
        kind == HttpMessageKind.Response ? 502 : error == HttpParseError.UnsupportedVersion ? 505 : 400;
}
