using System.Globalization;

namespace Proxy.Shared.Config;

/// <summary>
/// The proxy keywords that take a log-format string or feed the log (doc/configuration.txt 4.2): `log-format FMT`,
/// `log-format-sd FMT` (RFC 5424 structured data),
/// `unique-id-format FMT`, `unique-id-header NAME`, `capture request|response header NAME len N`, `capture cookie NAME
/// len N`, `declare capture request|response len N`.
/// </summary>
internal sealed class LogFormatKeywordParser(ConfigDiagnostics diag, SampleExprParser samples)
{
    /// <summary>HAProxy caps a capture's length at 64 KiB (and one buffer); 1..65535 here.</summary>
    internal const int MaxCaptureLength = 65535;

    /// <summary>
    /// `capture cookie`'s longest capture: HAProxy truncates it to `tune.http.cookielen` - 1, 63 by default
    /// (cfgparse.c, "truncating capture length"); `tune.http.cookielen` has no effect here (ProcessSettingsParser).
    /// </summary>
    internal const int MaxCookieCaptureLength = 63;

    public void Parse(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        switch (w[0])
        {
            case "log-format":
            case "log-format-sd":
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
                else if (w[0] == "log-format-sd") proxy.StructuredDataFormat = format;
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
            case "declare":
                ParseDeclareCapture(proxy, line);
                return;
        }
    }

    /// <summary>
    /// HAProxy 2.6's `option httpslog` format (doc/configuration.txt 8.2.4, "HTTPS log format"): the HTTP log line plus
    /// the connection and TLS errors, whether the session was resumed, the SNI, the protocol version and the cipher.
    /// </summary>
    public const string HttpsLogFormat = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc " +
        "%sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc";

    /// <summary>
    /// `option httplog` (doc/configuration.txt 8.2.3, "strict equivalent of option httplog"): what a frontend that
    /// captures headers or a cookie logs (ConfigValidator), since the built-in line (TrafficLogFormatter) has no
    /// captures.
    /// </summary>
    public const string HttpLogFormat = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc " +
        "%sq/%bq %hr %hs %{+Q}r";

    /// <summary>`option httplog clf` (8.2.3, "strict equivalent of option httplog clf"), word for word.</summary>
    public const string ClfLogFormat = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp " +
        "%ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc " +
        "%bc %sc %rc %sq %bq %CC %CS %hrl %hsl";

    /// <summary>One of the built-in formats above, parsed (they hold no sample expression).</summary>
    public static LogFormatConfig BuiltIn(string text) =>
        LogFormatParser.Parse(text, new SampleExprParser(), out var error) ?? throw new InvalidOperationException(error);

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

    /// <summary>`capture request|response header NAME len LENGTH`, `capture cookie NAME len LENGTH`.</summary>
    private void ParseCapture(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (w.Count >= 2 && w[1] == "cookie")
        {
            ParseCookieCapture(proxy, line);
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
        if (!TryCaptureLength(diag, line, $"capture {w[1]} header", w[5], out int length)) return;
        (w[1] == "request" ? proxy.RequestCaptures : proxy.ResponseCaptures).Add(new HeaderCapture(w[3], length));
        proxy.FirstHttpOnlyKeyword ??= (line.Number, "capture");
    }

    /// <summary>
    /// `capture cookie NAME len LENGTH` (4.2): NAME is the beginning of the cookie's name (`NAME=` for the exact
    /// name). One per frontend: a second replaces the first, as in HAProxy, with a warning here.
    /// </summary>
    private void ParseCookieCapture(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (w.Count != 5 || w[3] != "len" || w[2].Length == 0)
        {
            diag.Error(line.Number, "'capture cookie': expected 'capture cookie NAME len LENGTH'");
            return;
        }
        if (w[2].AsSpan().IndexOfAny(" \t;\r\n\0") >= 0)
        {
            diag.Error(line.Number, $"'capture cookie': invalid cookie name {ConfigDiagnostics.Quote(w[2])}");
            return;
        }
        if (!int.TryParse(w[4], NumberStyles.None, CultureInfo.InvariantCulture, out int length) || length < 1)
        {
            diag.Error(line.Number, $"'capture cookie': 'len' expects a positive length, got {ConfigDiagnostics.Quote(w[4])}");
            return;
        }
        if (length > MaxCookieCaptureLength)
        {
            diag.Warning(line.Number, $"'capture cookie': truncating capture length to {MaxCookieCaptureLength} bytes (HAProxy's tune.http.cookielen - 1)");
            length = MaxCookieCaptureLength;
        }
        if (proxy.CookieCapture is { } previous)
            diag.Warning(line.Number, $"'capture cookie {w[2]}' replaces 'capture cookie {previous.Name}': a frontend captures one cookie");
        proxy.CookieCapture = new CookieCapture(w[2], length);
        proxy.FirstHttpOnlyKeyword ??= (line.Number, "capture");
    }

    /// <summary>
    /// `declare capture request|response len LENGTH` (4.2): an empty capture slot, after those declared above it,
    /// that `http-request|http-response capture SAMPLE id N` rules (here or in a backend) fill.
    /// </summary>
    private void ParseDeclareCapture(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (w.Count != 5 || w[1] != "capture" || w[2] is not ("request" or "response") || w[3] != "len")
        {
            diag.Error(line.Number, "'declare': expected 'declare capture request|response len LENGTH'");
            return;
        }
        if (!proxy.IsFrontend)
        {
            diag.Error(line.Number, "'declare' only available in frontend or listen section");
            return;
        }
        if (!TryCaptureLength(diag, line, "declare capture", w[4], out int length)) return;
        (w[2] == "request" ? proxy.RequestCaptures : proxy.ResponseCaptures).Add(new HeaderCapture("", length));
    }

    /// <summary>A capture's `len`, 1 to <see cref="MaxCaptureLength"/>; false (reported) when it is not.</summary>
    internal static bool TryCaptureLength(ConfigDiagnostics diag, ConfigLine line, string what, string text, out int length)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out length) && length is >= 1 and <= MaxCaptureLength) return true;
        diag.Error(line.Number, $"'{what}': 'len' expects 1 to {MaxCaptureLength}, got {ConfigDiagnostics.Quote(text)}");
        return false;
    }
}
