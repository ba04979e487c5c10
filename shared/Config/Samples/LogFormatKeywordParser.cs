using System.Globalization;

namespace Proxy.Shared.Config;

/// <summary>
/// The proxy keywords that take a log-format string or feed the log (doc/configuration.txt 4.2): `log-format FMT`,
/// `unique-id-format FMT`, `unique-id-header NAME`, `capture request|response header NAME len N`.
/// </summary>
internal sealed class LogFormatKeywordParser(ConfigDiagnostics diag, SampleExprParser samples)
{
    /// <summary>HAProxy caps a capture's length at 64 KiB (and one buffer); 1..65535 here.</summary>
    private const int MaxCaptureLength = 65535;

    public void Parse(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        switch (w[0])
        {
            case "log-format":
            case "unique-id-format":
                if (w.Count != 2)
                {
                    diag.Error(line.Number, w.Count < 2
                        ? $"'{w[0]}': missing format string"
                        : $"'{w[0]}': expects one argument (quote a format with spaces), got {ConfigDiagnostics.Quote(w[2])} after it");
                    return;
                }
                if (ParseFormat(line, w[0], w[1]) is not { } format) return;
                if (w[0] == "log-format") proxy.CustomLogFormat = format;
                else proxy.UniqueIdFormat = format;
                return;
            case "unique-id-header":
                if (!LineChecks.Exactly(diag, line, 1, "unique-id-header NAME")) return;
                if (!HttpKeywordParser.IsToken(w[1]))
                {
                    diag.Error(line.Number, $"'unique-id-header': invalid header name {ConfigDiagnostics.Quote(w[1])}");
                    return;
                }
                proxy.UniqueIdHeader = w[1];
                return;
            case "capture":
                ParseCapture(proxy, line);
                return;
        }
    }

    /// <summary>
    /// HAProxy 2.6's `option httpslog` format (doc/configuration.txt 8.2.4, "HTTPS log format"): the HTTP log line plus
    /// the connection and TLS errors, whether the session was resumed, the SNI, the protocol version and the cipher.
    /// `ssl_fc_is_resumed` is written `-` (no sample): .NET's SslStream does not say whether a handshake resumed.
    /// </summary>
    public const string HttpsLogFormat = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc " +
        "%sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/- %[ssl_fc_sni]/%sslv/%sslc";

    /// <summary>`option httpslog` (4.2): the log format above, as a `log-format` line would set it.</summary>
    public void ParseHttpsLogOption(ProxyDraft proxy, ConfigLine line, bool negated, int at)
    {
        var w = line.Words;
        if (negated || w.Count > at + 1)
        {
            diag.Error(line.Number, negated ? "'no option httpslog' is not supported: set another format ('option httplog', 'log-format')"
                : $"'option httpslog' takes no argument, got {ConfigDiagnostics.Quote(w[at + 1])}");
            return;
        }
        if (ParseFormat(line, "option httpslog", HttpsLogFormat) is { } format) proxy.CustomLogFormat = format;
    }

    /// <summary>A log-format string for <paramref name="keyword"/>; null (reported at the line) when it is invalid.</summary>
    public LogFormatConfig? ParseFormat(ConfigLine line, string keyword, string text)
    {
        var format = LogFormatParser.Parse(text, samples, out var error);
        if (format is null) diag.Error(line.Number, $"'{keyword}': {error}");
        return format;
    }

    /// <summary>`capture request|response header NAME len LENGTH` (`capture cookie` is HAProxy's too, not ours yet).</summary>
    private void ParseCapture(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (w.Count >= 2 && w[1] == "cookie")
        {
            diag.Error(line.Number, "'capture cookie' is not supported yet");
            return;
        }
        if (w.Count != 6 || w[1] is not ("request" or "response") || w[2] != "header" || w[4] != "len")
        {
            diag.Error(line.Number, "'capture': expected 'capture request|response header NAME len LENGTH'");
            return;
        }
        if (!HttpKeywordParser.IsToken(w[3]))
        {
            diag.Error(line.Number, $"'capture {w[1]} header': invalid header name {ConfigDiagnostics.Quote(w[3])}");
            return;
        }
        if (!int.TryParse(w[5], NumberStyles.None, CultureInfo.InvariantCulture, out int length) || length is < 1 or > MaxCaptureLength)
        {
            diag.Error(line.Number, $"'capture {w[1]} header': 'len' expects 1 to {MaxCaptureLength}, got {ConfigDiagnostics.Quote(w[5])}");
            return;
        }
        (w[1] == "request" ? proxy.RequestCaptures : proxy.ResponseCaptures).Add(new HeaderCapture(w[3], length));
        proxy.FirstHttpOnlyKeyword ??= (line.Number, "capture");
    }
}
