using System.Text;

namespace Proxy.Shared.Config;

/// <summary>
/// Parses a log-format string (doc/configuration.txt 8.2.4): `%%` a percent sign, `%[EXPR]` a sample expression,
/// `%VAR` a variable, `%{FLAGS}VAR` / `%{FLAGS}[EXPR]` with flags `+Q`, `+X`, `+E` (and their `-` forms). An unknown
/// variable or a bad expression is an error naming it.
/// </summary>
internal static class LogFormatParser
{
    private static readonly Dictionary<string, LogVariable> Variables = new(StringComparer.Ordinal)
    {
        ["ci"] = LogVariable.ClientIp, ["cp"] = LogVariable.ClientPort, ["fi"] = LogVariable.FrontendIp,
        ["fp"] = LogVariable.FrontendPort, ["f"] = LogVariable.FrontendName, ["ft"] = LogVariable.FrontendNameTransport,
        ["b"] = LogVariable.BackendName, ["s"] = LogVariable.ServerName, ["si"] = LogVariable.ServerIp,
        ["sp"] = LogVariable.ServerPort, ["TR"] = LogVariable.TimeRequest, ["Tw"] = LogVariable.TimeQueue,
        ["Tc"] = LogVariable.TimeConnect, ["Tr"] = LogVariable.TimeResponse, ["Ta"] = LogVariable.TimeActive,
        ["Tt"] = LogVariable.TimeTotal, ["ST"] = LogVariable.Status, ["B"] = LogVariable.BytesRead,
        ["U"] = LogVariable.BytesUploaded, ["CC"] = LogVariable.CapturedRequestCookie, ["CS"] = LogVariable.CapturedResponseCookie,
        ["ts"] = LogVariable.TerminationState, ["tsc"] = LogVariable.TerminationStateCookie, ["ac"] = LogVariable.ActConn,
        ["fc"] = LogVariable.FeConn, ["bc"] = LogVariable.BeConn, ["sc"] = LogVariable.SrvConn, ["rc"] = LogVariable.Retries,
        ["sq"] = LogVariable.SrvQueue, ["bq"] = LogVariable.BackendQueue, ["hr"] = LogVariable.RequestHeaders,
        ["hrl"] = LogVariable.RequestHeadersList, ["hs"] = LogVariable.ResponseHeaders, ["hsl"] = LogVariable.ResponseHeadersList,
        ["r"] = LogVariable.RequestLine, ["HM"] = LogVariable.Method, ["HU"] = LogVariable.Uri, ["HP"] = LogVariable.Path,
        ["HQ"] = LogVariable.Query, ["HV"] = LogVariable.Version, ["ID"] = LogVariable.UniqueId, ["pid"] = LogVariable.Pid,
        ["t"] = LogVariable.Date, ["T"] = LogVariable.GmtDate, ["Tl"] = LogVariable.LocalDate, ["tr"] = LogVariable.RequestDate,
        ["ms"] = LogVariable.Milliseconds, ["H"] = LogVariable.Hostname, ["Ts"] = LogVariable.Timestamp,
        ["sslv"] = LogVariable.SslVersion, ["sslc"] = LogVariable.SslCipher,
        // The request's date in GMT / local time, CLF style; here the request's date is the one %T and %Tl print.
        ["trg"] = LogVariable.GmtDate, ["trl"] = LogVariable.LocalDate,
    };

    /// <summary>The name a variable is written with (its first one: `%T`, not `%trg`), for messages.</summary>
    public static string NameOf(LogVariable variable)
    {
        foreach (var (name, v) in Variables)
            if (v == variable) return name;
        return variable.ToString();
    }

    /// <summary>The format, or null with <paramref name="error"/> (a phrase naming what is wrong).</summary>
    public static LogFormatConfig? Parse(string text, SampleExprParser samples, out string? error)
    {
        error = null;
        var nodes = new List<LogFormatNode>();
        var defaultFlags = LogFormatFlags.None;   // `%{...}o` (8.2.4): the flags every later variable starts from
        var literal = new StringBuilder();
        void Flush()
        {
            if (literal.Length == 0) return;
            nodes.Add(new LogFormatNode(literal.ToString(), default, null, LogFormatFlags.None));
            literal.Clear();
        }
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c != '%')
            {
                literal.Append(c);
                continue;
            }
            if (i + 1 < text.Length && text[i + 1] == '%')
            {
                literal.Append('%');
                i++;
                continue;
            }
            int p = i + 1;
            var flags = defaultFlags;
            if (p < text.Length && text[p] == '{')
            {
                int close = text.IndexOf('}', p);
                if (close < 0)
                {
                    error = $"missing '}}' after '%{{' in {ConfigDiagnostics.Quote(text)}";
                    return null;
                }
                foreach (var flag in text[(p + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    LogFormatFlags f = flag.Length == 2 ? flag[1] switch { 'Q' => LogFormatFlags.Quote, 'X' => LogFormatFlags.Hex, 'E' => LogFormatFlags.Escape, _ => 0 } : 0;
                    if (f == 0 || flag[0] is not ('+' or '-'))
                    {
                        error = $"unknown log-format flag {ConfigDiagnostics.Quote(flag)} (expected +Q, +X, +E or their - forms)";
                        return null;
                    }
                    flags = flag[0] == '+' ? flags | f : flags & ~f;
                }
                p = close + 1;
            }
            if (p < text.Length && text[p] == '[')
            {
                int pos = p + 1;
                var expr = samples.Parse(text, ref pos, ']', out var exprError);
                if (expr is null)
                {
                    error = $"in '%[': {exprError}";
                    return null;
                }
                if (pos >= text.Length)
                {
                    error = $"missing ']' after '%[{text[(p + 1)..]}'";
                    return null;
                }
                Flush();
                nodes.Add(new LogFormatNode(null, default, expr, flags));
                i = pos;
                continue;
            }
            int start = p;
            while (p < text.Length && char.IsAsciiLetter(text[p])) p++;
            string name = text[start..p];
            if (name == "o")
            {
                defaultFlags = flags;
                i = p - 1;
                continue;
            }
            if (!Variables.TryGetValue(name, out var variable))
            {
                error = name.Length == 0
                    ? $"'%' must be followed by a variable, '[EXPR]' or '%' in {ConfigDiagnostics.Quote(text)}"
                    : $"unknown log-format variable '%{name}'";
                return null;
            }
            Flush();
            nodes.Add(new LogFormatNode(null, variable, null, flags));
            i = p - 1;
        }
        Flush();
        return new LogFormatConfig(text, nodes);
    }
}
