using System.Text.RegularExpressions;

namespace Proxy.Shared.Config;

/// <summary>
/// `option httpchk [METHOD] [URI] [VERSION]` and `http-check send|expect` (doc/configuration.txt 4.2), in
/// defaults, backend and listen sections. Allowed in `mode tcp` too: HAProxy checks a TCP server over HTTP
/// when told to. A proxy's first `http-check expect` replaces the rules it inherited from its defaults.
/// </summary>
internal sealed class HttpCheckParser(ConfigDiagnostics diag)
{
    // http-check actions and expect options HAProxy has that are not implemented here.
    private static readonly HashSet<string> UnsupportedActions = ["connect", "comment", "set-var", "set-var-fmt", "unset-var"];
    private static readonly HashSet<string> UnsupportedExpectOptions =
        ["min-recv", "comment", "ok-status", "error-status", "tout-status", "on-success", "on-error", "status-code", "hdr", "fhdr", "custom"];
    private static readonly HashSet<string> UnsupportedSendOptions = ["uri-lf", "body-lf", "comment"];

    /// <summary>`[no] option httpchk [METHOD] [URI] [VERSION]`; one argument is the URI (HAProxy's short form).</summary>
    public void ParseOption(ProxyDraft proxy, ConfigLine line, bool negated, int at)
    {
        var w = line.Words;
        int args = w.Count - at - 1;
        if (negated)
        {
            if (args > 0) diag.Error(line.Number, $"'no option httpchk': unexpected {ConfigDiagnostics.Quote(w[at + 1])}");
            else proxy.HttpCheckEnabled = false;
            return;
        }
        if (args > 3)
        {
            diag.Error(line.Number, $"'option httpchk': unexpected {ConfigDiagnostics.Quote(w[at + 4])}, expected 'option httpchk [METHOD] [URI] [VERSION]'");
            return;
        }
        var d = HttpCheckSettings.Default;
        var (method, uri, version) = args switch
        {
            0 => (d.Method, d.Uri, d.Version),
            1 => (d.Method, w[at + 1], d.Version),
            2 => (w[at + 1], w[at + 2], d.Version),
            _ => (w[at + 1], w[at + 2], w[at + 3]),
        };
        if (!CheckToken(line.Number, "option httpchk", "method", method) || !CheckUri(line.Number, "option httpchk", uri)) return;
        proxy.HttpCheckEnabled = true;
        proxy.TcpCheckOption = null;            // one check kind per backend: the last option wins (PR_O2_CHK_ANY)
        proxy.HttpCheck = proxy.HttpCheck with { Method = method, Uri = uri, Version = version };
    }

    /// <summary>`http-check send ...` and `http-check expect ...`.</summary>
    public void ParseHttpCheck(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        proxy.FirstHttpCheckLine ??= n;
        if (w.Count < 2)
        {
            diag.Error(n, "'http-check': missing argument, expected 'http-check send|expect ...'");
            return;
        }
        switch (w[1])
        {
            case "send":
                ParseSend(proxy, line);
                return;
            case "expect":
                ParseExpect(proxy, line);
                return;
            case "send-state":
                // 4.2 "http-check send-state": each check request carries the X-Haproxy-Server-State header.
                if (LineChecks.Exactly(diag, line, 0, "http-check send-state", keywordWords: 2))
                    proxy.HttpCheck = proxy.HttpCheck with { SendState = true };
                return;
            case "disable-on-404":
                // 4.2 "http-check disable-on-404": a 404 takes an UP server to NOLB; 2xx/3xx brings it back.
                if (LineChecks.Exactly(diag, line, 0, "http-check disable-on-404", keywordWords: 2))
                    proxy.HttpCheck = proxy.HttpCheck with { DisableOn404 = true };
                return;
        }
        diag.Error(n, UnsupportedActions.Contains(w[1])
            ? $"'http-check {w[1]}' is not supported yet"
            : $"'http-check': unknown action {ConfigDiagnostics.Quote(w[1])} (expected send or expect)");
    }

    /// <summary>`http-check send [meth M] [uri U] [ver V] [hdr NAME VALUE]... [body STRING]` (HAProxy 2.2+).</summary>
    private void ParseSend(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        var s = proxy.HttpCheck;
        var headers = new List<(string, string)>();
        for (int i = 2; i < w.Count; i++)
        {
            var option = w[i];
            if (option is not ("meth" or "uri" or "ver" or "hdr" or "body"))
            {
                diag.Error(n, UnsupportedSendOptions.Contains(option)
                    ? $"'http-check send': option '{option}' is not supported yet"
                    : $"'http-check send': unknown option {ConfigDiagnostics.Quote(option)} (expected meth, uri, ver, hdr or body)");
                return;
            }
            int need = option == "hdr" ? 2 : 1;
            if (i + need >= w.Count)
            {
                diag.Error(n, option == "hdr"
                    ? "'http-check send': option 'hdr' needs a name and a value"
                    : $"'http-check send': option '{option}' needs a value");
                return;
            }
            var value = w[++i];
            switch (option)
            {
                case "meth":
                    if (!CheckToken(n, "http-check send meth", "method", value)) return;
                    s = s with { Method = value };
                    break;
                case "uri":
                    if (!CheckUri(n, "http-check send uri", value)) return;
                    s = s with { Uri = value };
                    break;
                case "ver":
                    s = s with { Version = value };
                    break;
                case "body":
                    s = s with { Body = value };
                    break;
                default:
                    if (!CheckToken(n, "http-check send hdr", "header name", value)) return;
                    // Connection is ours: the check always closes after one response.
                    if (value.Equals("connection", StringComparison.OrdinalIgnoreCase) || value.Equals("content-length", StringComparison.OrdinalIgnoreCase))
                    {
                        diag.Error(n, $"'http-check send hdr': the header {ConfigDiagnostics.Quote(value)} is set by the check itself");
                        return;
                    }
                    headers.Add((value, w[++i]));
                    break;
            }
        }
        proxy.HttpCheck = headers.Count > 0 ? s with { Headers = headers } : s;
    }

    /// <summary>`http-check expect [!] status|rstatus|string|rstring PATTERN`.</summary>
    private void ParseExpect(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        int i = 2;
        const string usage = "http-check expect [!] status|rstatus|string|rstring PATTERN";
        if (i < w.Count && UnsupportedExpectOptions.Contains(w[i]))
        {
            diag.Error(n, $"'http-check expect {w[i]}' is not supported yet");
            return;
        }
        bool negate = i < w.Count && w[i] == "!";
        if (negate) i++;
        if (i + 1 >= w.Count)
        {
            diag.Error(n, $"'http-check expect': missing argument, expected '{usage}'");
            return;
        }
        if (i + 2 < w.Count)
        {
            diag.Error(n, $"'http-check expect': unexpected {ConfigDiagnostics.Quote(w[i + 2])}, expected '{usage}'");
            return;
        }
        var kind = w[i];
        var pattern = w[i + 1];
        HttpCheckExpect? rule = kind switch
        {
            "status" => ParseStatuses(n, pattern) is { } ranges
                ? new HttpCheckExpect(HttpCheckMatch.Status, negate, pattern, ranges, null, diag.At(n)) : null,
            "rstatus" => ParseRegex(n, kind, pattern) is { } r1 ? new HttpCheckExpect(HttpCheckMatch.RStatus, negate, pattern, [], r1, diag.At(n)) : null,
            "string" => new HttpCheckExpect(HttpCheckMatch.String, negate, pattern, [], null, diag.At(n)),
            "rstring" => ParseRegex(n, kind, pattern) is { } r2 ? new HttpCheckExpect(HttpCheckMatch.RString, negate, pattern, [], r2, diag.At(n)) : null,
            _ => Unknown(n, kind, usage),
        };
        if (rule is null) return;
        // The first rule of a proxy replaces the inherited ones; later ones are added (all must pass).
        var expects = proxy.HttpCheckOwnExpects ? [.. proxy.HttpCheck.Expects, rule] : new List<HttpCheckExpect> { rule };
        proxy.HttpCheckOwnExpects = true;
        proxy.HttpCheck = proxy.HttpCheck with { Expects = expects };
    }

    private HttpCheckExpect? Unknown(int n, string kind, string usage)
    {
        diag.Error(n, UnsupportedExpectOptions.Contains(kind)
            ? $"'http-check expect {kind}' is not supported yet"
            : $"'http-check expect': unknown match {ConfigDiagnostics.Quote(kind)}, expected '{usage}'");
        return null;
    }

    /// <summary>`200`, `200,204`, `200-299,302`: codes from 100 to 999.</summary>
    private List<(int, int)>? ParseStatuses(int n, string pattern)
    {
        var ranges = new List<(int, int)>();
        foreach (var part in pattern.Split(','))
        {
            int dash = part.IndexOf('-');
            string lo = dash < 0 ? part : part[..dash], hi = dash < 0 ? part : part[(dash + 1)..];
            if (!IntValue.TryParse(lo, out int low) || !IntValue.TryParse(hi, out int high) || low < 100 || high > 999 || low > high)
            {
                diag.Error(n, $"'http-check expect status': expected status codes like 200, 200,204 or 200-299, got {ConfigDiagnostics.Quote(pattern)}");
                return null;
            }
            ranges.Add((low, high));
        }
        return ranges;
    }

    private Regex? ParseRegex(int n, string kind, string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException e)
        {
            diag.Error(n, $"'http-check expect {kind}': invalid regular expression {ConfigDiagnostics.Quote(pattern)}: {e.Message}");
            return null;
        }
    }

    /// <summary>RFC 9110 5.6.2 token characters, for methods and header names.</summary>
    private bool CheckToken(int n, string keyword, string what, string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            return true;
        diag.Error(n, $"'{keyword}': invalid {what} {ConfigDiagnostics.Quote(value)}");
        return false;
    }

    private bool CheckUri(int n, string keyword, string value)
    {
        if (value.Length > 0 && value.All(c => c > ' ' && c < 0x7f))
            return true;
        diag.Error(n, $"'{keyword}': invalid URI {ConfigDiagnostics.Quote(value)}");
        return false;
    }
}
