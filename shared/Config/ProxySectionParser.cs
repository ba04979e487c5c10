namespace Proxy.Shared.Config;

/// <summary>
/// Keyword lines of `defaults`, `frontend`, `backend` and `listen` sections (doc/configuration.txt
/// section 4). Which section may hold which keyword follows HAProxy's table in section 4.1, where a
/// listen section has both the frontend and the backend capabilities. As in HAProxy (its warnifnotcap), a
/// keyword written in a proxy that lacks the capability it needs is a warning and has no effect, never an error;
/// only a defaults section refuses what it cannot hold.
/// </summary>
/// <param name="bufSize">`tune.bufsize` as read so far, the size limit of the files a proxy names</param>
internal sealed partial class ProxySectionParser(ConfigDiagnostics diag, HostResolver resolver, Func<int> bufSize)
{
    private const ProxyCapabilities D = ProxyCapabilities.Defaults;
    private const ProxyCapabilities F = ProxyCapabilities.Frontend;
    private const ProxyCapabilities B = ProxyCapabilities.Backend;

    // HAProxy 4.1 "Proxy keywords matrix" for the keywords implemented here.
    internal static readonly Dictionary<string, ProxyCapabilities> KeywordSections = new(StringComparer.Ordinal)
    {
        ["mode"] = D | F | B,
        ["bind"] = F,
        ["default_backend"] = D | F,
        ["server"] = B,
        ["default-server"] = D | B,
        ["server-template"] = B,
        ["balance"] = D | B,
        ["hash-type"] = D | B,
        ["maxconn"] = D | F,
        ["timeout"] = D | F | B,
        ["retries"] = D | B,
        ["option"] = D | F | B,
        ["no"] = D | F | B,
        ["log"] = D | F | B,
        ["acl"] = D | F | B,           // defaults: named ones only (4.1 "(!)"), checked below
        ["use_backend"] = F,
        ["http-request"] = D | F | B,  // defaults: named ones only, as acl
        ["http-response"] = D | F | B,
        ["http-after-response"] = D | F | B,
        ["errorfile"] = D | F | B,
        ["errorfiles"] = D | F | B,
        ["redirect"] = F | B,           // 4.4: not in defaults
        ["monitor-uri"] = D | F,
        ["monitor"] = F,
        ["errorloc"] = D | F | B,
        ["errorloc302"] = D | F | B,
        ["errorloc303"] = D | F | B,
        ["http-check"] = D | B,
        ["tcp-check"] = D | B,
        ["tcp-request"] = F | B,        // `connection` and `session` need a frontend (TcpRequestParser); `content` and `inspect-delay` run in backends too
        ["compression"] = D | F | B,
        ["stats"] = D | F | B,
        ["log-format"] = D | F,
        ["log-format-sd"] = D | F,
        ["unique-id-format"] = D | F,
        ["unique-id-header"] = D | F,
        ["capture"] = F,
        ["declare"] = F | B,            // `declare capture` (4.2): an error in a backend, as HAProxy (LogFormatKeywordParser)
        ["stick-table"] = F | B,
        ["cookie"] = D | B,
        ["force-persist"] = B,
        ["ignore-persist"] = B,
        ["use-server"] = B,
        ["hash-balance-factor"] = D | B,
        ["stick"] = B,
        ["persist"] = D | B,
        ["dynamic-cookie-key"] = D | B,
        ["http-reuse"] = D | B,
        ["tcp-response"] = B,
    };

    // `timeout` kinds and where each one applies (4.2 "timeout ...").
    internal static readonly Dictionary<string, (TimeoutKind Kind, ProxyCapabilities Sections)> TimeoutKinds = new(StringComparer.Ordinal)
    {
        ["connect"] = (TimeoutKind.Connect, D | B),
        ["client"] = (TimeoutKind.Client, D | F),
        ["server"] = (TimeoutKind.Server, D | B),
        ["queue"] = (TimeoutKind.Queue, D | B),
        ["check"] = (TimeoutKind.Check, D | B),
        ["http-request"] = (TimeoutKind.HttpRequest, D | F | B),
        ["http-keep-alive"] = (TimeoutKind.HttpKeepAlive, D | F | B),
        ["tunnel"] = (TimeoutKind.Tunnel, D | B),
        ["tarpit"] = (TimeoutKind.Tarpit, D | F | B),
    };
    private static readonly HashSet<string> UnsupportedTimeouts = ["client-fin", "server-fin", "client-hs"];


    private readonly ServerLineParser _servers = new(diag, resolver);
    private readonly AclParser _acls = new(diag);
    private readonly BalanceParser _balance = new(diag);
    private readonly HttpCheckParser _httpCheck = new(diag);
    private readonly TcpCheckParser _tcpCheck = new(diag);
    private HttpKeywordParser? _http;
    private readonly CompressionParser _compression = new(diag);
    private PersistenceParser? _persistence;
    internal PersistenceParser Persistence => _persistence ??= new PersistenceParser(diag, _acls);
    private StatsPageParser? _stats;
    private ProxyExtrasParser? _extras;

    private ProxyExtrasParser Extras => _extras ??= new ProxyExtrasParser(diag, _servers);

    internal HttpKeywordParser Http => _http ??= new HttpKeywordParser(diag, _acls, bufSize);
    private LogFormatKeywordParser? _logFormats;
    private TcpResponseParser? _tcpResponse;
    private TcpRequestParser? _tcpRequest;
    private TcpRequestParser TcpRequest => _tcpRequest ??= new TcpRequestParser(diag, _acls, () => Http);
    private LogFormatKeywordParser LogFormats => _logFormats ??= new LogFormatKeywordParser(diag, _acls.Samples);

    /// <summary>The `userlist` sections (read before the proxies), for `http_auth(NAME)` and `http_auth_group(NAME)`.</summary>
    public IReadOnlyDictionary<string, UserListConfig> UserLists { set => _acls.Samples.UserLists = value; }

    /// <summary>The TLS keywords' parser, whose globals (`crt-base`, `ssl-default-bind-*`) a `bind ... ssl` starts from.</summary>
    public TlsParser Tls
    {
        get => _tls ??= new TlsParser(diag);
        init { _tls = value; _servers.Tls = value; }
    }
    private TlsParser? _tls;

    /// <summary>Whether <paramref name="keyword"/> is a proxy keyword implemented here (for "not allowed in global").</summary>
    public static bool IsProxyKeyword(string keyword) => KeywordSections.ContainsKey(keyword) && keyword is not "maxconn" and not "log" and not "stats";

    public void ParseLine(ProxyDraft proxy, ConfigLine line)
    {
        var keyword = line.Keyword;
        if (!KeywordSections.TryGetValue(keyword, out var sections))
        {
            ReportOther(proxy, line);
            return;
        }
        if (!Allows(proxy, sections))
        {
            ReportMisplaced(diag, proxy, line.Number, keyword, sections);
            return;
        }
        var w = line.Words;
        int n = line.Number;
        switch (keyword)
        {
            case "mode":
                if (!LineChecks.Exactly(diag, line, 1, "mode tcp|http")) break;
                if (w[1] == "tcp") proxy.Mode = ProxyMode.Tcp;
                else if (w[1] == "http") proxy.Mode = ProxyMode.Http;
                else if (w[1] is "log" or "spop") diag.Error(n, $"'mode {w[1]}' is not supported yet");
                else diag.Error(n, $"'mode': expected tcp or http, got {ConfigDiagnostics.Quote(w[1])}");
                break;
            case "bind":
                ParseBind(proxy, line);
                break;
            case "default_backend":
                if (LineChecks.Exactly(diag, line, 1, "default_backend BACKEND"))
                {
                    proxy.DefaultBackend = w[1];
                    proxy.DefaultBackendLocation = diag.At(n);
                }
                break;
            case "server":
                _servers.ParseServer(proxy, line);
                break;
            case "default-server":
                _servers.ParseDefaultServer(proxy, line);
                break;
            case "server-template":
                _servers.ParseServerTemplate(proxy, line);
                break;
            case "balance":
                _balance.ParseBalance(proxy, line);
                break;
            case "hash-type":
                _balance.ParseHashType(proxy, line);
                break;
            case "maxconn":
                // `maxconn N` (frontend): concurrent connections this frontend accepts; default: global maxconn.
                if (LineChecks.Exactly(diag, line, 1, "maxconn NUMBER") && LineChecks.TryInt(diag, n, "maxconn", w[1], 1, int.MaxValue, out int maxConn))
                    proxy.MaxConn = maxConn;
                break;
            case "timeout":
                ParseTimeout(proxy, line);
                break;
            case "http-reuse":
                // `http-reuse never|safe|aggressive|always` (4.2): idle server connections shared between sessions.
                if (LineChecks.Exactly(diag, line, 1, "http-reuse never|safe|aggressive|always"))
                {
                    HttpReuseMode? reuse = w[1] switch
                    {
                        "never" => HttpReuseMode.Never, "safe" => HttpReuseMode.Safe,
                        "aggressive" => HttpReuseMode.Aggressive, "always" => HttpReuseMode.Always, _ => null,
                    };
                    if (reuse is { } mode) proxy.HttpReuse = mode;
                    else diag.Error(n, $"'http-reuse' expects 'never', 'safe', 'aggressive' or 'always', got {ConfigDiagnostics.Quote(w[1])}");
                }
                break;
            case "retries":
                // `retries N`: connection attempts to a server after the first fails.
                if (LineChecks.Exactly(diag, line, 1, "retries NUMBER") && LineChecks.TryInt(diag, n, "retries", w[1], 0, 1000, out int retries))
                    proxy.Retries = retries;
                break;
            case "option":
                ParseOption(proxy, line, negated: false);
                break;
            case "no":
                if (w.Count >= 2 && w[1] == "option")
                    ParseOption(proxy, line, negated: true);
                else if (w.Count >= 2 && w[1] == "log")
                {
                    // `no log` (4.2 "log"): the proxy logs nothing, its defaults' targets and `log global` dropped.
                    if (!LineChecks.Exactly(diag, line, 0, "no log", keywordWords: 2)) break;
                    proxy.Logs.Clear();
                    proxy.LogGlobal = false;
                }
                else
                    diag.Error(n, $"'no': expected 'no option NAME', got {ConfigDiagnostics.Quote(string.Join(' ', w))}");
                break;
            case "log":
                if (w.Count >= 2 && w[1] == "global")
                {
                    // `log global`: use the global section's log targets too.
                    if (LineChecks.Exactly(diag, line, 1, "log global"))
                        proxy.LogGlobal = true;
                }
                else if (LogLineParser.Parse(diag, line) is { } log)
                    proxy.Logs.Add(log);
                break;
            case "acl" or "http-request" or "http-response" or "http-after-response" when proxy.Capabilities == ProxyCapabilities.Defaults && proxy.Name.Length == 0:
                // 4.2 "http-request": "only available from named defaults sections, not anonymous ones".
                diag.Error(n, $"'{keyword}' is only allowed in a named defaults section (defaults NAME), not an anonymous one");
                break;
            case "acl":
                // In a frontend, an ACL on a layer-4 criterion (`src`) serves `tcp-request connection` in any mode;
                // elsewhere, and for the other criteria, ACLs are used only by `mode http` rules.
                if (_acls.ParseAclLine(proxy, line) is { } acl && !(proxy.IsFrontend && (AclParser.IsLayer4(acl) || acl.Expr.Needs == SampleNeeds.Payload)))
                    proxy.FirstHttpOnlyKeyword ??= (n, "acl");
                break;
            case "use_backend":
                // In tcp mode too (4.2 "use_backend"), on layer-4 facts and the client's first bytes (`req.ssl_sni`).
                int rulesBefore = proxy.UseBackends.Count;
                Http.ParseUseBackend(proxy, line);
                if (proxy.UseBackends.Count > rulesBefore && AclParser.FirstHttpAcl(proxy.UseBackends[^1].Condition) is { } httpAcl)
                    proxy.FirstHttpOnlyKeyword ??= (n, $"use_backend with {AclParser.Describe(httpAcl)}");
                break;
            case "http-request":
            case "http-response":
                Http.ParseHeaderRule(proxy, line);
                break;
            case "http-after-response":
                Http.ParseAfterResponse(proxy, line);
                break;
            case "redirect":
                Http.ParseRedirectKeyword(proxy, line);
                break;
            case "monitor-uri":
            case "monitor":
                Http.ParseMonitor(proxy, line);
                break;
            case "errorloc" or "errorloc302" or "errorloc303":
                Http.ParseErrorLoc(proxy, line);
                if (proxy.Capabilities != ProxyCapabilities.Defaults) proxy.FirstHttpOnlyKeyword ??= (n, keyword);
                break;
            case "errorfiles":
                Http.ParseErrorFiles(proxy, line);
                if (proxy.Capabilities != ProxyCapabilities.Defaults) proxy.FirstHttpOnlyKeyword ??= (n, keyword);
                break;
            case "errorfile":
                Http.ParseErrorFile(proxy, line);
                if (proxy.Capabilities != ProxyCapabilities.Defaults) proxy.FirstHttpOnlyKeyword ??= (n, "errorfile");
                break;
            case "http-check":
                _httpCheck.ParseHttpCheck(proxy, line);
                break;
            case "tcp-check":
                _tcpCheck.ParseTcpCheck(proxy, line);
                break;
            case "tcp-request":
                TcpRequest.Parse(proxy, line);
                break;
            case "tcp-response":
                (_tcpResponse ??= new TcpResponseParser(diag, _acls)).Parse(proxy, line);
                break;
            case "compression":
                _compression.Parse(proxy, line);
                break;
            case "stats":
                (_stats ??= new StatsPageParser(diag, _acls)).Parse(proxy, line);
                break;
            case "log-format":
            case "log-format-sd":
            case "unique-id-format":
            case "unique-id-header":
            case "capture":
            case "declare":
                LogFormats.Parse(proxy, line);
                break;
            case "stick-table":
                StickTableParser.Parse(diag, proxy, line);
                break;
            case "cookie":
                Persistence.ParseCookie(proxy, line);
                break;
            case "force-persist":
            case "ignore-persist":
                Persistence.ParsePersistRule(proxy, line);
                break;
            case "use-server":
                Persistence.ParseUseServer(proxy, line);
                break;
            case "hash-balance-factor":
                _balance.ParseHashBalanceFactor(proxy, line);
                break;
            case "stick":
                StickRuleParser.Parse(diag, _acls, proxy, line);
                break;
            case "persist":
                Persistence.ParsePersistRdpCookie(proxy, line);
                break;
            case "dynamic-cookie-key":
                Persistence.ParseDynamicCookieKey(proxy, line);
                break;
        }
    }

    /// <summary>Defaults sections take every keyword flagged D; proxies those sharing one of their capabilities.</summary>
    internal static bool Allows(ProxyDraft proxy, ProxyCapabilities sections) =>
        proxy.Capabilities == ProxyCapabilities.Defaults
            ? (sections & ProxyCapabilities.Defaults) != 0
            : (sections & proxy.Capabilities) != 0;

    /// <summary>
    /// A keyword outside the sections it belongs to: in a frontend or backend, HAProxy's warning ("'KEYWORD' ignored
    /// because PROXY has no CAP capability") and no effect; in a defaults section, an error (HAProxy refuses those).
    /// </summary>
    internal static void ReportMisplaced(ConfigDiagnostics diag, ProxyDraft proxy, int line, string keyword, ProxyCapabilities sections)
    {
        if (proxy.Capabilities == ProxyCapabilities.Defaults)
        {
            diag.Error(line, $"'{keyword}' is not allowed in {SectionName(proxy)} section");
            return;
        }
        string missing = (sections & ProxyCapabilities.Backend) != 0 && !proxy.IsBackend ? "backend" : "frontend";
        diag.Warning(line, $"'{keyword}' has no effect in {KindName(proxy)} '{proxy.Name}', which has no {missing} capability: ignored");
    }

    private static string KindName(ProxyDraft proxy) => proxy.Capabilities switch
    {
        ProxyCapabilities.Frontend => "frontend",
        ProxyCapabilities.Backend => "backend",
        _ => "listen",
    };

    public static string SectionName(ProxyDraft proxy) => proxy.Capabilities switch
    {
        ProxyCapabilities.Defaults => "a defaults",
        ProxyCapabilities.Frontend => "a frontend",
        ProxyCapabilities.Backend => "a backend",
        _ => "a listen",
    };

    /// <summary>`bind ADDR:PORT[,ADDR:PORT...] [options]`: `accept-proxy` (5.1) is the one option supported yet, any other is an error.</summary>
    private void ParseBind(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        proxy.HasBindLine = true;
        if (w.Count < 2 || w[1].Length == 0)
        {
            diag.Error(line.Number, "'bind': missing address, expected 'bind ADDRESS:PORT[,ADDRESS:PORT...]'");
            return;
        }
        var location = diag.At(line.Number);
        var binds = AddressParser.ParseBind(w[1], location, resolver, m => diag.Error(location, m));
        bool acceptProxy = false;
        var tls = Tls.NewBindDraft();
        UnixSocketFile? unixFile = null;
        int? backlog = null;
        for (int i = 2; i < w.Count; i++)
        {
            if (w[i] == "accept-proxy")
            {
                acceptProxy = true;
                continue;
            }
            if (w[i] == "backlog" && i + 1 < w.Count)
            {
                // 5.1 "backlog": this listener's listen(2) queue (BindExtras checks the number).
                int at = i;
                BindExtras.TryParse(diag, line, ref i);
                if (IntValue.TryParse(w[at + 1], out int queue) && queue > 0) backlog = queue;
                continue;
            }
            if (UnixBindOptions.IsOption(w[i]))
            {
                var file = unixFile ?? new UnixSocketFile(null, null, null, null, null);
                if (!UnixBindOptions.TryParse(diag, line, ref i, ref file)) break;
                unixFile = file;
                continue;
            }
            if (TlsParser.IsBindOption(w[i]))
            {
                if (!Tls.ParseBindOption(tls, line, ref i)) break;
                continue;
            }
            if (BindExtras.TryParse(diag, line, ref i)) continue;
            diag.Error(line.Number, KnownKeywords.BindOptions.Contains(w[i])
                ? $"'bind': option '{w[i]}' is not supported yet"
                : $"'bind': unknown option {ConfigDiagnostics.Quote(w[i])}");
            if (KnownKeywords.BindOptions.Contains(w[i]) && i + 1 < w.Count && !KnownKeywords.BindOptions.Contains(w[i + 1]))
                i++;                           // skip the option's value, to report the next option and not its value
        }
        var tlsBind = Tls.BuildBind(tls, line.Number);
        // HAProxy applies them to UNIX sockets only (5.1 "mode": "UNIX sockets only"); elsewhere they change nothing.
        if (unixFile is not null && binds.Any(b => b.UnixPath is null || UnixAddress.IsAbstract(b.UnixPath)))
            diag.Warning(line.Number, "'bind': mode, uid, gid, user and group apply to a UNIX socket file only; ignored for the other addresses of this line");
        foreach (var b in binds) proxy.Binds.Add(b with { AcceptProxy = acceptProxy, Tls = tlsBind, Backlog = backlog, UnixFile = b.UnixPath is null ? null : unixFile });
    }

    /// <summary>`timeout KIND TIME`, milliseconds when no unit is given.</summary>
    private void ParseTimeout(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (w.Count < 2)
        {
            diag.Error(line.Number, "'timeout': missing argument, expected 'timeout connect|client|server|queue|check|http-request|http-keep-alive|tunnel TIME'");
            return;
        }
        var keyword = "timeout " + w[1];
        if (Extras.TryParseTimeout(proxy, line)) return;
        if (!TimeoutKinds.TryGetValue(w[1], out var entry))
        {
            diag.Error(line.Number, UnsupportedTimeouts.Contains(w[1])
                ? $"'{keyword}' is not supported yet"
                : $"'timeout': unknown timeout {ConfigDiagnostics.Quote(w[1])} (expected connect, client, server, queue, check, http-request, http-keep-alive, tunnel or tarpit)");
            return;
        }
        if (!Allows(proxy, entry.Sections))
        {
            ReportMisplaced(diag, proxy, line.Number, keyword, entry.Sections);
            return;
        }
        if (LineChecks.Exactly(diag, line, 1, keyword + " TIME", keywordWords: 2)
            && LineChecks.TryTime(diag, line.Number, keyword, w[2], out var value))
        {
            proxy.Timeouts[(int)entry.Kind] = value;
            // HAProxy takes both in a backend (4.1), but they time the client side: the request's headers and the idle
            // time between requests are the frontend's, so here only the frontend's value counts (its own or its defaults').
            if (entry.Kind is TimeoutKind.HttpRequest or TimeoutKind.HttpKeepAlive && proxy.Capabilities == ProxyCapabilities.Backend)
                diag.Warning(line.Number, $"'{keyword}' has no effect in backend '{proxy.Name}': the frontend's '{keyword}' times the client side");
        }
    }

    /// <summary>An unimplemented keyword: a global one, one HAProxy has but this proxy not yet, or an unknown one.</summary>
    private void ReportOther(ProxyDraft proxy, ConfigLine line)
    {
        var keyword = line.Keyword;
        if (Extras.TryParse(proxy, line)) return;
        if (KnownKeywords.UnsupportedProxy.Contains(keyword))
            diag.Error(line.Number, $"'{keyword}' is not supported yet");
        else if (GlobalSectionParser.Keywords.Contains(keyword) || TlsParser.GlobalKeywords.Contains(keyword))
            diag.Error(line.Number, $"'{keyword}' is not allowed in {SectionName(proxy)} section (it is a global keyword)");
        else
            diag.Error(line.Number, $"unknown keyword {ConfigDiagnostics.Quote(keyword)} in {SectionName(proxy)} section");
    }
}
