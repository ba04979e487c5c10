namespace Proxy.Shared.Config;

/// <summary>
/// The traffic log options (doc/configuration.txt 4.2): `option httplog`, `option tcplog` (which line a frontend
/// writes per request / per connection, formats in 8.2.2 and 8.2.3) and `option dontlognull` (no line for a
/// connection on which the client sent nothing). All three are D F L in HAProxy's keyword matrix (4.1): a backend
/// never logs traffic, its frontend does.
/// </summary>
internal static class LogOptionParser
{
    /// <summary>Handles the log options; false when <paramref name="name"/> is not one of them.</summary>
    public static bool TryParse(ConfigDiagnostics diag, ProxyDraft proxy, ConfigLine line, string name, bool negated, int at)
    {
        if (name is not ("httplog" or "tcplog" or "dontlognull" or "http-ignore-probes")) return false;
        var w = line.Words;
        var keyword = (negated ? "no option " : "option ") + name;
        if (!ProxySectionParser.Allows(proxy, ProxyCapabilities.Defaults | ProxyCapabilities.Frontend))
        {
            // HAProxy: "'option httplog' directive is ignored in backends" (a warning).
            ProxySectionParser.ReportMisplaced(diag, proxy, line.Number, keyword, ProxyCapabilities.Defaults | ProxyCapabilities.Frontend);
            return true;
        }
        // `option httplog clf` (4.2): HAProxy's Common Log Format variant, a built-in log-format.
        bool clf = name == "httplog" && !negated && w.Count == at + 2 && w[at + 1] == "clf";
        if (w.Count > at + 1 && !clf)
        {
            diag.Error(line.Number, name == "httplog" && !negated
                ? $"'{keyword}' only supports option 'clf', got {ConfigDiagnostics.Quote(w[at + 1])}"
                : $"'{keyword}': unexpected {ConfigDiagnostics.Quote(w[at + 1])}");
            return true;
        }
        switch (name)
        {
            case "dontlognull":
                proxy.DontLogNull = !negated;
                break;
            case "http-ignore-probes":
                // 4.2: a connection closed or timed out before sending a byte gets no 400/408, no log, no error counted.
                proxy.IgnoreProbes = !negated;
                break;
            default:
                // The last of httplog / tcplog wins, as in HAProxy (each one replaces the log format); `no option X`
                // turns the traffic log off only when X is the one in force.
                var format = name == "httplog" ? TrafficLogFormat.Http : TrafficLogFormat.Tcp;
                if (!negated)
                {
                    proxy.LogFormat = format;
                    proxy.LogFormatLine = line.Number;
                    // 4.2 "option httplog": it overrides any previous `log-format` (and clears `clf`), as tcplog does.
                    proxy.CustomLogFormat = clf ? LogFormatKeywordParser.BuiltIn(LogFormatKeywordParser.ClfLogFormat) : null;
                }
                else if (proxy.LogFormat == format)
                {
                    proxy.LogFormat = TrafficLogFormat.None;
                }
                break;
        }
        return true;
    }
}
