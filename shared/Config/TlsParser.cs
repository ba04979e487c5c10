namespace Proxy.Shared.Config;

/// <summary>
/// TLS keywords: the globals of 3.1/3.2 (`crt-base`, `ca-base`, `ssl-default-bind-*`, `ssl-default-server-*`,
/// `ssl-server-verify`, `tune.ssl.*`, `maxsslconn`, `maxsslrate`) and the `bind` options of 5.1 (`ssl`, `crt`, `crt-list`,
/// `ca-file`, `verify`, `crl-file`, `alpn`, versions, `ciphers`, `ciphersuites`, `curves`, `no-tls-tickets`, `strict-sni`,
/// `prefer-client-ciphers`). As in HAProxy the globals apply to the lines after them (a bind starts from the
/// `ssl-default-bind-*` in force at its line, a relative path from the `crt-base` / `ca-base` in force).
/// Every keyword takes effect, or is warned about at its line with the reason it cannot here: .NET's SslStream
/// (System.Net.Security over the platform OpenSSL) exposes versions, ALPN, certificates per SNI, client certificates and
/// resumption, but not OpenSSL's cipher strings, curve lists, DH parameters, record size or session cache settings.
/// </summary>
internal sealed class TlsParser(ConfigDiagnostics diag)
{
    /// <summary>The global keywords read here.</summary>
    public static readonly HashSet<string> GlobalKeywords =
    [
        "crt-base", "ca-base", "ssl-default-bind-options", "ssl-default-bind-ciphers", "ssl-default-bind-ciphersuites",
        "ssl-default-server-options", "ssl-default-server-ciphers", "ssl-default-server-ciphersuites", "ssl-server-verify",
        "tune.ssl.default-dh-param", "tune.ssl.cachesize", "tune.ssl.lifetime", "tune.ssl.maxrecord", "maxsslconn", "maxsslrate",
        "ssl-default-bind-curves",
    ];

    private const string NoCipherStrings =
        ".NET's SslStream takes no OpenSSL cipher string for its connections to servers (only IANA suite names, which it "
        + "cannot mix with OpenSSL's); the platform OpenSSL policy applies (Debian: /etc/ssl/openssl.cnf, SECLEVEL 2, "
        + "forward-secret suites only). On `bind` lines they take effect";

    private TlsGlobalSettings _settings = TlsGlobalSettings.Default;
    private VersionRange _bindVersions = VersionRange.Default, _serverVersions = VersionRange.Default;

    public TlsGlobalSettings Build() => _settings;

    /// <summary>The time certificates are checked against (tests pin it).</summary>
    internal Func<DateTime> Now { get; init; } = () => DateTime.UtcNow;

    /// <summary>A global TLS keyword; false when <paramref name="line"/> is not one.</summary>
    public bool TryParseGlobal(ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        switch (line.Keyword)
        {
            case "crt-base":
                if (LineChecks.Exactly(diag, line, 1, "crt-base DIRECTORY")) _settings = _settings with { CrtBase = w[1] };
                return true;
            case "ca-base":
                if (LineChecks.Exactly(diag, line, 1, "ca-base DIRECTORY")) _settings = _settings with { CaBase = w[1] };
                return true;
            case "ssl-default-bind-options":
            case "ssl-default-server-options":
            {
                bool bind = line.Keyword == "ssl-default-bind-options";
                var range = bind ? _bindVersions : _serverVersions;
                var options = bind ? _settings.DefaultBind : _settings.DefaultServer;
                for (int i = 1; i < w.Count; i++)
                {
                    if (TryParseVersionOption(n, line.Keyword, w, ref i, ref range)) continue;
                    switch (w[i])
                    {
                        case "no-tls-tickets": options = options with { NoTlsTickets = true }; break;
                        case "prefer-client-ciphers" when bind: options = options with { PreferClientCiphers = true }; break;
                        case "strict-sni" when bind: _settings = _settings with { DefaultStrictSni = true }; break;
                        default: diag.Error(n, $"'{line.Keyword}': unknown or unsupported option {ConfigDiagnostics.Quote(w[i])}"); break;
                    }
                }
                if (range.Versions == TlsVersions.None) diag.Error(n, $"'{line.Keyword}': no protocol version is left enabled");
                options = options with { Versions = range.Versions };
                if (bind) { _bindVersions = range; _settings = _settings with { DefaultBind = options }; }
                else { _serverVersions = range; _settings = _settings with { DefaultServer = options }; }
                return true;
            }
            case "ssl-default-bind-ciphers":
            case "ssl-default-server-ciphers":
                if (!LineChecks.Exactly(diag, line, 1, $"{line.Keyword} CIPHERS")) return true;
                if (line.Keyword.Contains("-server-")) diag.Warning(n, $"'{line.Keyword}' has no effect here: {NoCipherStrings}");
                else if (!CheckList(n, line.Keyword, "ciphers", w[1])) return true;
                SetDefault(line.Keyword.Contains("-bind-"), o => o with { Ciphers = w[1] });
                return true;
            case "ssl-default-bind-ciphersuites":
            case "ssl-default-server-ciphersuites":
                if (!LineChecks.Exactly(diag, line, 1, $"{line.Keyword} CIPHERSUITES")) return true;
                if (line.Keyword.Contains("-server-")) diag.Warning(n, $"'{line.Keyword}' has no effect here: {NoCipherStrings}");
                else if (!CheckList(n, line.Keyword, "ciphersuites", w[1])) return true;
                SetDefault(line.Keyword.Contains("-bind-"), o => o with { CipherSuites = w[1] });
                return true;
            case "ssl-default-bind-curves":
                if (LineChecks.Exactly(diag, line, 1, $"{line.Keyword} CURVES") && CheckList(n, line.Keyword, "curves", w[1]))
                    SetDefault(true, o => o with { Curves = w[1] });
                return true;

            case "ssl-server-verify":
                if (!LineChecks.Exactly(diag, line, 1, "ssl-server-verify none|required")) return true;
                if (w[1] == "none") _settings = _settings with { ServerVerify = TlsVerify.None };
                else if (w[1] == "required") _settings = _settings with { ServerVerify = TlsVerify.Required };
                else diag.Error(n, $"'ssl-server-verify': expected none or required, got {ConfigDiagnostics.Quote(w[1])}");
                return true;
            case "tune.ssl.default-dh-param":
                if (LineChecks.Exactly(diag, line, 1, "tune.ssl.default-dh-param NUMBER") && LineChecks.TryInt(diag, n, line.Keyword, w[1], 1024, 16384, out _))
                    diag.Warning(n, "'tune.ssl.default-dh-param' has no effect here: .NET's SslStream sets no DH parameters, so no DHE suite is offered (ECDHE only, which testssl.sh rates better)");
                return true;
            case "tune.ssl.cachesize":
                if (LineChecks.Exactly(diag, line, 1, "tune.ssl.cachesize NUMBER") && LineChecks.TryInt(diag, n, line.Keyword, w[1], 0, int.MaxValue, out int size))
                    _settings = _settings with { SessionCacheSize = size };
                return true;
            case "tune.ssl.lifetime":
                // HAProxy reads it in seconds by default (parse_time_err with TIME_UNIT_S).
                if (LineChecks.Exactly(diag, line, 1, "tune.ssl.lifetime TIME") && LineChecks.TryTime(diag, n, line.Keyword, SecondsByDefault(w[1]), out var lifetime))
                    _settings = _settings with { SessionLifetimeSeconds = (int)Math.Clamp(lifetime.TotalSeconds, 0, int.MaxValue) };
                return true;
            case "tune.ssl.maxrecord":
                if (LineChecks.Exactly(diag, line, 1, "tune.ssl.maxrecord SIZE") && LineChecks.TryInt(diag, n, line.Keyword, w[1], 0, 16384, out int record))
                    _settings = _settings with { MaxRecord = record };
                return true;
            case "maxsslconn":
            case "maxsslrate":
                if (LineChecks.Exactly(diag, line, 1, $"{line.Keyword} NUMBER") && LineChecks.TryInt(diag, n, line.Keyword, w[1], 0, int.MaxValue, out int limit))
                    _settings = line.Keyword == "maxsslconn" ? _settings with { MaxSslConn = limit } : _settings with { MaxSslRate = limit };
                return true;
            default:
                return false;
        }
    }

    /// <summary>A bare number is seconds (HAProxy's unit for `tune.ssl.lifetime`); a suffixed one keeps its unit.</summary>
    private static string SecondsByDefault(string text) => text.Length > 0 && char.IsAsciiDigit(text[^1]) ? text + "s" : text;

    /// <summary>
    /// `tls-ticket-keys FILE` (5.1): one base64 key a line, 48 or 80 bytes, all the same size, at least 3 (HAProxy's
    /// TLS_TICKETS_NO), as `haproxy -c` requires; null after an error (reported at the bind's line).
    /// </summary>
    private List<byte[]>? LoadTicketKeys(SourceLocation at, string path)
    {
        if (BoundedFileReader.TryRead(path, 1 << 20, "the ticket key file size limit", allowFifo: false, out byte[] bytes) is { } error)
        {
            diag.Error(at, $"'bind tls-ticket-keys': cannot read {ConfigDiagnostics.Quote(path)}: {error}");
            return null;
        }
        var keys = new List<byte[]>();
        int lineNumber = 0;
        foreach (var raw in System.Text.Encoding.ASCII.GetString(bytes).Split('\n'))
        {
            lineNumber++;
            var text = raw.Trim();
            if (text.Length == 0) continue;
            byte[] key;
            try
            {
                key = Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                diag.Error(at, $"'bind tls-ticket-keys': {ConfigDiagnostics.Quote(path)} line {lineNumber}: not base64");
                return null;
            }
            if (key.Length is not (48 or 80) || (keys.Count > 0 && key.Length != keys[0].Length))
            {
                diag.Error(at, $"'bind tls-ticket-keys': {ConfigDiagnostics.Quote(path)}: wrong sized key on line {lineNumber} (48 or 80 bytes, all alike)");
                return null;
            }
            keys.Add(key);
        }
        if (keys.Count >= 3) return keys;
        diag.Error(at, $"'bind tls-ticket-keys': {ConfigDiagnostics.Quote(path)}: please supply at least 3 keys (found {keys.Count})");
        return null;
    }

    private void SetDefault(bool bind, Func<TlsOptions, TlsOptions> change) =>
        _settings = bind ? _settings with { DefaultBind = change(_settings.DefaultBind) } : _settings with { DefaultServer = change(_settings.DefaultServer) };

    /// <summary>A TLS list OpenSSL must take (OpenSslListCheck); false after the error at line <paramref name="n"/>.</summary>
    private bool CheckList(int n, string keyword, string kind, string value)
    {
        if (OpenSslListCheck.Check(kind, value) is not { } error) return true;
        diag.Error(n, $"'{keyword}': {error}");
        return false;
    }

    /// <summary>Whether <paramref name="option"/> is a TLS `bind` option (5.1), so the bind parser hands it here.</summary>
    public static bool IsBindOption(string option) => option is "ssl" or "crt" or "crt-list" or "ca-file" or "verify" or "crl-file"
        or "alpn" or "no-alpn" or "npn" or "ssl-min-ver" or "ssl-max-ver" or "no-sslv3" or "no-tlsv10" or "no-tlsv11" or "no-tlsv12"
        or "no-tlsv13" or "force-sslv3" or "force-tlsv10" or "force-tlsv11" or "force-tlsv12" or "force-tlsv13" or "ciphers"
        or "ciphersuites" or "curves" or "no-tls-tickets" or "strict-sni" or "prefer-client-ciphers" or "tls-ticket-keys"
        or "sigalgs" or "client-sigalgs" or "ecdhe" or "no-ca-names" or "allow-0rtt";

    /// <summary>
    /// Reads one TLS `bind` option at <paramref name="i"/> (advancing past its value) into <paramref name="draft"/>.
    /// Returns false after an error that leaves the rest of the line unreadable.
    /// </summary>
    public bool ParseBindOption(BindTlsDraft draft, ConfigLine line, ref int i)
    {
        var w = line.Words;
        int n = line.Number;
        var at = diag.At(n);
        var option = w[i];
        if (TryParseVersionOption(n, "bind", w, ref i, ref draft.Versions)) return true;
        switch (option)
        {
            case "ssl": draft.Ssl = true; return true;
            case "no-tls-tickets": draft.Options = draft.Options with { NoTlsTickets = true }; return true;
            case "strict-sni": draft.StrictSni = true; return true;
            case "prefer-client-ciphers": draft.Options = draft.Options with { PreferClientCiphers = true }; return true;
            case "no-alpn": draft.Alpn = []; return true;
            case "no-ca-names":
                diag.Warning(n, "'bind no-ca-names' has no effect here: .NET's SslStream sends no CA names in its certificate request anyway");
                return true;
            case "allow-0rtt":
                diag.Warning(n, "'bind allow-0rtt' has no effect here: .NET's SslStream does not accept TLS 1.3 early data");
                return true;
        }
        if (i + 1 >= w.Count)
        {
            diag.Error(n, $"'bind': option '{option}' needs a value");
            return false;
        }
        var value = w[++i];
        switch (option)
        {
            case "crt":
                draft.Certificates.AddRange(CertificateLoader.LoadCrt(diag, at, "bind crt", Based(_settings.CrtBase, value), [], Now()));
                draft.HasCrt = true;
                return true;
            case "crt-list":
                LoadCrtList(draft, at, Based(_settings.CrtBase, value));
                draft.HasCrt = true;
                return true;
            case "ca-file":
                draft.CaFile = CertificateLoader.LoadCaFile(diag, at, "bind ca-file", Based(_settings.CaBase, value));
                draft.HasCaFile = true;
                return true;
            case "crl-file":
                draft.CrlFile = CertificateLoader.LoadCrlFile(diag, at, "bind crl-file", Based(_settings.CaBase, value));
                return true;
            case "verify":
                if (value == "none") draft.Verify = TlsVerify.None;
                else if (value == "optional") draft.Verify = TlsVerify.Optional;
                else if (value == "required") draft.Verify = TlsVerify.Required;
                else diag.Error(n, $"'bind verify': expected none, optional or required, got {ConfigDiagnostics.Quote(value)}");
                return true;
            case "alpn":
                draft.Alpn = ParseAlpn(n, "bind alpn", value);
                return true;
            case "npn":
                diag.Warning(n, "'bind npn' has no effect here: NPN was replaced by ALPN (RFC 7301) and .NET's SslStream does not offer it");
                return true;
            // Set on the listener's OpenSSL contexts by the worker (worker/Tls/TlsContexts.cs), checked here as OpenSSL takes them.
            case "ciphers":
            case "ciphersuites":
            case "curves":
            case "ecdhe":
            case "sigalgs":
            case "client-sigalgs":
                if (!CheckList(n, "bind " + option, option, value)) return true;
                draft.Options = option switch
                {
                    "ciphers" => draft.Options with { Ciphers = value },
                    "ciphersuites" => draft.Options with { CipherSuites = value },
                    "curves" or "ecdhe" => draft.Options with { Curves = value },
                    "sigalgs" => draft.Options with { Sigalgs = value },
                    _ => draft.Options with { ClientSigalgs = value },
                };
                return true;
            case "tls-ticket-keys":
                draft.TicketKeys = LoadTicketKeys(at, value);
                return true;
        }
        diag.Error(n, $"'bind': option '{option}' is not supported yet");
        return false;
    }

    /// <summary>
    /// `alpn LIST` (5.1): the comma-separated protocols offered. Only HTTP/1.x is spoken here, so a client must never be
    /// told `h2` (it would then send an HTTP/2 preface to an HTTP/1.1 parser): other names are dropped with a warning.
    /// </summary>
    private List<string> ParseAlpn(int n, string keyword, string value)
    {
        var kept = new List<string>();
        foreach (var name in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (name is "http/1.1" or "http/1.0") kept.Add(name);
            else diag.Warning(n, $"'{keyword}': {ConfigDiagnostics.Quote(name)} is not offered: this proxy speaks HTTP/1.1 only (no HTTP/2 yet), and a client told {name} would then get HTTP/1.1");
        }
        return kept;
    }

    /// <summary>
    /// `crt-list FILE` (5.1): one certificate per line, `PATH [[SSLBINDCONF]] [[!]SNIFILTER ...]`; `#` comments and blank
    /// lines skipped. Filters replace the certificate's own names; negative filters and per-line settings are not supported yet.
    /// </summary>
    private void LoadCrtList(BindTlsDraft draft, SourceLocation at, string path)
    {
        if (BoundedFileReader.TryRead(path, CertificateLoader.MaxPemBytes, "the certificate size limit", allowFifo: false, out byte[] bytes) is { } error)
        {
            diag.Error(at, $"'bind crt-list': cannot read {ConfigDiagnostics.Quote(path)}: {error}");
            return;
        }
        int lineNumber = 0;
        foreach (var raw in System.Text.Encoding.UTF8.GetString(bytes).Split('\n'))
        {
            lineNumber++;
            var text = raw.Trim();
            if (text.Length == 0 || text[0] == '#') continue;
            var words = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var filters = new List<string>();
            for (int k = 1; k < words.Length; k++)
            {
                if (words[k].StartsWith('[') || words[k].StartsWith('!'))
                {
                    diag.Error(at, $"'bind crt-list': {path}:{lineNumber}: {ConfigDiagnostics.Quote(words[k])}: per-certificate settings and negative filters are not supported yet");
                    filters = null;
                    break;
                }
                filters.Add(words[k].ToLowerInvariant());
            }
            if (filters is null) continue;
            draft.Certificates.AddRange(CertificateLoader.LoadCrt(diag, at, "bind crt-list", Based(_settings.CrtBase, words[0]), filters, Now()));
        }
    }

    /// <summary>A bind line's TLS settings, once all its options are read; null when it has no `ssl` (or after an error).</summary>
    public TlsBindConfig? BuildBind(BindTlsDraft draft, int n)
    {
        if (!draft.Ssl)
        {
            if (draft.HasCrt)
                diag.Warning(n, "'bind': certificates given without 'ssl': the listener speaks plain TCP (as in HAProxy)");
            return null;
        }
        if (draft.Certificates.Count == 0)
        {
            if (!draft.HasCrt) diag.Error(n, "'bind': 'ssl' needs at least one certificate ('crt' or 'crt-list')");
            return null;
        }
        if (draft.Versions.Versions == TlsVersions.None)
        {
            diag.Error(n, "'bind': no protocol version is left enabled (check ssl-min-ver, ssl-max-ver and no-*)");
            return null;
        }
        // HAProxy: verify defaults to none, and `verify optional|required` needs a CA to check against.
        if (draft.Verify != TlsVerify.None && draft.CaFile is null)
        {
            if (!draft.HasCaFile) diag.Error(n, $"'bind': 'verify {draft.Verify.ToString().ToLowerInvariant()}' needs 'ca-file' (the CAs client certificates are checked against)");
            return null;
        }
        if (draft.CrlFile is not null && draft.Verify == TlsVerify.None)
            diag.Warning(n, "'bind crl-file' has no effect with 'verify none': no client certificate is asked for");
        return new TlsBindConfig(draft.Certificates.ToArray(), draft.Options with { Versions = draft.Versions.Versions })
        {
            Alpn = draft.Alpn,
            Verify = draft.Verify,
            CaFile = draft.CaFile,
            CrlFile = draft.CrlFile,
            StrictSni = draft.StrictSni,
            TicketKeys = draft.TicketKeys,
        };
    }

    /// <summary>A new bind draft, starting from the `ssl-default-bind-*` in force.</summary>
    public BindTlsDraft NewBindDraft() => new()
    {
        Options = _settings.DefaultBind,
        Versions = _bindVersions,
        StrictSni = _settings.DefaultStrictSni,
    };

    /// <summary>`no-sslv3`, `no-tlsv1x`, `force-*`, `ssl-min-ver V`, `ssl-max-ver V` (5.1); false when the option is none of them.</summary>
    private bool TryParseVersionOption(int n, string keyword, IReadOnlyList<string> w, ref int i, ref VersionRange range)
    {
        var option = w[i];
        if (option.StartsWith("no-", StringComparison.Ordinal) && VersionOf(option[3..]) is { } disabled)
        {
            range = range with { Disabled = range.Disabled | disabled };
            return true;
        }
        if (option.StartsWith("force-", StringComparison.Ordinal) && VersionOf(option[6..]) is { } forced)
        {
            range = range with { Min = forced, Max = forced, Disabled = TlsVersions.None };
            return true;
        }
        if (option is not ("ssl-min-ver" or "ssl-max-ver")) return false;
        if (i + 1 >= w.Count)
        {
            diag.Error(n, $"'{keyword}': option '{option}' needs a value");
            return true;
        }
        var value = w[++i];
        TlsVersions? version = value switch
        {
            "SSLv3" => TlsVersions.SslV3,
            "TLSv1.0" => TlsVersions.TlsV10,
            "TLSv1.1" => TlsVersions.TlsV11,
            "TLSv1.2" => TlsVersions.TlsV12,
            "TLSv1.3" => TlsVersions.TlsV13,
            _ => null,
        };
        if (version is not { } v)
            diag.Error(n, $"'{keyword} {option}': expected SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3, got {ConfigDiagnostics.Quote(value)}");
        else if (option == "ssl-min-ver")
            range = range with { Min = v };
        else
            range = range with { Max = v };
        return true;
    }

    private static TlsVersions? VersionOf(string name) => name switch
    {
        "sslv3" => TlsVersions.SslV3,
        "tlsv10" => TlsVersions.TlsV10,
        "tlsv11" => TlsVersions.TlsV11,
        "tlsv12" => TlsVersions.TlsV12,
        "tlsv13" => TlsVersions.TlsV13,
        _ => null,
    };

    /// <summary>A relative path taken from the base directory (`crt-base`, `ca-base`) as HAProxy does; an absolute one as is.</summary>
    private static string Based(string? baseDir, string path) =>
        baseDir is null || path.StartsWith('/') ? path : Path.Combine(baseDir, path);
    /// <summary>Whether <paramref name="option"/> is a TLS `server` option (5.2) read here.</summary>
    public static bool IsServerOption(string option) => option is "ssl" or "no-ssl" or "verify" or "ca-file" or "crt" or "crl-file"
        or "sni" or "verifyhost" or "no-verifyhost" or "alpn" or "check-ssl" or "no-check-ssl" or "check-sni" or "no-ssl-reuse"
        or "ssl-reuse" or "ssl-min-ver" or "ssl-max-ver" or "no-sslv3" or "no-tlsv10" or "no-tlsv11" or "no-tlsv12" or "no-tlsv13"
        or "force-sslv3" or "force-tlsv10" or "force-tlsv11" or "force-tlsv12" or "force-tlsv13" or "ciphers" or "ciphersuites"
        or "no-tls-tickets" or "curves" or "sigalgs" or "client-sigalgs";

    /// <summary>The `ssl-default-server-*` a server without TLS options of its own starts from.</summary>
    public ServerTlsDraft NewServerDraft() => new() { Versions = _serverVersions, Options = _settings.DefaultServer };

    /// <summary>Reads one TLS `server` option at <paramref name="i"/> into <paramref name="draft"/>; null after an error.</summary>
    public ServerTlsDraft? ParseServerOption(ServerTlsDraft draft, string keyword, ConfigLine line, ref int i)
    {
        var w = line.Words;
        int n = line.Number;
        var option = w[i];
        var range = draft.Versions;
        if (TryParseVersionOption(n, keyword, w, ref i, ref range)) return draft with { Versions = range };
        switch (option)
        {
            case "ssl": return draft with { Ssl = true };
            case "no-ssl": return draft with { Ssl = false };
            case "no-verifyhost": return draft with { VerifyHost = null };
            case "check-ssl": return draft with { CheckSsl = true };
            case "no-check-ssl": return draft with { CheckSsl = false };
            case "no-ssl-reuse": return draft with { NoSslReuse = true };
            case "ssl-reuse": return draft with { NoSslReuse = false };
            case "no-tls-tickets": return draft with { Options = draft.Options with { NoTlsTickets = true } };
        }
        if (i + 1 >= w.Count)
        {
            diag.Error(n, $"'{keyword}': option '{option}' needs a value");
            return null;
        }
        var value = w[++i];
        var at = diag.At(n);
        switch (option)
        {
            case "verify":
                if (value == "none") return draft with { Verify = TlsVerify.None };
                if (value == "required") return draft with { Verify = TlsVerify.Required };
                diag.Error(n, $"'{keyword} verify': expected none or required, got {ConfigDiagnostics.Quote(value)}");
                return null;
            case "ca-file":
                return CertificateLoader.LoadCaFile(diag, at, keyword + " ca-file", Based(_settings.CaBase, value)) is { } ca ? draft with { CaFile = ca } : null;
            case "crl-file":
                diag.Warning(n, $"'{keyword} crl-file' has no effect here: server certificates are checked against 'ca-file' only (no revocation list)");
                return draft;
            case "crt":
                return CertificateLoader.LoadOne(diag, at, keyword + " crt", Based(_settings.CrtBase, value), [], Now()) is { } crt ? draft with { Certificate = crt } : null;
            case "sni":
            case "check-sni":
                return ParseSni(draft, n, keyword, option, value);
            case "verifyhost":
                return draft with { VerifyHost = value };
            case "alpn":
                return draft with { Alpn = ParseAlpn(n, keyword + " alpn", value) };
            case "ciphers":
            case "ciphersuites":
                diag.Warning(n, $"'{keyword} {option}' has no effect here: {NoCipherStrings}");
                return draft;
            case "curves":
            case "sigalgs":
            case "client-sigalgs":
                diag.Warning(n, $"'{keyword} {option}' has no effect here: .NET's SslStream takes no such list; OpenSSL's defaults apply");
                return draft;
        }
        diag.Error(n, $"'{keyword}': option '{option}' is not supported yet");
        return null;
    }

    /// <summary>`sni EXPR` (5.2): a sample expression; supported: `str(NAME)` and `req.hdr(host)` (and `hdr(host)`).</summary>
    private ServerTlsDraft? ParseSni(ServerTlsDraft draft, int n, string keyword, string option, string value)
    {
        if (value.StartsWith("str(", StringComparison.Ordinal) && value.EndsWith(')') && value.Length > 5)
        {
            string name = value[4..^1];
            return option == "sni" ? draft with { Sni = name, SniFromHost = false } : draft with { CheckSni = name };
        }
        if (option == "sni" && value is "req.hdr(host)" or "hdr(host)" or "req.hdr(Host)" or "hdr(Host)")
            return draft with { Sni = null, SniFromHost = true };
        if (option == "check-sni" && !value.Contains('('))
            return draft with { CheckSni = value };   // check-sni takes a plain name (5.2)
        diag.Error(n, $"'{keyword} {option}': only str(NAME){(option == "sni" ? " and req.hdr(host)" : " and a plain name")} are supported yet, got {ConfigDiagnostics.Quote(value)}");
        return null;
    }

    /// <summary>
    /// A server's TLS settings from its draft; null without `ssl` (or after an error). <paramref name="checkTls"/>: the
    /// TLS of its health checks, the same settings (with `check-sni`), when HAProxy would check it over TLS.
    /// </summary>
    /// <param name="checkOverTls">The checks would use TLS if the server had it: `check` with `check-ssl`, or with
    /// neither `port` nor `addr` (5.2 "check-ssl")</param>
    public TlsServerConfig? BuildServer(ServerTlsDraft draft, int n, string keyword, bool checkOverTls, out TlsServerConfig? checkTls)
    {
        checkTls = null;
        bool checksOverTls = checkOverTls && (draft.Ssl || draft.CheckSsl);
        if (!draft.Ssl && !checksOverTls) return null;
        var verify = draft.Verify ?? _settings.ServerVerify;
        if (verify == TlsVerify.Required && draft.CaFile is null)
        {
            // HAProxy's own refusal, worded as its message.
            diag.Error(n, $"'{keyword}': verify is enabled by default but no CA file specified. Set 'ca-file', or an explicit 'verify none' on the line, or 'ssl-server-verify none' in the global section");
            return null;
        }
        if (draft.Versions.Versions == TlsVersions.None)
        {
            diag.Error(n, $"'{keyword}': no protocol version is left enabled (check ssl-min-ver, ssl-max-ver and no-*)");
            return null;
        }
        var built = new TlsServerConfig(draft.Options with { Versions = draft.Versions.Versions })
        {
            Verify = verify,
            CaFile = draft.CaFile,
            Certificate = draft.Certificate,
            Sni = draft.Sni,
            SniFromHost = draft.SniFromHost,
            VerifyHost = draft.VerifyHost,
            Alpn = draft.Alpn,
            NoSslReuse = draft.NoSslReuse,
            CheckSni = draft.CheckSni,
        };
        if (checksOverTls) checkTls = built;
        return draft.Ssl ? built : null;
    }
}
