using System.Globalization;

namespace Proxy.Shared.Config;

/// <summary>
/// `http-errors NAME` sections of `errorfile CODE FILE` lines, and the proxy keyword `errorfiles NAME [CODE ...]` that
/// imports them (doc/configuration.txt 3.8, 4.2 "errorfiles").
/// </summary>
internal sealed partial class HttpKeywordParser
{
    /// <summary>The `http-errors` sections read so far, by name.</summary>
    public Dictionary<string, Dictionary<int, byte[]>> HttpErrors { get; } = new(StringComparer.Ordinal);

    /// <summary>`http-errors NAME`: the new section's pages, or null when the header is wrong (its body is then skipped).</summary>
    public Dictionary<int, byte[]>? StartHttpErrors(ConfigLine line)
    {
        var w = line.Words;
        if (!LineChecks.Exactly(diag, line, 1, "http-errors NAME")) return null;
        if (HttpErrors.ContainsKey(w[1]))
        {
            diag.Error(line.Number, $"'http-errors': a section named {ConfigDiagnostics.Quote(w[1])} already exists");
            return null;
        }
        var pages = new Dictionary<int, byte[]>();
        HttpErrors.Add(w[1], pages);
        return pages;
    }

    /// <summary>A line of an `http-errors` section: only `errorfile CODE FILE` (3.8).</summary>
    public void ParseHttpErrorsLine(Dictionary<int, byte[]> pages, ConfigLine line)
    {
        if (line.Keyword != "errorfile")
        {
            diag.Error(line.Number, $"'{line.Keyword}': unknown keyword in an 'http-errors' section (only 'errorfile CODE FILE')");
            return;
        }
        ParseErrorFile(pages, line);
    }

    /// <summary>
    /// `errorfiles NAME [CODE ...]` (4.2): the section's pages for those codes (all of them without a code) replace the
    /// proxy's, in the order of the lines as HAProxy applies them. The section must be written above the line: a
    /// deliberate difference (README), HAProxy resolving the name after the whole file.
    /// </summary>
    public void ParseErrorFiles(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (w.Count < 2)
        {
            diag.Error(line.Number, "'errorfiles': missing argument, expected 'errorfiles NAME [CODE ...]'");
            return;
        }
        if (!HttpErrors.TryGetValue(w[1], out var pages))
        {
            diag.Error(line.Number, $"'errorfiles': no 'http-errors' section named {ConfigDiagnostics.Quote(w[1])} above this line");
            return;
        }
        if (w.Count == 2)
        {
            foreach (var (code, page) in pages) proxy.ErrorFiles[code] = page;
            return;
        }
        for (int i = 2; i < w.Count; i++)
        {
            if (!int.TryParse(w[i], NumberStyles.None, CultureInfo.InvariantCulture, out int code) || !ErrorFileCodes.Contains(code))
            {
                diag.Error(line.Number, $"'errorfiles': status code {ConfigDiagnostics.Quote(w[i])} cannot be customized (expected one of {string.Join(", ", ErrorFileCodes)})");
                return;
            }
            if (pages.TryGetValue(code, out var page)) proxy.ErrorFiles[code] = page;
            // HAProxy's own warning (proxy_check_errors): a code named but not in the section keeps the proxy's page.
            else diag.Warning(line.Number, $"'errorfiles': status '{code}' not declared in the 'http-errors' section {ConfigDiagnostics.Quote(w[1])}");
        }
    }
}
