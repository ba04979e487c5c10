namespace Proxy.Shared.Config;

/// <summary>
/// The `stats` keywords of a proxy or defaults section (doc/configuration.txt 4.2 "stats admin" to "stats uri"). As in
/// HAProxy (cfgparse-listen.c, stats_check_init_uri_auth), every one of them enables the page, and a proxy that writes
/// any `stats` line detaches from its defaults' settings and starts from HAProxy's defaults (uri `/haproxy?stats`,
/// realm `HAProxy Statistics`, no user); a proxy that writes none shares its defaults section's page.
/// </summary>
internal sealed class StatsPageParser(ConfigDiagnostics diag, AclParser acls)
{
    private const string Usage =
        "expected 'stats enable|uri PREFIX|realm REALM|auth USER:PASSWORD|refresh DELAY|admin if|unless COND|hide-version|show-legends|show-node [NAME]|show-desc [DESC]|scope NAME'";

    public void Parse(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        if (w.Count < 2)
        {
            diag.Error(n, $"'stats': missing argument, {Usage}");
            return;
        }
        string keyword = "stats " + w[1];
        switch (w[1])
        {
            case "enable":
                if (LineChecks.Exactly(diag, line, 0, keyword, keywordWords: 2)) Own(proxy, line);
                break;
            case "uri":
                // The URI is a prefix (4.2 "stats uri"): `/stats;csv` and `/stats?x` are the page too.
                if (LineChecks.Exactly(diag, line, 1, "stats uri PREFIX", keywordWords: 2)) Own(proxy, line).Uri = w[2];
                break;
            case "realm":
                if (LineChecks.Exactly(diag, line, 1, "stats realm REALM", keywordWords: 2))
                {
                    if (w[2].AsSpan().IndexOfAny("\"\r\n\0") >= 0)
                        diag.Error(n, "'stats realm': the realm must not contain a quote, CR, LF or NUL");
                    else
                        Own(proxy, line).Realm = w[2];
                }
                break;
            case "auth":
                if (!LineChecks.Exactly(diag, line, 1, "stats auth USER:PASSWORD", keywordWords: 2)) break;
                int colon = w[2].IndexOf(':');
                if (colon <= 0)
                    diag.Error(n, $"'stats auth': expected USER:PASSWORD, got {ConfigDiagnostics.Quote(w[2])}");
                else
                    Own(proxy, line).Users.Add(new StatsUser(w[2][..colon], w[2][(colon + 1)..]));
                break;
            case "refresh":
                if (LineChecks.Exactly(diag, line, 1, "stats refresh DELAY", keywordWords: 2)
                    && LineChecks.TryTime(diag, n, keyword, w[2], out var refresh))
                {
                    // HAProxy sends whole seconds (at least 1): `Refresh: N`.
                    Own(proxy, line).Refresh = refresh < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : refresh;
                }
                break;
            case "admin":
                ParseAdmin(proxy, line);
                break;
            case "hide-version":
                if (LineChecks.Exactly(diag, line, 0, keyword, keywordWords: 2)) Own(proxy, line).HideVersion = true;
                break;
            case "show-legends":
                if (LineChecks.Exactly(diag, line, 0, keyword, keywordWords: 2)) Own(proxy, line).ShowLegends = true;
                break;
            case "show-node":
                // Without a name, HAProxy shows the global `node`, which defaults to the host name ("": the page resolves it).
                if (w.Count > 3) diag.Error(n, $"'stats show-node': unexpected {ConfigDiagnostics.Quote(w[3])}, expected 'stats show-node [NAME]'");
                else Own(proxy, line).ShowNode = w.Count == 3 ? w[2] : "";
                break;
            case "show-desc":
                // Without a text, HAProxy shows the global `description` ("": the page resolves it).
                Own(proxy, line).ShowDesc = w.Count > 2 ? string.Join(' ', w.Skip(2)) : "";
                break;
            case "scope":
                // `.` is the proxy itself; several lines add proxies.
                if (LineChecks.Exactly(diag, line, 1, "stats scope NAME|.", keywordWords: 2))
                    Own(proxy, line).Scope.Add(w[2] == "." ? proxy.Name : w[2]);
                break;
            case "socket" or "timeout" or "maxconn" or "bind-process":
                diag.Error(n, $"'{keyword}' is not allowed in {ProxySectionParser.SectionName(proxy)} section (it is a global keyword)");
                break;
            case "http-request":
                diag.Error(n, "'stats http-request' is not supported yet");
                break;
            default:
                diag.Error(n, $"'stats': unknown argument {ConfigDiagnostics.Quote(w[1])}, {Usage}");
                break;
        }
    }

    /// <summary>`stats admin if|unless COND` (4.2): not in a defaults section, and the condition is required.</summary>
    private void ParseAdmin(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (proxy.Capabilities == ProxyCapabilities.Defaults)
        {
            diag.Error(line.Number, "'stats admin' is not allowed in a defaults section");
            return;
        }
        if (w.Count < 4 || w[2] is not ("if" or "unless"))
        {
            diag.Error(line.Number, "'stats admin': expected 'stats admin if|unless COND'");
            return;
        }
        if (acls.ParseCondition(proxy, line, 2, "stats admin") is { } condition) Own(proxy, line).Admin = condition;
    }

    /// <summary>The proxy's own page settings: the first `stats` line of a proxy starts anew from HAProxy's defaults.</summary>
    private StatsPageDraft Own(ProxyDraft proxy, ConfigLine line)
    {
        if (proxy.Stats is { } own && own.Owner == proxy) return own;
        proxy.Stats = new StatsPageDraft(proxy, diag.At(line.Number));
        return proxy.Stats;
    }

    /// <summary>
    /// The page needs HTTP: a proxy in mode tcp with `stats` lines (its own or its defaults') gets HAProxy's warning
    /// ("'stats' statement ignored for proxy 'X' as it requires HTTP mode") and no page.
    /// </summary>
    public static void CheckMode(ConfigDiagnostics diag, ProxyDraft proxy, string kind)
    {
        if (proxy.Mode == ProxyMode.Http || proxy.Stats is not { } stats) return;
        diag.Warning(stats.Location, $"'stats' has no effect in {kind} '{proxy.Name}', which is in tcp mode (the page requires 'mode http'): ignored");
        proxy.Stats = null;
    }
}

/// <summary>A `stats` page while its section is parsed; <see cref="Owner"/> tells a proxy's own from its defaults'.</summary>
internal sealed class StatsPageDraft(ProxyDraft owner, SourceLocation location)
{
    public ProxyDraft Owner { get; } = owner;
    /// <summary>The section's first `stats` line.</summary>
    public SourceLocation Location { get; } = location;
    public string Uri { get; set; } = StatsPageConfig.DefaultUri;
    public string Realm { get; set; } = StatsPageConfig.DefaultRealm;
    public List<StatsUser> Users { get; } = [];
    public TimeSpan? Refresh { get; set; }
    public ConditionConfig? Admin { get; set; }
    public bool HideVersion { get; set; }
    public bool ShowLegends { get; set; }
    public string? ShowNode { get; set; }
    public string? ShowDesc { get; set; }
    public List<string> Scope { get; } = [];

    private StatsPageConfig? _built;

    /// <summary>The model, built once: a listen section's frontend and backend (and every proxy sharing a defaults page) hold the same one.</summary>
    public StatsPageConfig Build() => _built ??= new(Uri, Realm, Users.ToArray(), Refresh, Admin, Scope.ToArray())
    {
        HideVersion = HideVersion, ShowLegends = ShowLegends, ShowNode = ShowNode, ShowDesc = ShowDesc,
    };
}
