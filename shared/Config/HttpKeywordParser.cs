namespace Proxy.Shared.Config;

/// <summary>
/// The `mode http` proxy keywords (doc/configuration.txt 4.2): `option http-keep-alive|http-server-close|httpclose`,
/// `option forwardfor`, `errorfile`, `http-request|http-response set-header|add-header|del-header`, `use_backend`;
/// `http-request deny|return|redirect` in HttpKeywordParser.RequestActions.cs.
/// </summary>
/// <param name="bufSize">`tune.bufsize` as read so far: the largest file `errorfile` and `return file` accept</param>
internal sealed partial class HttpKeywordParser(ConfigDiagnostics diag, AclParser acls, Func<int> bufSize)
{
    // 4.2 "errorfile": the status codes HAProxy can generate and lets a file replace.
    private static readonly HashSet<int> ErrorFileCodes = [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504];

    /// <summary>Handles the http options; false when <paramref name="name"/> is not one of them.</summary>
    public bool TryParseOption(ProxyDraft proxy, ConfigLine line, string name, bool negated, int at)
    {
        var w = line.Words;
        var prefix = negated ? "no option" : "option";
        switch (name)
        {
            case "http-keep-alive":
            case "http-server-close":
            case "httpclose":
                if (w.Count > at + 1)
                {
                    diag.Error(line.Number, $"'{prefix} {name}': unexpected {ConfigDiagnostics.Quote(w[at + 1])}");
                    return true;
                }
                // `no option X` returns to the default mode (keep-alive) when X was the one in force.
                var mode = name switch
                {
                    "httpclose" => HttpConnectionMode.Close,
                    "http-server-close" => HttpConnectionMode.ServerClose,
                    _ => HttpConnectionMode.KeepAlive,
                };
                if (!negated) proxy.ConnectionMode = mode;
                else if (proxy.ConnectionMode == mode) proxy.ConnectionMode = HttpConnectionMode.KeepAlive;
                MarkHttpOnly(proxy, line.Number, $"option {name}");
                return true;
            case "forwardfor":
            case "originalto":
                if (negated)
                {
                    if (w.Count > at + 1) diag.Error(line.Number, $"'no option {name}': unexpected {ConfigDiagnostics.Quote(w[at + 1])}");
                    else if (name == "forwardfor") proxy.ForwardFor = null;
                    else proxy.OriginalTo = null;
                    return true;
                }
                if (ParseForwardFor(line, at, name) is not { } option) return true;
                if (name == "forwardfor") proxy.ForwardFor = option;
                else proxy.OriginalTo = option;
                MarkHttpOnly(proxy, line.Number, $"option {name}");
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// `option forwardfor [except NETWORK] [header NAME] [if-none]` (the header defaults to X-Forwarded-For) and
    /// `option originalto [except NETWORK] [header NAME]` (X-Original-To); null (reported) when invalid.
    /// </summary>
    private ForwardForOption? ParseForwardFor(ConfigLine line, int at, string name)
    {
        var w = line.Words;
        string header = name == "forwardfor" ? "X-Forwarded-For" : "X-Original-To";
        string usage = name == "forwardfor" ? "option forwardfor [except NETWORK] [header NAME] [if-none]" : "option originalto [except NETWORK] [header NAME]";
        System.Net.IPNetwork? except = null;
        bool ifNone = false;
        for (int i = at + 1; i < w.Count; i++)
        {
            if (w[i] == "if-none" && name == "forwardfor")
            {
                ifNone = true;
                continue;
            }
            if (w[i] == "except" && i + 1 < w.Count)
            {
                if (!AclParser.TryNetwork(w[++i], out var net))
                {
                    diag.Error(line.Number, $"'option {name}': 'except' expects a network like 10.0.0.0/8, got {ConfigDiagnostics.Quote(w[i])}");
                    return null;
                }
                except = net;
            }
            else if (w[i] == "header" && i + 1 < w.Count)
            {
                if (!IsToken(w[++i]))
                {
                    diag.Error(line.Number, $"'option {name}': invalid header name {ConfigDiagnostics.Quote(w[i])}");
                    return null;
                }
                header = w[i];
            }
            else
            {
                diag.Error(line.Number, $"'option {name}': unexpected {ConfigDiagnostics.Quote(w[i])}, expected '{usage}'");
                return null;
            }
        }
        return new ForwardForOption(header, except) { IfNone = ifNone };
    }

    /// <summary>`errorfile CODE FILE`: the file is a complete HTTP response, read now (an error if it cannot be).</summary>
    public void ParseErrorFile(ProxyDraft proxy, ConfigLine line) => ParseErrorFile(proxy.ErrorFiles, line);

    /// <summary>`errorfile CODE FILE` into <paramref name="pages"/>: a proxy's, or an `http-errors` section's.</summary>
    private void ParseErrorFile(Dictionary<int, byte[]> pages, ConfigLine line)
    {
        var w = line.Words;
        if (!LineChecks.Exactly(diag, line, 2, "errorfile CODE FILE")) return;
        if (!int.TryParse(w[1], System.Globalization.NumberStyles.None, null, out int code) || !ErrorFileCodes.Contains(code))
        {
            diag.Error(line.Number, $"'errorfile': status code {ConfigDiagnostics.Quote(w[1])} cannot be customized (expected one of {string.Join(", ", ErrorFileCodes)})");
            return;
        }
        if (!TryReadFile(line, w[2], $"errorfile {code}", out byte[] content)) return;
        // An empty file (`errorfile 408 /dev/null`, HAProxy's own example for browsers' pre-connections) closes
        // without answering; anything else must be a whole response.
        if (content.Length > 0 && !content.AsSpan().StartsWith("HTTP/"u8))
        {
            diag.Error(line.Number, $"'errorfile {code}': {ConfigDiagnostics.Quote(w[2])} must hold a complete HTTP response starting with 'HTTP/'");
            return;
        }
        pages[code] = content;
    }

    /// <summary>
    /// `errorloc|errorloc302|errorloc303 CODE URL` (4.2): the error HAProxy would generate for CODE becomes a redirect to
    /// URL, 302 (303 for errorloc303), in HAProxy's bytes; it takes the place of that code's errorfile.
    /// </summary>
    public void ParseErrorLoc(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        string keyword = w[0];
        if (!LineChecks.Exactly(diag, line, 2, $"{keyword} CODE URL")) return;
        if (!int.TryParse(w[1], System.Globalization.NumberStyles.None, null, out int code) || !ErrorFileCodes.Contains(code))
        {
            diag.Error(line.Number, $"'{keyword}': status code {ConfigDiagnostics.Quote(w[1])} cannot be customized (expected one of {string.Join(", ", ErrorFileCodes)})");
            return;
        }
        if (w[2].Length == 0 || w[2].AsSpan().IndexOfAny(" \t\r\n\0") >= 0)
        {
            diag.Error(line.Number, $"'{keyword}': invalid URL {ConfigDiagnostics.Quote(w[2])}");
            return;
        }
        string status = keyword == "errorloc303" ? "303 See Other" : "302 Found";
        proxy.ErrorFiles[code] = System.Text.Encoding.UTF8.GetBytes($"HTTP/1.1 {status}\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: {w[2]}\r\n\r\n");
    }

    /// <summary>`http-request|http-response set-header|add-header|del-header NAME [VALUE] [if|unless COND]`.</summary>
    public void ParseHeaderRule(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        var keyword = w[0];
        // HAProxy's own warning: the `redirect` rules run after every http-request rule (HttpKeywordParser.RequestActions.cs).
        if (keyword == "http-request" && proxy.Redirects.Count > 0)
            diag.Warning(line.Number, "a 'http-request' rule placed after a 'redirect' rule will still be processed before");
        HeaderAction action = HeaderAction.Set;
        switch (w.Count < 2 ? "" : w[1])
        {
            case "set-header": action = HeaderAction.Set; break;
            case "add-header": action = HeaderAction.Add; break;
            case "del-header": action = HeaderAction.Delete; break;
            case "replace-header": action = HeaderAction.Replace; break;
            case "replace-value": action = HeaderAction.ReplaceValue; break;
            case "": break;
            case "deny" or "return" or "redirect" or "use-service" or "set-path" or "set-pathq" or "set-query" or "set-uri" or "set-method" or "auth" when keyword == "http-request":
                ParseRequestAction(proxy, line);
                return;
            case "tarpit" or "silent-drop" or "allow" or "set-log-level" or "set-src" or "set-dst" or "set-dst-port" or "capture" when keyword == "http-request":
                ParseRequestAction(proxy, line);
                return;
            case "deny" or "set-status" or "allow" or "return" or "redirect" or "set-log-level" or "capture" when keyword == "http-response":
                ParseResponseAction(proxy, line);
                return;
            case var v when keyword == "http-response" && (v.StartsWith("set-var(", StringComparison.Ordinal)
                || v.StartsWith("set-var-fmt(", StringComparison.Ordinal) || v.StartsWith("unset-var(", StringComparison.Ordinal)):
                ParseResponseAction(proxy, line);
                return;
            case var v when keyword == "http-request" && (v.StartsWith("set-var(", StringComparison.Ordinal)
                || v.StartsWith("set-var-fmt(", StringComparison.Ordinal) || v.StartsWith("unset-var(", StringComparison.Ordinal)):
                ParseRequestAction(proxy, line);
                return;
            case var v when keyword == "http-request" && IsStickAction(v):
                ParseRequestAction(proxy, line);
                return;
            default:
                diag.Error(line.Number, keyword == "http-request"
                    ? $"'{keyword} {w[1]}' is not supported yet (only set-header, add-header, del-header, replace-header, replace-value, allow, deny, return, redirect, auth, set-log-level, set-src, set-dst, set-dst-port, capture, set-var, set-var-fmt, unset-var, set-path, set-pathq, set-query, set-uri, set-method and use-service prometheus-exporter)"
                    : $"'{keyword} {w[1]}' is not supported yet (only set-header, add-header, del-header, replace-header, replace-value, allow, deny, return, redirect, set-status, set-log-level, capture, set-var, set-var-fmt and unset-var)");
                return;
        }
        if (w.Count < 3)
        {
            diag.Error(line.Number, $"'{keyword}': missing argument, expected '{keyword} set-header|add-header|del-header NAME [VALUE] [if|unless COND]'");
            return;
        }
        if (!IsToken(w[2]))
        {
            diag.Error(line.Number, $"'{keyword} {w[1]}': invalid header name {ConfigDiagnostics.Quote(w[2])}");
            return;
        }
        int condAt = IndexOfCondition(w, 3);
        int valueWords = condAt - 3;
        string? value = null;
        System.Text.RegularExpressions.Regex? pattern = null;
        if (action is HeaderAction.Replace or HeaderAction.ReplaceValue)
        {
            // `replace-header NAME REGEX REPLACE-FMT` (4.2): the regex, then a log-format replacement.
            if (valueWords != 2)
            {
                diag.Error(line.Number, valueWords < 2
                    ? $"'{keyword} {w[1]}': missing argument, expected '{keyword} {w[1]} NAME REGEX REPLACE-FMT [if|unless COND]'"
                    : $"'{keyword} {w[1]}': unexpected {ConfigDiagnostics.Quote(w[5])} (quote a value with spaces)");
                return;
            }
            if (!SampleExprParser.TryRegex(w[3], false, out pattern, out var regexError))
            {
                diag.Error(line.Number, $"'{keyword} {w[1]}': invalid regex {ConfigDiagnostics.Quote(w[3])}: {regexError}");
                return;
            }
            // The value checks below apply to the replacement.
            line = line with { Words = [.. w.Take(3), .. w.Skip(4)] };
            w = line.Words;
            condAt--;
            valueWords--;
        }
        if (action == HeaderAction.Delete)
        {
            if (valueWords > 0)
            {
                // `del-header NAME -m METH` matching methods are HAProxy's too, not ours yet.
                diag.Error(line.Number, $"'{keyword} del-header': unexpected {ConfigDiagnostics.Quote(w[3])}");
                return;
            }
        }
        else
        {
            if (valueWords != 1)
            {
                diag.Error(line.Number, valueWords == 0
                    ? $"'{keyword} {w[1]}': missing value, expected '{keyword} {w[1]} NAME VALUE [if|unless COND]'"
                    : $"'{keyword} {w[1]}': unexpected {ConfigDiagnostics.Quote(w[4])} (quote a value with spaces)");
                return;
            }
            value = w[3];
            foreach (char c in value)
            {
                if (c is '\r' or '\n' or '\0')
                {
                    diag.Error(line.Number, $"'{keyword} {w[1]}': the value must not contain CR, LF or NUL");
                    return;
                }
            }
        }
        // The value is a log-format string (8.2.4): `%[src]`, `%ci`...; compiled now, rendered per request.
        LogFormatConfig? format = null;
        if (value is not null && value.Contains('%') && (format = ParseValueFormat(line, $"{keyword} {w[1]}", value)) is null) return;
        ConditionConfig? condition = null;
        if (condAt < w.Count && (condition = acls.ParseCondition(proxy, line, condAt, keyword)) is null) return;
        var rule = new HeaderRule(action, w[2], value, condition, diag.At(line.Number)) { Format = format, Pattern = pattern };
        (keyword == "http-request" ? proxy.RequestRules : proxy.ResponseRules).Add(rule);
        MarkHttpOnly(proxy, line.Number, keyword);
    }

    /// <summary>
    /// `monitor-uri URI` (4.2): the last one counts; a URI starting with '/' is matched against the path, any other
    /// against the whole request target. `monitor fail if|unless COND` (4.2): the monitor request fails (503) when
    /// any of them holds.
    /// </summary>
    public void ParseMonitor(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (w[0] == "monitor-uri")
        {
            if (!LineChecks.Exactly(diag, line, 1, "monitor-uri URI")) return;
            if (w[1].Length == 0 || w[1].AsSpan().IndexOfAny(" \t\r\n\0") >= 0)
            {
                diag.Error(line.Number, $"'monitor-uri': invalid URI {ConfigDiagnostics.Quote(w[1])}");
                return;
            }
            proxy.MonitorUri = w[1];
        }
        else
        {
            if (w.Count < 4 || w[1] != "fail" || w[2] is not ("if" or "unless"))
            {
                diag.Error(line.Number, "'monitor': expected 'monitor fail if|unless CONDITION'");
                return;
            }
            if (acls.ParseCondition(proxy, line, 2, "monitor fail") is not { } condition) return;
            // HAProxy's own warning: monitor requests are answered before any http-request rule (HttpSession).
            if (proxy.RequestActions.Count > 0 || proxy.RequestRules.Count > 0)
                diag.Warning(line.Number, "a 'monitor fail' rule placed after an 'http-request' rule will still be processed before");
            proxy.MonitorFail.Add(condition);
        }
        if (proxy.Capabilities != ProxyCapabilities.Defaults) MarkHttpOnly(proxy, line.Number, w[0] == "monitor" ? "monitor fail" : "monitor-uri");
    }

    /// <summary>`use_backend BACKEND if|unless COND` (a rule without a condition is HAProxy's, but always true: use default_backend).</summary>
    public void ParseUseBackend(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        // HAProxy accepts `use_backend NAME` alone: the rule always applies (as `if TRUE`).
        if (w.Count == 2)
        {
            line = line with { Words = [w[0], w[1], "if", "TRUE"] };
            w = line.Words;
        }
        if (w.Count < 4 || (w[2] != "if" && w[2] != "unless"))
        {
            diag.Error(line.Number, "'use_backend': expected 'use_backend BACKEND [if|unless CONDITION]'");
            return;
        }
        // 4.2: "a log-format string resolving to a backend name", resolved at run time (worker/Runtime/DynamicBackendName.cs).
        LogFormatConfig? nameFormat = null;
        if (w[1].Contains('%') && (nameFormat = ParseValueFormat(line, "use_backend", w[1])) is null) return;
        if (acls.ParseCondition(proxy, line, 2, "use_backend") is { } condition)
            proxy.UseBackends.Add(new UseBackendRule(w[1], condition, diag.At(line.Number)) { NameFormat = nameFormat is { IsConstant: false } ? nameFormat : null });
    }

    /// <summary>
    /// Reads a file named in the config now (errorfile, `return file`); a file that cannot be read is an error. It must
    /// be a regular file (or /dev/null) no larger than `tune.bufsize` as set by the lines above it: HAProxy 2.6 refuses a
    /// larger `return file` ("exceeds the buffer size") and truncates a larger errorfile, which then no longer parses
    /// as a response; a device or FIFO is refused, so `errorfile 503 /dev/zero` costs nothing.
    /// </summary>
    private bool TryReadFile(ConfigLine line, string path, string what, out byte[] content)
    {
        if (BoundedFileReader.TryRead(path, bufSize(), "tune.bufsize", allowFifo: false, out content) is not { } error) return true;
        diag.Error(line.Number, $"'{what}': cannot read {ConfigDiagnostics.Quote(path)}: {error}");
        return false;
    }

    /// <summary>A rule's log-format value; null (reported) when invalid.</summary>
    private LogFormatConfig? ParseValueFormat(ConfigLine line, string what, string value)
    {
        var format = LogFormatParser.Parse(value, acls.Samples, out var error);
        if (format is null) diag.Error(line.Number, $"'{what}': {error}");
        return format;
    }

    private static int IndexOfCondition(IReadOnlyList<string> w, int from)
    {
        for (int i = from; i < w.Count; i++)
            if (w[i] is "if" or "unless") return i;
        return w.Count;
    }

    private static void MarkHttpOnly(ProxyDraft proxy, int line, string keyword) => proxy.FirstHttpOnlyKeyword ??= (line, keyword);

    /// <summary>RFC 9110 5.1 field names are tokens.</summary>
    public static bool IsToken(string s)
    {
        if (s.Length == 0) return false;
        foreach (char c in s)
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))) return false;
        return true;
    }
}
