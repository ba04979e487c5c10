using System.Globalization;

namespace Proxy.Shared.Config;

/// <summary>`http-request deny|redirect|auth|set-*...` and the `http-response` actions (doc/configuration.txt 4.2 "http-request", 4.4 "redirect"); `return`: HttpKeywordParser.Return.cs.</summary>
internal sealed partial class HttpKeywordParser
{
    // 4.2 "http-request deny": deny_status takes the codes HAProxy has an error page for.
    private static readonly HashSet<int> DenyCodes = [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504];
    private static readonly HashSet<int> RedirectCodes = [301, 302, 303, 307, 308];

    private void ParseRequestAction(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        string action = w[1];
        string what = $"http-request {action}";
        int condAt = IndexOfCondition(w, 2);
        HttpRequestAction? parsed = action switch
        {
            "deny" => ParseDeny(line, condAt, what),
            // 4.2 "http-request tarpit": deny after `timeout tarpit`, 500 by default.
            "tarpit" => ParseDeny(line, condAt, what) is { } tarpit
                ? tarpit with { Kind = HttpRequestActionKind.Tarpit, Status = HasDenyStatus(line, condAt) ? tarpit.Status : 500 }
                : null,
            // 4.2 "http-request silent-drop": the connection is closed without a response (README, "Tarpit and silent-drop").
            "silent-drop" => ParseSilentDrop(line, condAt, what),
            // 4.2 "http-request allow": stops the evaluation of this proxy's http-request rules; the request goes on.
            "allow" => ParseSilentDrop(line, condAt, what) is { } allow ? allow with { Kind = HttpRequestActionKind.Allow } : null,
            "return" => ParseReturn(line, condAt, what),
            "use-service" => ParseUseService(line, condAt, what),
            "redirect" => ParseRedirect(line, condAt, what),
            "auth" => ParseAuth(line, condAt, what),
            "set-log-level" => ParseSetLogLevel(line, condAt, what),
            "set-src" => ParseSetSrc(line, condAt, what),
            // 4.2 "http-request set-dst|set-dst-port": the session's destination, as set-src its source.
            "set-dst" or "set-dst-port" => ParseSetSrc(line, condAt, what) is { } dst
                ? dst with { Kind = action == "set-dst" ? HttpRequestActionKind.SetDst : HttpRequestActionKind.SetDstPort } : null,
            "capture" => ParseCapture(proxy, line, 2, condAt, what, response: false),
            "set-path" or "set-pathq" or "set-query" or "set-uri" or "set-method" => ParseSetStartLine(line, condAt, action),
            _ when IsStickAction(action) => ParseStickAction(proxy, line, condAt, what),
            _ => ParseVariableAction(line, condAt, action),
        };
        if (parsed is null) return;
        ConditionConfig? condition = null;
        if (condAt < w.Count && (condition = acls.ParseCondition(proxy, line, condAt, "http-request")) is null) return;
        proxy.RequestActions.Add(parsed with { Condition = condition });
        MarkHttpOnly(proxy, line.Number, "http-request");
    }

    private HttpRequestAction? ParseSilentDrop(ConfigLine line, int end, string what)
    {
        if (end > 2)
        {
            diag.Error(line.Number, $"'{what}': unexpected {ConfigDiagnostics.Quote(line.Words[2])}, expected '{what} [if|unless COND]'");
            return null;
        }
        return new HttpRequestAction(HttpRequestActionKind.SilentDrop, 0, null, diag.At(line.Number));
    }

    private static bool HasDenyStatus(ConfigLine line, int end)
    {
        for (int i = 2; i < end; i++)
            if (line.Words[i] == "deny_status") return true;
        return false;
    }

    /// <summary>`deny [deny_status CODE]`: 403 by default.</summary>
    private HttpRequestAction? ParseDeny(ConfigLine line, int end, string what)
    {
        var w = line.Words;
        int status = 403;
        for (int i = 2; i < end; i++)
        {
            if (w[i] == "deny_status" && i + 1 < end)
            {
                if (!TryStatus(line, w[++i], DenyCodes, what, out status)) return null;
                continue;
            }
            diag.Error(line.Number, $"'{what}': unexpected {ConfigDiagnostics.Quote(w[i])}, expected '{what} [deny_status CODE] [if|unless COND]'");
            return null;
        }
        return new HttpRequestAction(HttpRequestActionKind.Deny, status, null, diag.At(line.Number));
    }

    /// <summary>
    /// `redirect location|prefix|scheme VALUE [code CODE] [drop-query] [append-slash] [set-cookie NAME[=VALUE]]
    /// [clear-cookie NAME=]` (4.4 "redirect"): 302 by default. <paramref name="at"/> is the index of the type word:
    /// 2 after `http-request redirect`, 1 after the `redirect` keyword, whose value is literal (HAProxy parses it
    /// without log-format, http_parse_redirect_rule's use_fmt = 0).
    /// </summary>
    private HttpRequestAction? ParseRedirect(ConfigLine line, int end, string what, int at = 2, bool logFormat = true)
    {
        var w = line.Words;
        string usage = $"expected '{what} location|prefix|scheme VALUE [code CODE] [drop-query] [append-slash] [set-cookie NAME[=VALUE]] [clear-cookie NAME=] [if|unless COND]'";
        if (end < at + 2 || w[at] is not ("location" or "prefix" or "scheme"))
        {
            diag.Error(line.Number, $"'{what}': {usage}");
            return null;
        }
        var kind = w[at] switch { "location" => RedirectKind.Location, "prefix" => RedirectKind.Prefix, _ => RedirectKind.Scheme };
        string target = w[at + 1];
        // 4.4 "redirect": the location or prefix is a log-format string (`location https://%[hdr(host)]%[path]`).
        LogFormatConfig? format = null;
        if (logFormat && target.Contains('%') && kind != RedirectKind.Scheme && (format = ParseValueFormat(line, $"{what} {w[at]}", target)) is null)
            return null;
        if ((format is null && target.AsSpan().IndexOfAny(" \r\n\0\t") >= 0) || (kind == RedirectKind.Scheme && !IsToken(target)))
        {
            diag.Error(line.Number, $"'{what} {w[at]}': invalid value {ConfigDiagnostics.Quote(target)}");
            return null;
        }
        int code = 302;
        bool dropQuery = false, appendSlash = false;
        string? cookie = null;
        for (int i = at + 2; i < end; i++)
        {
            if (w[i] == "code" && i + 1 < end)
            {
                if (!TryStatus(line, w[++i], RedirectCodes, what, out code)) return null;
                continue;
            }
            if (w[i] == "drop-query")
            {
                dropQuery = true;
                continue;
            }
            if (w[i] == "append-slash")
            {
                // 4.4: a slash after the path when it lacks one; HAProxy applies it to prefix and scheme only.
                if (kind == RedirectKind.Location)
                    diag.Warning(line.Number, $"'{what}': 'append-slash' has no effect with 'location' (only with 'prefix' and 'scheme')");
                appendSlash = true;
                continue;
            }
            if (w[i] is "set-cookie" or "clear-cookie" && i + 1 < end)
            {
                string value = w[++i];
                if (value.Length == 0 || value.AsSpan().IndexOfAny("\r\n\0;") >= 0)
                {
                    diag.Error(line.Number, $"'{what} {w[i - 1]}': invalid cookie {ConfigDiagnostics.Quote(value)} (expected NAME[=VALUE], without ';', CR, LF or NUL)");
                    return null;
                }
                // HAProxy's exact Set-Cookie values (http_parse_redirect_rule): a clear is the same cookie expired now.
                cookie = w[i - 1] == "set-cookie" ? $"{value}; path=/;" : $"{value}; path=/; Max-Age=0;";
                continue;
            }
            diag.Error(line.Number, $"'{what}': unexpected {ConfigDiagnostics.Quote(w[i])}, {usage}");
            return null;
        }
        return new HttpRequestAction(HttpRequestActionKind.Redirect, code, null, diag.At(line.Number))
        {
            Redirect = kind, Target = target, DropQuery = dropQuery, TargetFormat = format, AppendSlash = appendSlash, Cookie = cookie,
        };
    }

    /// <summary>
    /// The `redirect` keyword (4.4): a redirect rule of its own list, which HAProxy runs after the proxy's
    /// `http-request` rules (http_process_req_common), so it is kept apart and appended when the model is built.
    /// </summary>
    public void ParseRedirectKeyword(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int condAt = IndexOfCondition(w, 1);
        if (ParseRedirect(line, condAt, "redirect", at: 1, logFormat: false) is not { } parsed) return;
        ConditionConfig? condition = null;
        if (condAt < w.Count && (condition = acls.ParseCondition(proxy, line, condAt, "redirect")) is null) return;
        proxy.Redirects.Add(parsed with { Condition = condition });
        MarkHttpOnly(proxy, line.Number, "redirect");
    }

    /// <summary>
    /// `auth [realm REALM]` (4.2 "http-request auth"): a 401 whose `WWW-Authenticate: Basic realm="REALM"` invites the
    /// client to send credentials; without a realm, the proxy's name (HAProxy's px->id, resolved by the worker for the
    /// proxy that runs the rule, so a rule inherited from `defaults` names its frontend or backend).
    /// </summary>
    private HttpRequestAction? ParseAuth(ConfigLine line, int end, string what)
    {
        var w = line.Words;
        if (end is not (2 or 4) || (end == 4 && w[2] != "realm"))
        {
            diag.Error(line.Number, $"'{what}': expected '{what} [realm REALM] [if|unless COND]'");
            return null;
        }
        if (end == 4 && w[3].AsSpan().IndexOfAny("\"\r\n\0") >= 0)
        {
            // The realm goes between quotes in a header (RFC 7617 2, RFC 9110 5.6.4).
            diag.Error(line.Number, $"'{what}': the realm must not contain a double quote, CR, LF or NUL");
            return null;
        }
        return new HttpRequestAction(HttpRequestActionKind.Auth, 401, null, diag.At(line.Number)) { Realm = end == 4 ? w[3] : null };
    }

    /// <summary>
    /// `set-src EXPR` (4.2 "http-request set-src"): the request's source address becomes the expression's (an address,
    /// or a string holding one), the port kept; without one the source stays as it was.
    /// </summary>
    internal HttpRequestAction? ParseSetSrc(ConfigLine line, int end, string what)
    {
        var w = line.Words;
        if (end != 3)
        {
            diag.Error(line.Number, end < 3 ? $"'{what}': missing expression, expected '{what} EXPR [if|unless COND]'"
                : $"'{what}': unexpected {ConfigDiagnostics.Quote(w[3])}");
            return null;
        }
        if (acls.Samples.ParseWhole(w[2], out var error) is not { } expr)
        {
            diag.Error(line.Number, $"'{what}': {error}");
            return null;
        }
        return new HttpRequestAction(HttpRequestActionKind.SetSrc, 0, null, diag.At(line.Number)) { Expr = expr };
    }

    private static readonly string[] LogLevels = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "silent"];

    /// <summary>
    /// `set-log-level LEVEL` (4.2 "http-request set-log-level"): the request's log line is sent at LEVEL, one of the
    /// syslog levels, or not at all with `silent`.
    /// </summary>
    private HttpRequestAction? ParseSetLogLevel(ConfigLine line, int end, string what)
    {
        var w = line.Words;
        int level = end == 3 ? Array.IndexOf(LogLevels, w[2]) : -1;
        if (level < 0)
        {
            diag.Error(line.Number, end == 3
                ? $"'{what}': unknown level {ConfigDiagnostics.Quote(w[2])} (expected {string.Join(", ", LogLevels)})"
                : $"'{what}': expected '{what} LEVEL [if|unless COND]'");
            return null;
        }
        return new HttpRequestAction(HttpRequestActionKind.SetLogLevel, 0, null, diag.At(line.Number)) { LogLevel = level };
    }

    /// <summary>
    /// `use-service prometheus-exporter` (4.2 "http-request use-service", addons/promex): the worker answers with the
    /// board's metrics (Proxy.Shared.Stats.PrometheusExporter). The one service HAProxy 2.6 builds in.
    /// </summary>
    private HttpRequestAction? ParseUseService(ConfigLine line, int end, string what)
    {
        var w = line.Words;
        if (end != 3 || w[2] != "prometheus-exporter")
        {
            diag.Error(line.Number, end < 3
                ? $"'{what}': expected '{what} prometheus-exporter [if|unless COND]'"
                : $"'{what}': unknown service {ConfigDiagnostics.Quote(w[2])} (only 'prometheus-exporter')");
            return null;
        }
        return new HttpRequestAction(HttpRequestActionKind.UseService, 200, null, diag.At(line.Number)) { Service = w[2] };
    }

    /// <summary>`set-path|set-query|set-uri|set-method FMT` (4.2 "http-request set-path"...): the part of the request line replaced.</summary>
    private HttpRequestAction? ParseSetStartLine(ConfigLine line, int end, string action)
    {
        var w = line.Words;
        string what = $"http-request {action}";
        if (end != 3)
        {
            diag.Error(line.Number, end < 3 ? $"'{what}': missing value, expected '{what} FMT [if|unless COND]'"
                : $"'{what}': unexpected {ConfigDiagnostics.Quote(w[3])} (quote a value with spaces)");
            return null;
        }
        if (LogFormatParser.Parse(w[2], acls.Samples, out var error) is not { } format)
        {
            diag.Error(line.Number, $"'{what}': {error}");
            return null;
        }
        var kind = action switch
        {
            "set-path" => HttpRequestActionKind.SetPath,
            "set-pathq" => HttpRequestActionKind.SetPathQ,
            "set-query" => HttpRequestActionKind.SetQuery,
            "set-uri" => HttpRequestActionKind.SetUri,
            _ => HttpRequestActionKind.SetMethod,
        };
        return new HttpRequestAction(kind, 0, null, diag.At(line.Number)) { ValueFormat = format };
    }

    /// <summary>`set-var(NAME) EXPR`, `set-var-fmt(NAME) FMT`, `unset-var(NAME)` (4.2 "http-request set-var").</summary>
    internal HttpRequestAction? ParseVariableAction(ConfigLine line, int end, string action, string keyword = "http-request")
    {
        var w = line.Words;
        int open = action.IndexOf('(');
        string verb = action[..open];
        string what = $"{keyword} {verb}";
        if (!action.EndsWith(')'))
        {
            diag.Error(line.Number, $"'{what}': missing ')' after the variable name");
            return null;
        }
        // 2.6: `set-var(NAME,COND...)`, the variable set only when its conditions hold (VarSetConditions.cs).
        if (!VarSetConditionsParser.TrySplit(action[(open + 1)..^1], out string name, out var conditions, out string? condError))
        {
            diag.Error(line.Number, $"'{what}': {condError}");
            return null;
        }
        if (verb == "unset-var" && action.Contains(','))
        {
            diag.Error(line.Number, $"'{what}': unset-var does not expect parameters after the variable name; only set-var and set-var-fmt take conditions");
            return null;
        }
        if (!SampleExprParser.IsVariableName(name))
        {
            diag.Error(line.Number, $"'{what}': invalid variable name {ConfigDiagnostics.Quote(name)}, expected 'proc|sess|txn|req|res.NAME'");
            return null;
        }
        if (verb == "unset-var")
        {
            if (end != 2)
            {
                diag.Error(line.Number, $"'{what}': unexpected {ConfigDiagnostics.Quote(w[2])}");
                return null;
            }
            return new HttpRequestAction(HttpRequestActionKind.UnsetVar, 0, null, diag.At(line.Number)) { Variable = name };
        }
        if (end != 3)
        {
            diag.Error(line.Number, end < 3 ? $"'{what}': missing {(verb == "set-var" ? "expression" : "format")}, expected '{what}({name}) {(verb == "set-var" ? "EXPR" : "FMT")} [if|unless COND]'"
                : $"'{what}': unexpected {ConfigDiagnostics.Quote(w[3])}");
            return null;
        }
        string? error;
        if (verb == "set-var")
        {
            if (acls.Samples.ParseWhole(w[2], out error) is { } expr)
                return new HttpRequestAction(HttpRequestActionKind.SetVar, 0, null, diag.At(line.Number)) { Variable = name, Expr = expr, VarConditions = conditions };
        }
        else if (LogFormatParser.Parse(w[2], acls.Samples, out error) is { } format)
        {
            return new HttpRequestAction(HttpRequestActionKind.SetVar, 0, null, diag.At(line.Number)) { Variable = name, ValueFormat = format, VarConditions = conditions };
        }
        diag.Error(line.Number, $"'{what}': {error}");
        return null;
    }

    /// <summary>
    /// `http-response deny [deny_status CODE]` (502 by default), `http-response set-status CODE [reason TEXT]`,
    /// `http-response allow` and `http-response set-var|set-var-fmt|unset-var` (4.2).
    /// </summary>
    private void ParseResponseAction(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        string what = $"http-response {w[1]}";
        int end = IndexOfCondition(w, 2);
        HttpResponseAction? action = null;
        if (w[1] == "deny")
        {
            if (ParseDeny(line, end, what) is { } deny) action = new HttpResponseAction(true, end > 2 ? deny.Status : 502, null, null, deny.Location);
        }
        else if (w[1] is "return" or "redirect")
        {
            // 4.2 "http-response return|redirect": the server's response is dropped and this one sent instead; a
            // redirect in a response may only be 'location' (HAProxy's own check, http_parse_redirect_rule).
            var answer = w[1] == "return" ? ParseReturn(line, end, what) : ParseRedirect(line, end, what);
            if (answer is { Kind: HttpRequestActionKind.Redirect, Redirect: not RedirectKind.Location })
                diag.Error(line.Number, $"'{what}': a response only supports the redirect type 'location'");
            else if (answer is not null)
                action = new HttpResponseAction(false, answer.Status, null, null, answer.Location) { Answer = answer };
        }
        else if (w[1] == "set-log-level")
        {
            if (ParseSetLogLevel(line, end, what) is { } level) action = new HttpResponseAction(false, 0, null, null, level.Location) { Variable = level };
        }
        else if (w[1] == "capture")
        {
            if (ParseCapture(proxy, line, 2, end, what, response: true) is { } capture)
                action = new HttpResponseAction(false, 0, null, null, capture.Location) { Variable = capture };
        }
        else if (w[1] == "allow")
        {
            // 4.2 "http-response allow": stops the evaluation of this proxy's http-response actions.
            if (ParseSilentDrop(line, end, what) is not null) action = new HttpResponseAction(false, 0, null, null, diag.At(line.Number)) { Allow = true };
        }
        else if (w[1].Contains('('))
        {
            what = $"http-response {w[1][..w[1].IndexOf('(')]}";
            if (ParseVariableAction(line, end, w[1], "http-response") is { } variable)
                action = new HttpResponseAction(false, 0, null, null, variable.Location) { Variable = variable };
        }
        else if (end is not (3 or 5) || (end == 5 && w[3] != "reason"))
        {
            diag.Error(line.Number, $"'{what}': expected '{what} CODE [reason TEXT] [if|unless COND]'");
        }
        else if (!int.TryParse(w[2], NumberStyles.None, CultureInfo.InvariantCulture, out int code) || code is < 100 or > 999)
        {
            diag.Error(line.Number, $"'{what}': invalid status {ConfigDiagnostics.Quote(w[2])} (expected 100 to 999)");
        }
        else if (end == 5 && w[4].AsSpan().IndexOfAny("\r\n\0") >= 0)
        {
            diag.Error(line.Number, $"'{what}': the reason must not contain CR, LF or NUL");
        }
        else
        {
            action = new HttpResponseAction(false, code, end == 5 ? w[4] : null, null, diag.At(line.Number));
        }
        if (action is null) return;
        ConditionConfig? condition = null;
        if (end < w.Count && (condition = acls.ParseCondition(proxy, line, end, "http-response")) is null) return;
        proxy.ResponseActions.Add(action with { Condition = condition });
        MarkHttpOnly(proxy, line.Number, "http-response");
    }

    private bool TryStatus(ConfigLine line, string text, HashSet<int> allowed, string what, out int status)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out status) && allowed.Contains(status)) return true;
        diag.Error(line.Number, $"'{what}': status {ConfigDiagnostics.Quote(text)} is not allowed (expected one of {string.Join(", ", allowed.Order())})");
        return false;
    }
}
