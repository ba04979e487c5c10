namespace Proxy.Shared.Config;

/// <summary>
/// Server persistence keywords (doc/configuration.txt 4.2): `cookie`, `force-persist`, `ignore-persist`, `use-server`
/// and `option persist`. Errors follow HAProxy's checks (cfgparse-listen.c): incompatible modes, `preserve` without
/// `insert` or `indirect`. `cookie ... dynamic` with `dynamic-cookie-key` gives servers without `cookie` one (worker/Persistence/DynamicCookie.cs).
/// </summary>
internal sealed class PersistenceParser(ConfigDiagnostics diag, AclParser acls)
{
    /// <summary>`cookie NAME [options]`.</summary>
    public void ParseCookie(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        if (w.Count < 2 || w[1].Length == 0)
        {
            diag.Error(n, "'cookie' expects <cookie_name> as argument");
            return;
        }
        if (!HttpKeywordParser.IsToken(w[1]))
        {
            diag.Error(n, $"'cookie': {ConfigDiagnostics.Quote(w[1])} is not a valid cookie name");
            return;
        }
        var c = new CookiePersistenceConfig(w[1], CookieMode.Passive);
        List<string> domains = [], attrs = [];
        bool rewrite = false, insert = false, prefix = false;
        for (int i = 2; i < w.Count; i++)
        {
            switch (w[i])
            {
                case "rewrite": rewrite = true; break;
                case "insert": insert = true; break;
                case "prefix": prefix = true; break;
                case "indirect": c = c with { Indirect = true }; break;
                case "nocache": c = c with { NoCache = true }; break;
                case "postonly": c = c with { PostOnly = true }; break;
                case "preserve": c = c with { Preserve = true }; break;
                case "httponly": c = c with { HttpOnly = true }; break;
                case "secure": c = c with { Secure = true }; break;
                case "domain" or "attr" or "maxidle" or "maxlife":
                    if (i + 1 >= w.Count || w[i + 1].Length == 0)
                    {
                        diag.Error(n, $"'cookie': '{w[i]}' requires an argument");
                        return;
                    }
                    var value = w[++i];
                    if (w[i - 1] == "domain")
                    {
                        // RFC 6265 5.2.3: a domain attribute; HAProxy emits each one as its own `; domain=` attribute.
                        if (value.AsSpan().IndexOfAny(";\r\n\0") >= 0) { diag.Error(n, $"'cookie': invalid domain {ConfigDiagnostics.Quote(value)}"); return; }
                        domains.Add(value);
                    }
                    else if (w[i - 1] == "attr")
                    {
                        // 4.2 "cookie ... attr": no control character nor ';' (HAProxy refuses those).
                        foreach (char ch in value)
                            if (ch < 0x20 || ch == 0x7f || ch == ';')
                            {
                                diag.Error(n, $"'cookie': attr {ConfigDiagnostics.Quote(value)} must not contain control characters nor ';'");
                                return;
                            }
                        attrs.Add(value);
                    }
                    else
                    {
                        if (!TrySeconds(value, out int seconds))
                        {
                            diag.Error(n, $"'cookie': '{w[i - 1]}' expects a time in seconds (a unit may be given), got {ConfigDiagnostics.Quote(value)}");
                            return;
                        }
                        c = w[i - 1] == "maxidle" ? c with { MaxIdleSeconds = seconds } : c with { MaxLifeSeconds = seconds };
                    }
                    break;
                case "dynamic": c = c with { Dynamic = true }; break;
                default:
                    diag.Error(n, $"'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'preserve', 'httponly', 'secure', 'domain', 'maxidle', 'maxlife', 'dynamic' and 'attr' options, got {ConfigDiagnostics.Quote(w[i])}");
                    return;
            }
        }
        if (rewrite && c.Indirect)
        {
            diag.Error(n, "'cookie': 'rewrite' and 'indirect' modes are incompatible");
            return;
        }
        if ((rewrite ? 1 : 0) + (insert ? 1 : 0) + (prefix ? 1 : 0) > 1)
        {
            diag.Error(n, "'cookie': 'rewrite', 'insert' and 'prefix' modes are incompatible");
            return;
        }
        if (c.Preserve && !insert && !c.Indirect)
        {
            diag.Error(n, "'cookie': 'preserve' requires at least 'insert' or 'indirect'");
            return;
        }
        var mode = insert ? CookieMode.Insert : rewrite ? CookieMode.Rewrite : prefix ? CookieMode.Prefix : CookieMode.Passive;
        proxy.Cookie = c with { Mode = mode, Domains = domains.ToArray(), Attributes = attrs.ToArray() };
        proxy.CookieLocation = diag.At(n);
    }

    /// <summary>`persist rdp-cookie[(NAME)]` (4.2): the server an RDP client's `msts` cookie names (default name msts).</summary>
    public void ParsePersistRdpCookie(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        string arg = w.Count > 1 ? w[1] : "";
        string name = arg == "rdp-cookie" ? "msts"
            : arg.StartsWith("rdp-cookie(", StringComparison.Ordinal) && arg.EndsWith(')') && arg.Length > "rdp-cookie()".Length
                ? arg["rdp-cookie(".Length..^1] : "";
        if (name.Length == 0 || w.Count > 2)
        {
            diag.Error(line.Number, $"'persist': expected 'persist rdp-cookie' or 'persist rdp-cookie(NAME)', got {ConfigDiagnostics.Quote(string.Join(' ', w.Skip(1)))}");
            return;
        }
        proxy.PersistRdpCookie = name;
    }

    /// <summary>`dynamic-cookie-key KEY` (4.2; defaults, backend, listen): the secret the dynamic cookies are hashed with.</summary>
    public void ParseDynamicCookieKey(ProxyDraft proxy, ConfigLine line)
    {
        if (line.Words.Count != 2 || line.Words[1].Length == 0)
        {
            diag.Error(line.Number, "'dynamic-cookie-key' expects exactly one argument, the key");
            return;
        }
        proxy.DynamicCookieKey = line.Words[1];
    }

    /// <summary>`force-persist if|unless COND` and `ignore-persist if|unless COND`: a condition is mandatory (4.2).</summary>
    public void ParsePersistRule(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        string keyword = line.Keyword;
        if (w.Count < 2 || w[1] is not ("if" or "unless"))
        {
            diag.Error(line.Number, $"'{keyword}' requires either 'if' or 'unless' followed by a condition");
            return;
        }
        if (acls.ParseCondition(proxy, line, 1, keyword) is { } condition)
            proxy.PersistRules.Add(new PersistRule(keyword == "force-persist", condition, diag.At(line.Number)));
    }

    /// <summary>`use-server SERVER [if|unless COND]`; the server is resolved once the section is complete.</summary>
    public void ParseUseServer(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (w.Count < 2 || w[1].Length == 0 || w[1] is "if" or "unless")
        {
            diag.Error(line.Number, "'use-server' expects a server name");
            return;
        }
        ConditionConfig? condition = null;
        if (w.Count > 2)
        {
            if (w[2] is not ("if" or "unless"))
            {
                diag.Error(line.Number, $"'use-server': expects 'if' or 'unless' after the server name, got {ConfigDiagnostics.Quote(w[2])}");
                return;
            }
            if ((condition = acls.ParseCondition(proxy, line, 2, "use-server")) is null) return;
        }
        proxy.UseServers.Add(new UseServerRule(w[1], condition, diag.At(line.Number)));
    }

    /// <summary>
    /// Checks that need the whole section: each `use-server` names one of its servers, and in `mode http` only a
    /// `cookie` line makes server `cookie` values useful (HAProxy warns the other way round too, which this skips).
    /// </summary>
    public static void Validate(ConfigDiagnostics diag, ProxyDraft proxy)
    {
        if (!proxy.IsBackend) return;
        if (proxy.HashBalanceFactorLine > 0 && proxy.BalanceOptions.HashMethod != HashMethod.Consistent)
            diag.Warning(proxy.HashBalanceFactorLine, $"'hash-balance-factor' has no effect in '{proxy.Name}' without 'hash-type consistent'");
        foreach (var rule in proxy.UseServers)
        {
            bool found = false;
            foreach (var s in proxy.Servers) found |= s.Name == rule.Server;
            if (!found)
                diag.Error(rule.Location, $"'use-server': {ProxySectionParser.SectionName(proxy)[2..]} '{proxy.Name}' has no server named '{rule.Server}'");
        }
        if (proxy.Cookie is not null && proxy.Mode != ProxyMode.Http)
            diag.Warning(proxy.CookieLocation, $"'cookie' has no effect in '{proxy.Name}', which is not in 'mode http'");
    }

    /// <summary>A time whose default unit is the second (4.2 "cookie ... maxidle"), rounded down to whole seconds.</summary>
    internal static bool TrySeconds(string text, out int seconds)
    {
        seconds = 0;
        if (text.Length > 0 && text.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0)
            return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out seconds);
        if (!TimeValue.TryParse(text, out var t)) return false;
        seconds = (int)t.TotalSeconds;
        return true;
    }
}
