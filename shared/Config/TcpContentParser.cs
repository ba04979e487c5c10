namespace Proxy.Shared.Config;

/// <summary>
/// `tcp-request inspect-delay TIME` and `tcp-request content ACTION [if|unless COND]` (doc/configuration.txt 4.2):
/// the rules that decide on a connection from what its client sends first (a TLS ClientHello's SNI, a protocol's
/// first bytes) before a backend is chosen. Actions: accept, reject, capture SAMPLE len N, set-var(NAME) EXPR, set-var-fmt(NAME) FMT,
/// unset-var(NAME); the variable actions are parsed as `http-request`'s (HttpKeywordParser).
/// </summary>
internal sealed class TcpContentParser(ConfigDiagnostics diag, AclParser acls, Func<HttpKeywordParser> http)
{
    /// <summary>`tcp-request inspect-delay TIME`: how long content rules may wait for the bytes they need.</summary>
    public void ParseInspectDelay(ProxyDraft proxy, ConfigLine line)
    {
        if (!LineChecks.Exactly(diag, line, 1, "tcp-request inspect-delay TIME", keywordWords: 2)) return;
        if (LineChecks.TryTime(diag, line.Number, "tcp-request inspect-delay", line.Words[2], out var delay))
            proxy.InspectDelay = delay;
    }

    /// <summary>`tcp-request content ACTION [ARGS] [if|unless COND]`.</summary>
    public void ParseContent(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        string action = w[2];
        string what = $"tcp-request content {action}";
        int condAt = 3;
        while (condAt < w.Count && w[condAt] is not ("if" or "unless")) condAt++;
        TcpContentRule? rule = null;
        if (action is "accept" or "reject")
        {
            if (condAt != 3)
            {
                diag.Error(n, $"'{what}': unexpected {ConfigDiagnostics.Quote(w[3])}, expected '{what} [if|unless COND]'");
                return;
            }
            rule = new TcpContentRule(action == "accept" ? TcpContentAction.Accept : TcpContentAction.Reject, null, diag.At(n));
        }
        else if (action.StartsWith("set-var(", StringComparison.Ordinal) || action.StartsWith("set-var-fmt(", StringComparison.Ordinal)
            || action.StartsWith("unset-var(", StringComparison.Ordinal))
        {
            // The same grammar as `http-request set-var`: the words after "tcp-request" line up with its own.
            var shifted = line with { Words = [.. w.Skip(1).Take(condAt - 1)] };
            if (http().ParseVariableAction(shifted, condAt - 1, action, "tcp-request content") is not { } variable) return;
            rule = new TcpContentRule(variable.Kind == HttpRequestActionKind.UnsetVar ? TcpContentAction.UnsetVar : TcpContentAction.SetVar, null, diag.At(n))
            {
                Variable = variable.Variable, Expr = variable.Expr, ValueFormat = variable.ValueFormat, VarConditions = variable.VarConditions,
            };
        }
        else if (action is "set-dst" or "set-dst-port")
        {
            // 4.2 "tcp-request content set-dst|set-dst-port EXPR": parsed as `http-request set-dst`.
            var shifted = line with { Words = [.. w.Skip(1).Take(condAt - 1)] };
            if (http().ParseSetSrc(shifted, condAt - 1, what) is not { } dst) return;
            rule = new TcpContentRule(action == "set-dst" ? TcpContentAction.SetDst : TcpContentAction.SetDstPort, null, diag.At(n)) { Expr = dst.Expr };
        }
        else if (action == "capture")
        {
            // 4.2 "tcp-request content capture SAMPLE len LENGTH": a new request capture slot, as `http-request capture`.
            if (http().ParseCapture(proxy, line, 3, condAt, what, response: false, idAllowed: false) is not { } capture) return;
            rule = new TcpContentRule(TcpContentAction.Capture, null, diag.At(n)) { Expr = capture.Expr, CaptureSlot = capture.CaptureSlot };
        }
        else if (action.StartsWith("track-sc", StringComparison.Ordinal))
        {
            if (StickTableParser.ParseTrack(diag, acls.Samples, proxy, line, 2, condAt, what) is not { } track) return;
            rule = new TcpContentRule(TcpContentAction.TrackSc, null, diag.At(n)) { Track = track };
        }
        else
        {
            diag.Error(n, $"'{what}' is not supported yet (only accept, reject, capture, set-var, set-var-fmt, unset-var, set-dst, set-dst-port and track-sc0..2)");
            return;
        }
        ConditionConfig? condition = null;
        if (condAt < w.Count)
        {
            if ((condition = acls.ParseCondition(proxy, line, condAt, what)) is null) return;
            // In tcp mode nothing parses HTTP before the backend: an ACL on the request needs `mode http`.
            if (AclParser.FirstHttpAcl(condition) is { } l7) proxy.FirstHttpOnlyKeyword ??= (n, $"{what} with {AclParser.Describe(l7)}");
        }
        // res.len/res.payload would read the client's bytes here (PayloadDirection).
        if (!PayloadDirection.Check(diag, n, what, response: false, condition, rule.Expr, rule.Track?.Key)) return;
        proxy.TcpContentRules.Add(rule with { Condition = condition });
    }
}
