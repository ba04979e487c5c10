using System.Text.RegularExpressions;

namespace Proxy.Shared.Config;

// The typed model of HAProxy's sample expressions (doc/configuration.txt 7.3 "Fetching samples"): a fetch, then
// converters, each with its arguments checked and typed at load time (SampleExprParser), shipped to workers as part
// of the model and evaluated there by Proxy.Worker.Samples with no allocation. Types apart from behaviour, as
// HAProxy's sample-t.h.

/// <summary>What a fetch or converter produces (7.3 "boolean", "integer", "IP", "string", "binary").</summary>
public enum SampleType : byte { Any, Bool, Int, Ip, Str, Bin }

/// <summary>When a fetch has its sample: on the connection (layer 4), with the request, or with the response.</summary>
public enum SampleNeeds : byte
{
    Connection,
    /// <summary>The client session's TLS (7.3.4 `ssl_fc*`): known once the handshake is over, not at accept.</summary>
    Session,
    Request,
    Response,
    /// <summary>The bytes the client sent first (7.3.5, layer 6): buffered by `tcp-request inspect-delay`.</summary>
    Payload,
}

/// <summary>The sample fetches implemented; <see cref="SampleRegistry"/> names each one and its arguments.</summary>
public enum SampleFetchKind
{
    Src, SrcPort, Dst, DstPort, FeName, BeName, Method, Path, Url, Query, Base, UrlParam, ReqHdr, ReqHdrCnt, ReqFhdr,
    ReqCook, ReqVer, Status, ResHdr, Var, Str, Int, Bool, AlwaysTrue, AlwaysFalse, Date, Rand, NbSrv, ProtoHttp,
    ReqHdrVal, ResHdrCnt, Env, UniqueId,
    // 7.3.6 `userlist` authentication (3.4)
    HttpAuth, HttpAuthGroup,
    // 7.3.5 the client's first bytes (worker/Samples/PayloadSamples.cs)
    ReqLen, ReqPayload, ReqSslHelloType, ReqSslVer, ReqSslSni,
    // 7.3.4 TLS of the client connection
    SslFc, SslCUsed, SslFcSni, SslFcProtocol, SslFcAlpn, SslFcCipher, SslCVerify, SslCSDn, SslCIDn, SslCSerial, SslCSha1,
    SslCDer, SslCNotBefore, SslCNotAfter, SslCVersion, FcErr, SslFcErr, SslCErr, SslCCaErr, SslFcIsResumed, SslFcSessionId,
    // 7.3.3 stick counters and tables (the name says which data: Proxy.Shared.Tables.StickFetches)
    StickCounter, StickSource, TableAvl, TableCnt,
    // 7.3.5 the cookie of an RDP connection request (worker/Samples/RdpCookie.cs)
    ReqRdpCookie, ReqRdpCookieCnt,
    // 7.3.6 the capture slots (`capture request|response header`, `declare capture`, `http-request capture`...)
    CaptureReqHdr, CaptureResHdr,
    // 7.3.5 the server's first bytes, for `tcp-response content` (worker/Forwarding/TcpSession.ResponseInspection.cs)
    ResLen, ResPayload,
    // 7.3.6 the request body the client's buffer holds (worker/Samples/RequestBodyView.cs, `option http-buffer-request`)
    ReqBody, ReqBodyLen, ReqBodySize, ReqBodyParam,
}

/// <summary>The converters implemented (7.3.1 "Converters").</summary>
public enum SampleConverterKind
{
    Lower, Upper, Base64, B64Dec, Hex, Bytes, Field, Word, RegSub, IpMask, Concat, Add, Sub, Mul, Div, Mod, Sdbm, Djb2,
    Crc32, Wt6, UrlDec, Length, Map, Json, CaptureReq, CaptureRes,
    /// <summary>`table_X(TABLE)`: the input is a key of TABLE (7.3.1).</summary>
    StickTable,
    /// <summary>`set-var(NAME[,COND...])` (7.3.1): the input into a variable, passed on when it was set.</summary>
    SetVar,
}

/// <summary>How a map (`map_<match>`) or an ACL (`-m <match>`) compares a sample with its patterns (7.1.1..7.1.6).</summary>
public enum PatternMatch : byte { Str, Beg, End, Sub, Reg, Dom, Dir, Len, Found, Int, Ip, Bool }

/// <summary>
/// The fetch of an expression, arguments typed: <paramref name="Text"/> is the first string argument (header, cookie,
/// parameter, variable or backend name, `str()` value), <paramref name="Text2"/> the second (url_param's delimiter,
/// var's default), <paramref name="Number"/> the integer one (an occurrence, `int()`, date's offset, rand's range);
/// <paramref name="HasNumber"/> says it was given.
/// </summary>
public sealed record SampleFetchStep(SampleFetchKind Kind, string Name, string? Text, string? Text2, long Number, bool HasNumber)
{
    /// <summary>http_auth, http_auth_group: the userlist named by <see cref="Text"/>, resolved at load time.</summary>
    public UserListConfig? UserList { get; init; }
}

/// <summary>
/// One converter, arguments typed. <paramref name="Text"/>/<paramref name="Text2"/>/<paramref name="Text3"/>: string
/// arguments (field delimiters, regsub's replacement, concat's parts, a variable name for the arithmetic ones, map's
/// default); <paramref name="Number"/>/<paramref name="Number2"/>: integer ones; <paramref name="Regex"/>: regsub's
/// pattern; <paramref name="Map"/>: the map file's entries, read by the supervisor.
/// </summary>
public sealed record SampleConverterStep(SampleConverterKind Kind, string Name, string? Text, string? Text2, string? Text3,
    long Number, long Number2, bool HasNumber)
{
    public Regex? Regex { get; init; }
    /// <summary>regsub's `g` flag: every match is replaced, not only the first.</summary>
    public bool Global { get; init; }
    public MapData? Map { get; init; }
    /// <summary>ipmask: the IPv6 prefix length (the IPv4 one is <see cref="Number"/>).</summary>
    public int Mask6 { get; init; } = 128;
}

/// <summary>
/// A map file read at load time (7.3.1 "map"): one `KEY VALUE` entry a line, matched the way <paramref name="Match"/>
/// says, the value typed as <paramref name="Output"/>; <paramref name="Default"/> when nothing matches (null: no sample).
/// </summary>
public sealed record MapData(string File, PatternMatch Match, SampleType Output, IReadOnlyList<string> Keys, IReadOnlyList<string> Values,
    string? Default);

/// <summary>`FETCH[,CONVERTER...]` compiled: the text as written (for messages) and its steps.</summary>
public sealed record SampleExpr(string Text, SampleFetchStep Fetch, IReadOnlyList<SampleConverterStep> Converters, SampleType Output)
{
    /// <summary>When the expression has its sample: the fetch decides (converters read nothing else).</summary>
    public SampleNeeds Needs { get; init; }
}
