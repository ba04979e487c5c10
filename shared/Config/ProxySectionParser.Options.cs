namespace Proxy.Shared.Config;

/// <summary>`[no] option NAME` lines (doc/configuration.txt 4.2): the ones read here, and those handed to the check, log and http parsers.</summary>
internal sealed partial class ProxySectionParser
{
    // `option splice-*` (4.2) and the directions each one enables.
    internal static readonly Dictionary<string, SpliceDirections> SpliceOptions = new(StringComparer.Ordinal)
    {
        ["splice-auto"] = SpliceDirections.Both,
        ["splice-request"] = SpliceDirections.Request,
        ["splice-response"] = SpliceDirections.Response,
    };
    /// <summary>
    /// The `option`s this parser and its helpers implement besides <see cref="SpliceOptions"/> (ParseOption,
    /// HttpCheckParser, LogOptionParser, HttpKeywordParser); the README's keyword table lists them, and a test
    /// checks that each one parses.
    /// </summary>
    internal static readonly string[] ImplementedOptions =
    [
        "redispatch", "allbackups", "httpchk", "httplog", "tcplog", "dontlognull",
        "http-keep-alive", "http-server-close", "httpclose", "forwardfor", "httpslog", "persist",
        "http-ignore-probes", "originalto",
    ];

    /// <summary>`[no] option NAME`: `redispatch`, `allbackups` (4.2 "option redispatch", "option allbackups"), `httpchk` (HttpCheckParser) and the http ones (HttpKeywordParser).</summary>
    private void ParseOption(ProxyDraft proxy, ConfigLine line, bool negated)
    {
        var w = line.Words;
        int at = negated ? 2 : 1;              // index of the option name
        var prefix = negated ? "no option" : "option";
        if (w.Count <= at)
        {
            diag.Error(line.Number, $"'{prefix}': missing the option name");
            return;
        }
        var name = w[at];
        if (name is "redispatch" or "allbackups" or "persist")
        {
            if (!Allows(proxy, D | B))
            {
                ReportMisplaced(diag, proxy, line.Number, $"{prefix} {name}", D | B);
                return;
            }
            if (w.Count > at + 1)
            {
                diag.Error(line.Number, name == "redispatch"
                    ? $"'{prefix} redispatch': an interval is not supported yet, got {ConfigDiagnostics.Quote(w[at + 1])}"
                    : $"'{prefix} {name}': unexpected {ConfigDiagnostics.Quote(w[at + 1])}");
                return;
            }
            // `option allbackups` (4.2): with every active server down, balance over all backups, not the first one.
            // `option persist` (4.2): a request whose cookie designates a down server still goes to it.
            if (name == "redispatch") proxy.Redispatch = !negated;
            else if (name == "persist") proxy.Persist = !negated;
            else proxy.AllBackups = !negated;
            return;
        }
        if (SpliceOptions.TryGetValue(name, out var splice))
        {
            // `option splice-auto|splice-request|splice-response` (4.2): kernel splicing for those directions.
            if (w.Count > at + 1)
                diag.Error(line.Number, $"'{prefix} {name}' takes no argument, got {ConfigDiagnostics.Quote(w[at + 1])}");
            else
                proxy.Splice = negated ? proxy.Splice & ~splice : proxy.Splice | splice;
            return;
        }
        if (name == "httpchk")
        {
            if (!Allows(proxy, D | B))
                ReportMisplaced(diag, proxy, line.Number, $"{prefix} httpchk", D | B);
            else
                _httpCheck.ParseOption(proxy, line, negated, at);
            return;
        }
        if (name == "httpslog")
        {
            if (!Allows(proxy, D | F)) ReportMisplaced(diag, proxy, line.Number, $"{prefix} httpslog", D | F);
            else LogFormats.ParseHttpsLogOption(proxy, line, negated, at);
            return;
        }
        if (Array.IndexOf(TcpCheckParser.Options, name) >= 0)
        {
            if (!Allows(proxy, D | B))
                ReportMisplaced(diag, proxy, line.Number, $"{prefix} {name}", D | B);
            else
                _tcpCheck.TryParseOption(proxy, line, name, negated, at);
            return;
        }
        if (LogOptionParser.TryParse(diag, proxy, line, name, negated, at)) return;
        if (Http.TryParseOption(proxy, line, name, negated, at)) return;
        if (Extras.TryParseOption(proxy, line, name, negated, at)) return;
        diag.Error(line.Number, KnownKeywords.UnsupportedOptions.Contains(name)
            ? $"'option {name}' is not supported yet"
            : $"'{prefix}': unknown option {ConfigDiagnostics.Quote(name)}");
    }
}
