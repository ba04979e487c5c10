namespace Proxy.Shared.Config;

/// <summary>
/// One sample fetch: its name(s) as configs write them, its kind, its arguments (<see cref="Args"/>: one letter each,
/// upper case required, lower case optional: S/s a string, I/i an integer), what it yields, and when it has its sample.
/// </summary>
internal sealed record SampleFetchDef(string Name, SampleFetchKind Kind, string Args, SampleType Output, SampleNeeds Needs, string Usage);

/// <summary>
/// One converter: <see cref="Args"/> as for fetches, plus V (an integer or a variable name, as add() takes),
/// R (a regular expression), M (a map file).
/// </summary>
internal sealed record SampleConverterDef(string Name, SampleConverterKind Kind, string Args, SampleType Output, string Usage);

/// <summary>
/// The one table of fetches and converters this proxy knows (doc/configuration.txt 7.3.2 to 7.3.6, 7.3.1). A new fetch
/// is one line here and one case in Proxy.Worker.Samples.SampleFetcher (the TLS fetches `ssl_fc`, `ssl_fc_sni`... plug
/// in that way).
/// </summary>
internal static class SampleRegistry
{
    private static readonly SampleFetchDef[] FetchTable =
    [
        // 7.3.3 layer 4
        new("src", SampleFetchKind.Src, "", SampleType.Ip, SampleNeeds.Connection, "src"),
        new("src_port", SampleFetchKind.SrcPort, "", SampleType.Int, SampleNeeds.Connection, "src_port"),
        new("dst", SampleFetchKind.Dst, "", SampleType.Ip, SampleNeeds.Connection, "dst"),
        new("dst_port", SampleFetchKind.DstPort, "", SampleType.Int, SampleNeeds.Connection, "dst_port"),
        // 7.3.2 internal states
        new("fe_name", SampleFetchKind.FeName, "", SampleType.Str, SampleNeeds.Connection, "fe_name"),
        new("be_name", SampleFetchKind.BeName, "", SampleType.Str, SampleNeeds.Request, "be_name"),
        new("nbsrv", SampleFetchKind.NbSrv, "s", SampleType.Int, SampleNeeds.Connection, "nbsrv([BACKEND])"),
        new("var", SampleFetchKind.Var, "Ss", SampleType.Any, SampleNeeds.Connection, "var(SCOPE.NAME[,DEFAULT])"),
        new("env", SampleFetchKind.Env, "S", SampleType.Str, SampleNeeds.Connection, "env(NAME)"),
        new("str", SampleFetchKind.Str, "S", SampleType.Str, SampleNeeds.Connection, "str(TEXT)"),
        new("int", SampleFetchKind.Int, "I", SampleType.Int, SampleNeeds.Connection, "int(INTEGER)"),
        new("bool", SampleFetchKind.Bool, "I", SampleType.Bool, SampleNeeds.Connection, "bool(0|1)"),
        new("always_true", SampleFetchKind.AlwaysTrue, "", SampleType.Bool, SampleNeeds.Connection, "always_true"),
        new("always_false", SampleFetchKind.AlwaysFalse, "", SampleType.Bool, SampleNeeds.Connection, "always_false"),
        new("date", SampleFetchKind.Date, "i", SampleType.Int, SampleNeeds.Connection, "date([OFFSET])"),
        new("rand", SampleFetchKind.Rand, "i", SampleType.Int, SampleNeeds.Connection, "rand([RANGE])"),
        // 7.3.4 TLS of the client connection (worker/Samples/TlsSamples.cs)
        new("ssl_fc", SampleFetchKind.SslFc, "", SampleType.Bool, SampleNeeds.Session, "ssl_fc"),
        new("ssl_c_used", SampleFetchKind.SslCUsed, "", SampleType.Bool, SampleNeeds.Session, "ssl_c_used"),
        new("ssl_fc_sni", SampleFetchKind.SslFcSni, "", SampleType.Str, SampleNeeds.Session, "ssl_fc_sni"),
        new("ssl_fc_protocol", SampleFetchKind.SslFcProtocol, "", SampleType.Str, SampleNeeds.Session, "ssl_fc_protocol"),
        new("ssl_fc_alpn", SampleFetchKind.SslFcAlpn, "", SampleType.Str, SampleNeeds.Session, "ssl_fc_alpn"),
        new("ssl_fc_cipher", SampleFetchKind.SslFcCipher, "", SampleType.Str, SampleNeeds.Session, "ssl_fc_cipher"),
        new("ssl_fc_is_resumed", SampleFetchKind.SslFcIsResumed, "", SampleType.Bool, SampleNeeds.Session, "ssl_fc_is_resumed"),
        new("ssl_fc_session_id", SampleFetchKind.SslFcSessionId, "", SampleType.Bin, SampleNeeds.Session, "ssl_fc_session_id"),
        new("ssl_c_verify", SampleFetchKind.SslCVerify, "", SampleType.Int, SampleNeeds.Session, "ssl_c_verify"),
        new("ssl_c_s_dn", SampleFetchKind.SslCSDn, "si", SampleType.Str, SampleNeeds.Session, "ssl_c_s_dn([ENTRY[,OCC]])"),
        new("ssl_c_i_dn", SampleFetchKind.SslCIDn, "si", SampleType.Str, SampleNeeds.Session, "ssl_c_i_dn([ENTRY[,OCC]])"),
        new("ssl_c_serial", SampleFetchKind.SslCSerial, "", SampleType.Bin, SampleNeeds.Session, "ssl_c_serial"),
        new("ssl_c_sha1", SampleFetchKind.SslCSha1, "", SampleType.Bin, SampleNeeds.Session, "ssl_c_sha1"),
        new("ssl_c_der", SampleFetchKind.SslCDer, "", SampleType.Bin, SampleNeeds.Session, "ssl_c_der"),
        new("ssl_c_notbefore", SampleFetchKind.SslCNotBefore, "", SampleType.Str, SampleNeeds.Session, "ssl_c_notbefore"),
        new("ssl_c_notafter", SampleFetchKind.SslCNotAfter, "", SampleType.Str, SampleNeeds.Session, "ssl_c_notafter"),
        new("ssl_c_version", SampleFetchKind.SslCVersion, "", SampleType.Int, SampleNeeds.Session, "ssl_c_version"),
        // The error ids of the connection and its handshake: 0 for every connection a rule or log line sees here (a
        // failed handshake closes the connection first; no `crt-ignore-err`/`ca-ignore-err` lets an error through).
        new("fc_err", SampleFetchKind.FcErr, "", SampleType.Int, SampleNeeds.Connection, "fc_err"),
        new("ssl_fc_err", SampleFetchKind.SslFcErr, "", SampleType.Int, SampleNeeds.Session, "ssl_fc_err"),
        new("ssl_c_err", SampleFetchKind.SslCErr, "", SampleType.Int, SampleNeeds.Session, "ssl_c_err"),
        new("ssl_c_ca_err", SampleFetchKind.SslCCaErr, "", SampleType.Int, SampleNeeds.Session, "ssl_c_ca_err"),
        // 7.3.5 the client's first bytes, buffered by `tcp-request inspect-delay`
        new("req.len", SampleFetchKind.ReqLen, "", SampleType.Int, SampleNeeds.Payload, "req.len"),
        new("req_len", SampleFetchKind.ReqLen, "", SampleType.Int, SampleNeeds.Payload, "req_len"),
        new("req.payload", SampleFetchKind.ReqPayload, "II", SampleType.Bin, SampleNeeds.Payload, "req.payload(OFFSET,LENGTH)"),
        new("res.len", SampleFetchKind.ResLen, "", SampleType.Int, SampleNeeds.Payload, "res.len"),
        new("res.payload", SampleFetchKind.ResPayload, "II", SampleType.Bin, SampleNeeds.Payload, "res.payload(OFFSET,LENGTH)"),
        new("req.ssl_hello_type", SampleFetchKind.ReqSslHelloType, "", SampleType.Int, SampleNeeds.Payload, "req.ssl_hello_type"),
        new("req_ssl_hello_type", SampleFetchKind.ReqSslHelloType, "", SampleType.Int, SampleNeeds.Payload, "req_ssl_hello_type"),
        new("req.ssl_ver", SampleFetchKind.ReqSslVer, "", SampleType.Int, SampleNeeds.Payload, "req.ssl_ver"),
        new("req_ssl_ver", SampleFetchKind.ReqSslVer, "", SampleType.Int, SampleNeeds.Payload, "req_ssl_ver"),
        new("req.ssl_sni", SampleFetchKind.ReqSslSni, "", SampleType.Str, SampleNeeds.Payload, "req.ssl_sni"),
        new("req_ssl_sni", SampleFetchKind.ReqSslSni, "", SampleType.Str, SampleNeeds.Payload, "req_ssl_sni"),
        new("req.rdp_cookie", SampleFetchKind.ReqRdpCookie, "s", SampleType.Str, SampleNeeds.Payload, "req.rdp_cookie([NAME])"),
        new("rdp_cookie", SampleFetchKind.ReqRdpCookie, "s", SampleType.Str, SampleNeeds.Payload, "rdp_cookie([NAME])"),
        new("req.rdp_cookie_cnt", SampleFetchKind.ReqRdpCookieCnt, "s", SampleType.Int, SampleNeeds.Payload, "req.rdp_cookie_cnt([NAME])"),
        new("rdp_cookie_cnt", SampleFetchKind.ReqRdpCookieCnt, "s", SampleType.Int, SampleNeeds.Payload, "rdp_cookie_cnt([NAME])"),
        // 7.3.6 HTTP
        new("method", SampleFetchKind.Method, "", SampleType.Str, SampleNeeds.Request, "method"),
        new("path", SampleFetchKind.Path, "", SampleType.Str, SampleNeeds.Request, "path"),
        new("url", SampleFetchKind.Url, "", SampleType.Str, SampleNeeds.Request, "url"),
        new("query", SampleFetchKind.Query, "", SampleType.Str, SampleNeeds.Request, "query"),
        new("base", SampleFetchKind.Base, "", SampleType.Str, SampleNeeds.Request, "base"),
        new("url_param", SampleFetchKind.UrlParam, "ss", SampleType.Str, SampleNeeds.Request, "url_param([NAME[,DELIMITER]])"),
        new("urlp", SampleFetchKind.UrlParam, "ss", SampleType.Str, SampleNeeds.Request, "urlp([NAME[,DELIMITER]])"),
        new("req.hdr", SampleFetchKind.ReqHdr, "Si", SampleType.Str, SampleNeeds.Request, "req.hdr(NAME[,OCCURRENCE])"),
        new("hdr", SampleFetchKind.ReqHdr, "Si", SampleType.Str, SampleNeeds.Request, "hdr(NAME[,OCCURRENCE])"),
        new("req.hdr_cnt", SampleFetchKind.ReqHdrCnt, "S", SampleType.Int, SampleNeeds.Request, "req.hdr_cnt(NAME)"),
        new("hdr_cnt", SampleFetchKind.ReqHdrCnt, "S", SampleType.Int, SampleNeeds.Request, "hdr_cnt(NAME)"),
        new("req.hdr_val", SampleFetchKind.ReqHdrVal, "Si", SampleType.Int, SampleNeeds.Request, "req.hdr_val(NAME[,OCCURRENCE])"),
        new("hdr_val", SampleFetchKind.ReqHdrVal, "Si", SampleType.Int, SampleNeeds.Request, "hdr_val(NAME[,OCCURRENCE])"),
        new("req.fhdr", SampleFetchKind.ReqFhdr, "Si", SampleType.Str, SampleNeeds.Request, "req.fhdr(NAME[,OCCURRENCE])"),
        new("req.cook", SampleFetchKind.ReqCook, "S", SampleType.Str, SampleNeeds.Request, "req.cook(NAME)"),
        new("cook", SampleFetchKind.ReqCook, "S", SampleType.Str, SampleNeeds.Request, "cook(NAME)"),
        new("req.ver", SampleFetchKind.ReqVer, "", SampleType.Str, SampleNeeds.Request, "req.ver"),
        new("req_ver", SampleFetchKind.ReqVer, "", SampleType.Str, SampleNeeds.Request, "req_ver"),
        new("unique-id", SampleFetchKind.UniqueId, "", SampleType.Str, SampleNeeds.Request, "unique-id"),
        new("http_auth", SampleFetchKind.HttpAuth, "S", SampleType.Bool, SampleNeeds.Request, "http_auth(USERLIST)"),
        new("http_auth_group", SampleFetchKind.HttpAuthGroup, "S", SampleType.Str, SampleNeeds.Request, "http_auth_group(USERLIST)"),
        new("req.proto_http", SampleFetchKind.ProtoHttp, "", SampleType.Bool, SampleNeeds.Request, "req.proto_http"),
        new("status", SampleFetchKind.Status, "", SampleType.Int, SampleNeeds.Response, "status"),
        new("res.hdr", SampleFetchKind.ResHdr, "Si", SampleType.Str, SampleNeeds.Response, "res.hdr(NAME[,OCCURRENCE])"),
        new("shdr", SampleFetchKind.ResHdr, "Si", SampleType.Str, SampleNeeds.Response, "shdr(NAME[,OCCURRENCE])"),
        new("res.hdr_cnt", SampleFetchKind.ResHdrCnt, "S", SampleType.Int, SampleNeeds.Response, "res.hdr_cnt(NAME)"),
        // The capture slots, 0 the first declared (worker/Samples/HeaderCaptures.cs); `tcp-request content capture`
        // fills request slots before any HTTP request, so capture.req.hdr needs only the connection.
        new("capture.req.hdr", SampleFetchKind.CaptureReqHdr, "I", SampleType.Str, SampleNeeds.Connection, "capture.req.hdr(INDEX)"),
        new("capture.res.hdr", SampleFetchKind.CaptureResHdr, "I", SampleType.Str, SampleNeeds.Response, "capture.res.hdr(INDEX)"),
        // 7.3.6 the request body as buffered (all of it with `option http-buffer-request`, when it fits); 2.6 takes
        // only a NAME for req.body_param (its `,i` flag came later).
        new("req.body", SampleFetchKind.ReqBody, "", SampleType.Bin, SampleNeeds.Request, "req.body"),
        new("req.body_len", SampleFetchKind.ReqBodyLen, "", SampleType.Int, SampleNeeds.Request, "req.body_len"),
        new("req.body_size", SampleFetchKind.ReqBodySize, "", SampleType.Int, SampleNeeds.Request, "req.body_size"),
        new("req.body_param", SampleFetchKind.ReqBodyParam, "s", SampleType.Str, SampleNeeds.Request, "req.body_param([NAME])"),
    ];

    private static readonly SampleConverterDef[] ConverterTable =
    [
        new("lower", SampleConverterKind.Lower, "", SampleType.Str, "lower"),
        new("upper", SampleConverterKind.Upper, "", SampleType.Str, "upper"),
        new("base64", SampleConverterKind.Base64, "", SampleType.Str, "base64"),
        new("b64dec", SampleConverterKind.B64Dec, "", SampleType.Bin, "b64dec"),
        new("hex", SampleConverterKind.Hex, "", SampleType.Str, "hex"),
        new("json", SampleConverterKind.Json, "s", SampleType.Str, "json([ascii|utf8|utf8s|utf8p|utf8ps])"),
        new("bytes", SampleConverterKind.Bytes, "Ii", SampleType.Bin, "bytes(OFFSET[,LENGTH])"),
        new("field", SampleConverterKind.Field, "ISi", SampleType.Str, "field(INDEX,DELIMITERS[,COUNT])"),
        new("word", SampleConverterKind.Word, "ISi", SampleType.Str, "word(INDEX,DELIMITERS[,COUNT])"),
        new("regsub", SampleConverterKind.RegSub, "RSs", SampleType.Str, "regsub(REGEX,SUBST[,FLAGS])"),
        new("ipmask", SampleConverterKind.IpMask, "Ss", SampleType.Ip, "ipmask(MASK4[,MASK6])"),
        new("concat", SampleConverterKind.Concat, "sss", SampleType.Str, "concat([START],[VARIABLE],[END])"),
        new("add", SampleConverterKind.Add, "V", SampleType.Int, "add(VALUE|VARIABLE)"),
        new("sub", SampleConverterKind.Sub, "V", SampleType.Int, "sub(VALUE|VARIABLE)"),
        new("mul", SampleConverterKind.Mul, "V", SampleType.Int, "mul(VALUE|VARIABLE)"),
        new("div", SampleConverterKind.Div, "V", SampleType.Int, "div(VALUE|VARIABLE)"),
        new("mod", SampleConverterKind.Mod, "V", SampleType.Int, "mod(VALUE|VARIABLE)"),
        new("sdbm", SampleConverterKind.Sdbm, "i", SampleType.Int, "sdbm([AVALANCHE])"),
        new("djb2", SampleConverterKind.Djb2, "i", SampleType.Int, "djb2([AVALANCHE])"),
        new("crc32", SampleConverterKind.Crc32, "i", SampleType.Int, "crc32([AVALANCHE])"),
        new("wt6", SampleConverterKind.Wt6, "i", SampleType.Int, "wt6([AVALANCHE])"),
        new("url_dec", SampleConverterKind.UrlDec, "i", SampleType.Str, "url_dec([IN_FORM])"),
        new("length", SampleConverterKind.Length, "", SampleType.Int, "length"),
        // 7.3.1 "capture-req(ID)", "capture-res(ID)": the string into capture slot ID, and on unchanged.
        new("capture-req", SampleConverterKind.CaptureReq, "I", SampleType.Str, "capture-req(ID)"),
        new("capture-res", SampleConverterKind.CaptureRes, "I", SampleType.Str, "capture-res(ID)"),
        // 7.3.1 "set-var(<var>[,<cond>...])": at most four conditions (HAProxy's converters take five arguments).
        new("set-var", SampleConverterKind.SetVar, "Sssss", SampleType.Any, "set-var(VARIABLE[,CONDITION...])"),
    ];

    private static readonly Dictionary<string, SampleFetchDef> Fetches = Index([.. FetchTable, .. StickFetchDefs()], f => f.Name);
    private static readonly Dictionary<string, SampleConverterDef> Converters = Index([.. ConverterTable, .. StickConverterDefs()], c => c.Name);

    /// <summary>
    /// 7.3.3: `sc_X(CTR[,TABLE])`, `sc0_X([TABLE])`..`sc2_X`, `src_X([TABLE])` for each X of
    /// Proxy.Shared.Tables.StickFetches, and `table_avl([TABLE])`, `table_cnt([TABLE])`. Layer 4: usable in
    /// `tcp-request connection` rules.
    /// </summary>
    private static IEnumerable<SampleFetchDef> StickFetchDefs()
    {
        foreach (var (suffix, _, op) in Tables.StickFetches.Table)
        {
            var type = op == Tables.StickFetchOp.Tracked ? SampleType.Bool : SampleType.Int;
            yield return new($"sc_{suffix}", SampleFetchKind.StickCounter, "Is", type, SampleNeeds.Connection, $"sc_{suffix}(CTR[,TABLE])");
            for (int c = 0; c < 3; c++)
                yield return new($"sc{c}_{suffix}", SampleFetchKind.StickCounter, "s", type, SampleNeeds.Connection, $"sc{c}_{suffix}([TABLE])");
            if (op != Tables.StickFetchOp.Tracked)
                yield return new($"src_{suffix}", SampleFetchKind.StickSource, "s", type, SampleNeeds.Connection, $"src_{suffix}([TABLE])");
        }
        yield return new("table_avl", SampleFetchKind.TableAvl, "s", SampleType.Int, SampleNeeds.Connection, "table_avl([TABLE])");
        yield return new("table_cnt", SampleFetchKind.TableCnt, "s", SampleType.Int, SampleNeeds.Connection, "table_cnt([TABLE])");
    }

    /// <summary>7.3.1 `table_X(TABLE)`: the input sample is looked up as a key of TABLE.</summary>
    private static IEnumerable<SampleConverterDef> StickConverterDefs()
    {
        foreach (var (suffix, _, _) in Tables.StickFetches.Converters)
            yield return new($"table_{suffix}", SampleConverterKind.StickTable, "S", SampleType.Int, $"table_{suffix}(TABLE)");
    }

    private static Dictionary<string, T> Index<T>(T[] table, Func<T, string> name)
    {
        var d = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var e in table) d.Add(name(e), e);
        return d;
    }

    public static SampleFetchDef? Fetch(string name) => Fetches.GetValueOrDefault(name);

    public static SampleConverterDef? Converter(string name) => Converters.GetValueOrDefault(name);

    /// <summary>The map converters (7.3.1 "map"): `map`, `map_MATCH` and `map_MATCH_OUTPUT`; false for any other name.</summary>
    public static bool TryMapConverter(string name, out PatternMatch match, out SampleType output)
    {
        match = PatternMatch.Str;
        output = SampleType.Str;
        if (name == "map") return true;
        if (!name.StartsWith("map_", StringComparison.Ordinal)) return false;
        var parts = name[4..].Split('_');
        if (parts.Length > 2 || !TryMatch(parts[0], out match) || match is PatternMatch.Len or PatternMatch.Found or PatternMatch.Bool) return false;
        if (parts.Length == 2)
        {
            switch (parts[1])
            {
                case "str": output = SampleType.Str; break;
                case "int": output = SampleType.Int; break;
                case "ip": output = SampleType.Ip; break;
                default: return false;
            }
        }
        return true;
    }

    /// <summary>A matching method by its name in `-m NAME` (7.1.1 "Matching methods").</summary>
    public static bool TryMatch(string name, out PatternMatch match)
    {
        match = name switch
        {
            "str" => PatternMatch.Str, "beg" => PatternMatch.Beg, "end" => PatternMatch.End, "sub" => PatternMatch.Sub,
            "reg" => PatternMatch.Reg, "dom" => PatternMatch.Dom, "dir" => PatternMatch.Dir, "len" => PatternMatch.Len,
            "found" => PatternMatch.Found, "int" => PatternMatch.Int, "ip" => PatternMatch.Ip, "bool" => PatternMatch.Bool,
            _ => (PatternMatch)255,
        };
        return match != (PatternMatch)255;
    }
}
