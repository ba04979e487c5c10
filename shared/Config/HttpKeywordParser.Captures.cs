using System.Globalization;

namespace Proxy.Shared.Config;

/// <summary>
/// `http-request capture SAMPLE [len LENGTH | id ID]`, `http-response capture SAMPLE id ID` (doc/configuration.txt
/// 4.2) and `tcp-request content capture SAMPLE len LENGTH`: a sample, as a string, into a capture slot (%hr, %hs,
/// `capture.req.hdr(N)`, `capture.res.hdr(N)`).
/// </summary>
internal sealed partial class HttpKeywordParser
{
    /// <summary>
    /// The capture at <paramref name="at"/> (the sample's word) up to <paramref name="end"/> (the condition or the
    /// line's end). `len` declares a new slot of the frontend (HAProxy: not in a proxy without the frontend
    /// capability); `id` names a slot already declared, checked in a frontend only, since a backend's rule fills
    /// the slots of whichever frontend its request came through (4.2 "http-request capture").
    /// </summary>
    internal HttpRequestAction? ParseCapture(ProxyDraft proxy, ConfigLine line, int at, int end, string what, bool response, bool idAllowed = true)
    {
        var w = line.Words;
        string usage = response ? $"'{what} SAMPLE id ID'" : idAllowed ? $"'{what} SAMPLE [len LENGTH | id ID]'" : $"'{what} SAMPLE len LENGTH'";
        if (end != at + 3 || !(w[at + 1] == "id" ? idAllowed : w[at + 1] == "len" && !response))
        {
            diag.Error(line.Number, end <= at ? $"'{what}': missing sample, expected {usage}"
                : end <= at + 1 ? $"'{what}': expected {usage}"
                : $"'{what}': unexpected {ConfigDiagnostics.Quote(w[Math.Min(end - 1, at + 1)])}, expected {usage}");
            return null;
        }
        if (acls.Samples.ParseWhole(w[at], out var error) is not { } expr)
        {
            diag.Error(line.Number, $"'{what}': {error}");
            return null;
        }
        var slots = response ? proxy.ResponseCaptures : proxy.RequestCaptures;
        int slot;
        if (w[at + 1] == "len")
        {
            if (!proxy.IsFrontend)
            {
                diag.Error(line.Number, $"'{what} ... len': {ProxySectionParser.SectionName(proxy)[2..]} '{proxy.Name}' has no frontend capability (declare the slot in a frontend and use 'id')");
                return null;
            }
            if (!LogFormatKeywordParser.TryCaptureLength(diag, line, what, w[at + 2], out int length)) return null;
            slot = slots.Count;
            slots.Add(new HeaderCapture("", length));
        }
        else
        {
            if (!int.TryParse(w[at + 2], NumberStyles.None, CultureInfo.InvariantCulture, out slot))
            {
                diag.Error(line.Number, $"'{what}': 'id' expects a capture slot number, got {ConfigDiagnostics.Quote(w[at + 2])}");
                return null;
            }
            if (proxy.IsFrontend && slot >= slots.Count)
            {
                diag.Error(line.Number, $"'{what}': unable to find capture id '{slot}' (declare it above with 'declare capture {(response ? "response" : "request")} len LENGTH')");
                return null;
            }
        }
        return new HttpRequestAction(HttpRequestActionKind.Capture, 0, null, diag.At(line.Number))
            { Expr = expr, CaptureSlot = slot, CaptureResponse = response };
    }
}
