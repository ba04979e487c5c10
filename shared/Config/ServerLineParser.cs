namespace Proxy.Shared.Config;

/// <summary>
/// `server NAME ADDRESS:PORT [options]` and `default-server [options]` (doc/configuration.txt 4.2
/// "server", "default-server", 5.2 "Server and default-server options"). Options implemented:
/// `weight N` (0-256), `maxconn N`, `check`, `inter T`, `fastinter T`, `downinter T`, `rise N`, `fall N`,
/// `port N`, `addr IP`, `observe layer4|layer7`, `error-limit N`, `on-error fastinter|fail-check|sudden-death|mark-down`,
/// `backup`, `disabled`, and the PROXY protocol ones: `send-proxy`, `send-proxy-v2`, `send-proxy-v2-ssl`,
/// `send-proxy-v2-ssl-cn`, `no-send-proxy`, `no-send-proxy-v2`, `proxy-v2-options LIST`, `check-send-proxy`.
/// A server starts from the `default-server` settings in force at its line, as in HAProxy.
/// </summary>
internal sealed class ServerLineParser(ConfigDiagnostics diag, HostResolver resolver)
{
    /// <summary>The TLS options' parser (its `ssl-default-server-*`, `ca-base`, `crt-base` in force).</summary>
    public TlsParser Tls { get; set; } = new(diag);

    /// <summary>HAProxy's SRV_UWGHT_MAX: user weights go from 0 (no new traffic) to 256.</summary>
    public const int MaxWeight = 256;

    public void ParseServer(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        if (w.Count < 3)
        {
            diag.Error(n, "'server': missing argument, expected 'server NAME ADDRESS:PORT [options]'");
            return;
        }
        var settings = ParseOptions(proxy.DefaultServer, line, 3, "server");
        AddServer(proxy, n, w[1], w[2], settings, null);
    }

    /// <summary>
    /// `server-template PREFIX NUM|FIRST-LAST FQDN[:PORT] [options]` (4.2 "server-template"): servers PREFIX1..PREFIXNUM
    /// (or PREFIXFIRST..PREFIXLAST) sharing one name; with `resolvers`, DNS answers fill their addresses (and ports,
    /// from SRV records), and a server without an answer stays in maintenance.
    /// </summary>
    public void ParseServerTemplate(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        if (w.Count < 4)
        {
            diag.Error(n, "'server-template': missing argument, expected 'server-template PREFIX NUM|RANGE FQDN[:PORT] [options]'");
            return;
        }
        int dash = w[2].IndexOf('-');
        int first = 1, last = 0;
        bool rangeOk = dash < 0
            ? IntValue.TryParse(w[2], out last) && last >= 1
            : IntValue.TryParse(w[2][..dash], out first) && IntValue.TryParse(w[2][(dash + 1)..], out last) && first >= 1 && last >= first;
        if (!rangeOk || last - first >= 10000)
        {
            diag.Error(n, $"'server-template': expected a number of servers or a range FIRST-LAST, got {ConfigDiagnostics.Quote(w[2])}");
            return;
        }
        var settings = ParseOptions(proxy.DefaultServer, line, 4, "server-template");
        for (int i = first; i <= last; i++)
            if (!AddServer(proxy, n, w[1] + i.ToString(System.Globalization.CultureInfo.InvariantCulture), w[3], settings, w[1]))
                return;                       // one message for the line, not one per server
    }

    /// <summary>Adds one server from its name, address word and options; false after an error.</summary>
    private bool AddServer(ProxyDraft proxy, int n, string name, string addressWord, ServerDefaults? settings, string? template)
    {
        bool ok = CheckName(n, name);
        foreach (var existing in proxy.Servers)
        {
            if (existing.Name == name)
            {
                diag.Error(n, $"'server': {SectionNameOf(proxy)} '{proxy.Name}' already has a server named '{name}' at line {existing.Location.Line}");
                ok = false;
                break;
            }
        }
        var resolution = (settings ?? proxy.DefaultServer).Resolution;
        var host = HostOf(addressWord);
        // An SRV name gives the port with each answer: `_svc._tcp.name` alone is a whole address.
        var address = resolution.Resolvers is not null && host.StartsWith('_') && !addressWord.Contains(':')
            ? new ServerAddress(new System.Net.IPEndPoint(AddressParser.Unresolved, 0), null, false, 0)
            : AddressParser.ParseServerAddress(addressWord, ServerResolutionOptions.InitialResolver(resolution, resolver), m => diag.Error(n, m));
        if (!ok || address is null || settings is null)
            return false;
        if (address.UnixPath is not null) host = UnixAddress.Display(address.UnixPath);
        if (!CheckTarget(n, name, address, settings)) return false;
        var tls = Tls.BuildServer(settings.Tls ?? Tls.NewServerDraft(), n, "server",
            settings.Check && (settings.Tls?.CheckSsl == true || (settings.CheckSettings.Port is null && settings.CheckSettings.Address is null)),
            out var checkTls);
        proxy.Servers.Add(new ServerConfig(
            name, host, address.EndPoint, settings.Weight, Math.Max(settings.MaxConn, settings.MinConn), settings.Check, settings.Inter,
            settings.Rise, settings.Fall, settings.Backup, settings.Disabled, diag.At(n))
        { MinConn = MinConnOf(settings), CheckSettings = settings.CheckSettings, ProxyProtocol = settings.ProxyProtocol, Cookie = settings.Cookie,
          Tls = tls, CheckTls = checkTls,
          Resolution = address.UnixPath is null ? ServerResolutionOptions.Build(diag, n, resolution, host, template) : null,
          UnixPath = address.UnixPath, ClientPort = address.ClientPort, PortOffset = address.PortOffset });
        return true;
    }

    /// <summary>
    /// HAProxy's srv_minmax_conn_apply(): `minconn` alone, or above `maxconn`, is the static limit (maxconn is raised
    /// to it); `maxconn` alone is its own floor. So MinConn &lt; MaxConn only when the limit is dynamic.
    /// </summary>
    private static int MinConnOf(ServerDefaults s) => s.MinConn == 0 || s.MinConn > s.MaxConn ? Math.Max(s.MaxConn, s.MinConn) : s.MinConn;

    /// <summary>
    /// A checked server needs a place to check: HAProxy refuses a server without a port and without `port` ("has
    /// neither service port nor check port"). A UNIX socket server is checked here only at its `addr`/`port`.
    /// </summary>
    private bool CheckTarget(int n, string name, ServerAddress address, ServerDefaults settings)
    {
        if (!settings.Check) return true;
        if (address.ClientPort && settings.CheckSettings.Port is null)
        {
            diag.Error(n, $"'server {name}': server has neither service port nor check port (add 'port N' for its health check)");
            return false;
        }
        if (address.UnixPath is not null && settings.CheckSettings.Address is null)
        {
            diag.Error(n, $"'server {name}': health checks of a UNIX socket server are not supported yet (give the check an 'addr' and 'port', or drop 'check')");
            return false;
        }
        return true;
    }

    public void ParseDefaultServer(ProxyDraft proxy, ConfigLine line)
    {
        if (ParseOptions(proxy.DefaultServer, line, 1, "default-server") is { } settings)
            proxy.DefaultServer = settings;
    }

    /// <summary>Applies the options from word <paramref name="start"/> on top of <paramref name="from"/>; null after an error.</summary>
    private ServerDefaults? ParseOptions(ServerDefaults from, ConfigLine line, int start, string keyword)
    {
        var w = line.Words;
        int n = line.Number;
        var s = from;
        bool ok = true;
        for (int i = start; i < w.Count; i++)
        {
            var option = w[i];
            switch (option)
            {
                case "check": s = s with { Check = true }; continue;
                case "backup": s = s with { Backup = true }; continue;
                case "disabled": s = s with { Disabled = true }; continue;
                // 5.2: v1 and v2 are separate bits, as HAProxy's SRV_PP_V1 / SRV_PP_V2; the -ssl forms add the SSL TLV
                // (5.2 "send-proxy-v2-ssl": "client not over SSL" here, there is no TLS yet; see ProxyHeaderWriter).
                case "send-proxy": s = s with { ProxyProtocol = s.ProxyProtocol with { SendV1 = true } }; continue;
                case "send-proxy-v2": s = s with { ProxyProtocol = s.ProxyProtocol with { SendV2 = true } }; continue;
                case "send-proxy-v2-ssl":
                    s = s with { ProxyProtocol = s.ProxyProtocol with { SendV2 = true, V2Options = s.ProxyProtocol.V2Options | ProxyV2Options.Ssl } };
                    continue;
                case "send-proxy-v2-ssl-cn":
                    s = s with { ProxyProtocol = s.ProxyProtocol with { SendV2 = true, V2Options = s.ProxyProtocol.V2Options | ProxyV2Options.Ssl | ProxyV2Options.CertCn } };
                    continue;
                case "no-send-proxy": s = s with { ProxyProtocol = s.ProxyProtocol with { SendV1 = false } }; continue;
                case "no-send-proxy-v2": s = s with { ProxyProtocol = s.ProxyProtocol with { SendV2 = false } }; continue;
                case "check-send-proxy": s = s with { ProxyProtocol = s.ProxyProtocol with { CheckSendProxy = true } }; continue;
                case "proxy-v2-options":
                    if (i + 1 >= w.Count)
                    {
                        diag.Error(n, $"'{keyword}': option 'proxy-v2-options' needs a value");
                        return null;
                    }
                    if (ParseProxyV2Options(n, keyword, w[++i]) is not { } v2) return null;
                    s = s with { ProxyProtocol = s.ProxyProtocol with { V2Options = s.ProxyProtocol.V2Options | v2 } };
                    continue;
                case "cookie":
                    // 5.2 "cookie": the value a persistence cookie (4.2 "cookie") carries for this server.
                    if (i + 1 >= w.Count || w[i + 1].Length == 0)
                    {
                        diag.Error(n, $"'{keyword}': option 'cookie' needs a value");
                        return null;
                    }
                    if (!IsCookieValue(w[i + 1]))
                    {
                        diag.Error(n, $"'{keyword}': invalid cookie value {ConfigDiagnostics.Quote(w[i + 1])} (RFC 6265 4.1.1: cookie-octets only)");
                        return null;
                    }
                    s = s with { Cookie = w[++i] };
                    continue;
                case var _ when ServerResolutionOptions.IsOption(option):
                    if (i + 1 >= w.Count)
                    {
                        diag.Error(n, $"'{keyword}': option '{option}' needs a value");
                        return null;
                    }
                    if (ServerResolutionOptions.Parse(diag, n, keyword, option, w[++i], s.Resolution) is not { } resolution) return null;
                    s = s with { Resolution = resolution };
                    continue;
                case "weight" or "maxconn" or "inter" or "rise" or "fall"
                    or "fastinter" or "downinter" or "port" or "addr" or "observe" or "error-limit" or "on-error":
                    break;
                case "minconn":
                    // 5.2 "minconn": the dynamic limit's floor (ServerRuntime.DynamicMaxConn), with `fullconn`.
                    if (i + 1 >= w.Count)
                    {
                        diag.Error(n, $"'{keyword}': option 'minconn' needs a value");
                        return null;
                    }
                    if (!LineChecks.TryInt(diag, n, $"{keyword} minconn", w[++i], 0, int.MaxValue, out int minConn)) return null;
                    s = s with { MinConn = minConn };
                    continue;
                case "id" or "maxqueue":
                    // Accepted with a warning (ProxyExtrasParser.ServerOptionsWithoutEffect says why); the value is still checked.
                    if (i + 1 >= w.Count || !LineChecks.TryInt(diag, n, $"{keyword} {option}", w[i + 1], 0, int.MaxValue, out _))
                    {
                        if (i + 1 >= w.Count) diag.Error(n, $"'{keyword}': option '{option}' needs a value");
                        return null;
                    }
                    i++;
                    diag.Warning(n, $"'{keyword}': option '{option}' has no effect here: {ProxyExtrasParser.ServerOptionsWithoutEffect[option]}");
                    continue;
                case var _ when ServerHealthOptions.IsOption(option):
                    if (ServerHealthOptions.Parse(diag, resolver, line, keyword, ref i, s.CheckSettings) is not { } health) return null;
                    s = s with { CheckSettings = health };
                    continue;
                case var _ when TlsParser.IsServerOption(option):
                    if (Tls.ParseServerOption(s.Tls ?? Tls.NewServerDraft(), keyword, line, ref i) is not { } tls) return null;
                    s = s with { Tls = tls };
                    continue;
                default:
                    diag.Error(n, KnownKeywords.UnsupportedServerOptions.Contains(option)
                        ? $"'{keyword}': option '{option}' is not supported yet"
                        : $"'{keyword}': unknown option {ConfigDiagnostics.Quote(option)}");
                    return null;                // the rest of the line cannot be read reliably
            }
            if (i + 1 >= w.Count)
            {
                diag.Error(n, $"'{keyword}': option '{option}' needs a value");
                return null;
            }
            var value = w[++i];
            var optionName = $"{keyword} {option}";
            switch (option)
            {
                case "weight":
                    if (LineChecks.TryInt(diag, n, optionName, value, 0, MaxWeight, out int weight)) s = s with { Weight = weight };
                    else ok = false;
                    break;
                case "maxconn":
                    if (LineChecks.TryInt(diag, n, optionName, value, 0, int.MaxValue, out int maxConn)) s = s with { MaxConn = maxConn };
                    else ok = false;
                    break;
                case "inter":
                    if (LineChecks.TryTime(diag, n, optionName, value, out var inter) && inter > TimeSpan.Zero) s = s with { Inter = inter };
                    else
                    {
                        if (inter == TimeSpan.Zero && TimeValue.TryParse(value, out _))
                            diag.Error(n, $"'{optionName}': the interval must be above zero");
                        ok = false;
                    }
                    break;
                case "rise":
                    if (LineChecks.TryInt(diag, n, optionName, value, 1, 1000, out int rise)) s = s with { Rise = rise };
                    else ok = false;
                    break;
                case "fall":
                    if (LineChecks.TryInt(diag, n, optionName, value, 1, 1000, out int fall)) s = s with { Fall = fall };
                    else ok = false;
                    break;
                default:
                    if (ParseCheckOption(s.CheckSettings, n, option, optionName, value) is { } check) s = s with { CheckSettings = check };
                    else ok = false;
                    break;
            }
        }
        if (ok && !ServerHealthOptions.Validate(diag, n, keyword, start > 1 ? w[1] : null, s.CheckSettings)) ok = false;
        if (ok && keyword == "server" && s.ProxyProtocol.V2Options != ProxyV2Options.None && !s.ProxyProtocol.SendV2)
            diag.Warning(n, "'server': 'proxy-v2-options' has no effect without 'send-proxy-v2': ignored");
        return ok ? s : null;
    }

    /// <summary>`proxy-v2-options ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c,unique-id` (5.2); null after an error.</summary>
    private ProxyV2Options? ParseProxyV2Options(int n, string keyword, string value)
    {
        var options = ProxyV2Options.None;
        foreach (var name in value.Split(','))
        {
            switch (name)
            {
                case "ssl": options |= ProxyV2Options.Ssl; break;
                // The certificate and cipher sub-TLVs live inside the SSL TLV (HAProxy sets SRV_PP_V2_SSL with them).
                case "cert-cn": options |= ProxyV2Options.Ssl | ProxyV2Options.CertCn; break;
                case "ssl-cipher": options |= ProxyV2Options.Ssl | ProxyV2Options.SslCipher; break;
                case "cert-sig": options |= ProxyV2Options.Ssl | ProxyV2Options.CertSig; break;
                case "cert-key": options |= ProxyV2Options.Ssl | ProxyV2Options.CertKey; break;
                case "authority": options |= ProxyV2Options.Authority; break;
                case "crc32c": options |= ProxyV2Options.Crc32C; break;
                case "unique-id": options |= ProxyV2Options.UniqueId; break;
                default:
                    diag.Error(n, $"'{keyword} proxy-v2-options': unknown option {ConfigDiagnostics.Quote(name)} (expected ssl, cert-cn, ssl-cipher, cert-sig, cert-key, authority, crc32c or unique-id)");
                    return null;
            }
        }
        return options;
    }

    /// <summary>The check options (5.2 "fastinter", "downinter", "port", "addr", "observe", "error-limit", "on-error"); null after an error.</summary>
    private ServerCheckSettings? ParseCheckOption(ServerCheckSettings c, int n, string option, string optionName, string value)
    {
        switch (option)
        {
            case "fastinter" or "downinter":
                if (!LineChecks.TryTime(diag, n, optionName, value, out var t)) return null;
                if (t <= TimeSpan.Zero)
                {
                    diag.Error(n, $"'{optionName}': the interval must be above zero");
                    return null;
                }
                return option == "fastinter" ? c with { FastInter = t } : c with { DownInter = t };
            case "port":
                return LineChecks.TryInt(diag, n, optionName, value, 1, 65535, out int port) ? c with { Port = port } : null;
            case "addr":
            {
                // An address only (the port is `port`'s business), resolved once at parse time like the server's.
                var address = System.Net.IPAddress.TryParse(value.Trim('[', ']'), out var literal) ? literal
                    : value.Length > 0 && !value.Contains(':') ? resolver(value, null) : null;
                if (address is null)
                {
                    diag.Error(n, $"'{optionName}': expected an IP address or a host name, got {ConfigDiagnostics.Quote(value)}");
                    return null;
                }
                return c with { Address = address };
            }
            case "observe":
                switch (value)
                {
                    case "layer4": return c with { Observe = ObserveMode.Layer4 };
                    case "layer7": return c with { Observe = ObserveMode.Layer7 };
                    case "none": return c with { Observe = ObserveMode.None };
                }
                diag.Error(n, $"'{optionName}': expected layer4 or layer7, got {ConfigDiagnostics.Quote(value)}");
                return null;
            case "error-limit":
                return LineChecks.TryInt(diag, n, optionName, value, 1, int.MaxValue, out int limit) ? c with { ErrorLimit = limit } : null;
            default: // on-error
                switch (value)
                {
                    case "fastinter": return c with { OnError = OnErrorAction.FastInter };
                    case "fail-check": return c with { OnError = OnErrorAction.FailCheck };
                    case "sudden-death": return c with { OnError = OnErrorAction.SuddenDeath };
                    case "mark-down": return c with { OnError = OnErrorAction.MarkDown };
                }
                diag.Error(n, $"'{optionName}': expected fastinter, fail-check, sudden-death or mark-down, got {ConfigDiagnostics.Quote(value)}");
                return null;
        }
    }

    /// <summary>The host part as written (name or literal), kept for messages and `show stat`.</summary>
    private static string HostOf(string address)
    {
        var rest = address;
        int at = rest.IndexOf('@');
        if (at >= 0) rest = rest[(at + 1)..];
        if (rest.StartsWith('[') && rest.IndexOf(']') is var close and > 0)
            return rest[1..close];
        int colon = rest.LastIndexOf(':');
        return colon >= 0 ? rest[..colon] : rest;
    }

    /// <summary>RFC 6265 4.1.1 cookie-octet: visible ASCII but DQUOTE, comma, semicolon and backslash.</summary>
    internal static bool IsCookieValue(string value)
    {
        foreach (char c in value)
            if (c is < '!' or > '~' or '"' or ',' or ';' or '\\') return false;
        return value.Length > 0;
    }

    private static string SectionNameOf(ProxyDraft proxy) => proxy.Capabilities == ProxyCapabilities.Listen ? "listen" : "backend";

    /// <summary>Server names follow the proxy-name rule (invalid_char()): letters, digits, '-', '_', '.', ':'.</summary>
    private bool CheckName(int line, string name)
    {
        if (name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            return true;
        diag.Error(line, $"'server': invalid name {ConfigDiagnostics.Quote(name)} (allowed: letters, digits, '-', '_', '.', ':')");
        return false;
    }
}
