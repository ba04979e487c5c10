using System.Globalization;

namespace Proxy.Shared.Config;

/// <summary>`http-request track-sc0|1|2` and the actions on tracked counters (4.2 "http-request track-sc0", "sc-inc-gpc0"...).</summary>
internal sealed partial class HttpKeywordParser
{
    /// <summary>track-sc0..2, sc-inc-gpc0(N), sc-inc-gpc1(N), sc-inc-gpc(I,N), sc-set-gpt0(N).</summary>
    internal static bool IsStickAction(string action) => action is "track-sc0" or "track-sc1" or "track-sc2"
        || action.StartsWith("sc-inc-gpc", StringComparison.Ordinal) || action.StartsWith("sc-set-gpt0(", StringComparison.Ordinal);

    private HttpRequestAction? ParseStickAction(ProxyDraft proxy, ConfigLine line, int end, string what)
    {
        var w = line.Words;
        string action = w[1];
        if (action.StartsWith("track-sc", StringComparison.Ordinal))
        {
            return StickTableParser.ParseTrack(diag, acls.Samples, proxy, line, 1, end, "http-request")
                is { } track ? new HttpRequestAction(HttpRequestActionKind.TrackSc, 0, null, diag.At(line.Number)) { Track = track } : null;
        }
        int open = action.IndexOf('(');
        if (open < 0 || !action.EndsWith(')'))
        {
            diag.Error(line.Number, $"'{what}': expected '{(open < 0 ? action : action[..open])}(SC)' with the counter's number");
            return null;
        }
        string verb = action[..open];
        var args = action[(open + 1)..^1].Split(',');
        StickActionKind kind;
        int index = 0;
        switch (verb)
        {
            case "sc-inc-gpc0" when args.Length == 1: kind = StickActionKind.IncGpc0; break;
            case "sc-inc-gpc1" when args.Length == 1: kind = StickActionKind.IncGpc1; break;
            case "sc-set-gpt0" when args.Length == 1: kind = StickActionKind.SetGpt0; break;
            case "sc-inc-gpc" when args.Length == 2 && IntValue.TryParse(args[0], out index) && index < 100:
                kind = StickActionKind.IncGpc;
                args = [args[1]];
                break;
            default:
                diag.Error(line.Number, $"'{what}': expected sc-inc-gpc0(SC), sc-inc-gpc1(SC), sc-inc-gpc(IDX,SC) or sc-set-gpt0(SC) with SC 0 to 2, got {ConfigDiagnostics.Quote(action)}");
                return null;
        }
        if (args[0] is not ("0" or "1" or "2"))
        {
            diag.Error(line.Number, $"'{what}': the counter must be 0, 1 or 2, got {ConfigDiagnostics.Quote(args[0])}");
            return null;
        }
        int counter = args[0][0] - '0';
        long value = 0;
        SampleExpr? expr = null;
        if (kind == StickActionKind.SetGpt0)
        {
            // `sc-set-gpt0(SC) INT|EXPR`.
            if (end != 3)
            {
                diag.Error(line.Number, $"'{what}': expected '{verb}({counter}) VALUE|EXPR [if|unless COND]'");
                return null;
            }
            if (!long.TryParse(w[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
            {
                if ((expr = acls.Samples.ParseWhole(w[2], out var error)) is null)
                {
                    diag.Error(line.Number, $"'{what}': {error}");
                    return null;
                }
            }
        }
        else if (end != 2)
        {
            diag.Error(line.Number, $"'{what}': unexpected {ConfigDiagnostics.Quote(w[2])}");
            return null;
        }
        return new HttpRequestAction(HttpRequestActionKind.StickAction, 0, null, diag.At(line.Number))
        {
            Sticky = new StickActionConfig(kind, counter, index, value, expr),
        };
    }
}
