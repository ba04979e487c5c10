namespace Proxy.Shared.Config;

/// <summary>
/// `tcp-request` lines (4.2): the `connection` and `session` rules (expect-proxy, accept, reject, silent-drop,
/// track-sc) read here, in frontends and listen sections; `inspect-delay` and the `content` rules, there and in
/// backends, handed to TcpContentParser.
/// </summary>
internal sealed class TcpRequestParser(ConfigDiagnostics diag, AclParser acls, Func<HttpKeywordParser> http)
{
    private TcpContentParser? _content;
    private TcpContentParser Content => _content ??= new TcpContentParser(diag, acls, http);

    /// <summary>
    /// `tcp-request connection expect-proxy layer4 [if|unless COND]` (4.2 "tcp-request connection"): the frontend's
    /// connections start with a PROXY header, as `accept-proxy` on each of its binds; with a condition, only those for
    /// which it holds, evaluated on the connection's own source address. Nothing but layer-4 facts exists then, so an
    /// ACL that needs the request is an error, as HAProxy refuses layer-7 fetches in `tcp-request connection` rules.
    /// </summary>
    public void Parse(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        // 4.1: `tcp-request content` and `inspect-delay` apply in a backend too (its rules run once a request or a
        // connection is assigned to it); `connection` and `session` rules run at accept, which only a frontend does.
        if (!proxy.IsFrontend && !(w.Count >= 2 && w[1] is "content" or "inspect-delay"))
        {
            ProxySectionParser.ReportMisplaced(diag, proxy, n, "tcp-request", ProxyCapabilities.Frontend);
            return;
        }
        if (w.Count >= 3 && w[1] == "connection" && w[2] == "expect-proxy")
        {
            const string keyword = "tcp-request connection expect-proxy layer4";
            if (w.Count < 4 || w[3] != "layer4")
            {
                diag.Error(n, "'tcp-request connection expect-proxy': expected 'layer4' after it");
                return;
            }
            if (w.Count == 4)
            {
                proxy.ExpectProxy = true;
                return;
            }
            if (w[4] is not ("if" or "unless"))
            {
                diag.Error(n, $"'{keyword}': unexpected {ConfigDiagnostics.Quote(w[4])}, expected 'if' or 'unless'");
                return;
            }
            if (acls.ParseCondition(proxy, line, 4, keyword) is not { } condition) return;
            if (AclParser.FirstLayer7Acl(condition) is { } layer7)
            {
                diag.Error(n, $"'{keyword}': {AclParser.Describe(layer7)} {AclParser.NeedsText(layer7)} and cannot be evaluated at 'tcp-request connection' (only layer-4 fetches such as 'src', TRUE and FALSE can)");
                return;
            }
            proxy.ExpectProxyConditions.Add(condition);
            return;
        }
        if (w.Count >= 3 && w[1] == "connection" && w[2] is "accept" or "reject" or "silent-drop")
        {
            // `tcp-request connection accept|reject [if|unless COND]` (4.2): layer-4 ACLs only, as for expect-proxy.
            string rule = $"tcp-request connection {w[2]}";
            ConditionConfig? cond = null;
            if (w.Count > 3)
            {
                if (w[3] is not ("if" or "unless"))
                {
                    diag.Error(n, $"'{rule}': unexpected {ConfigDiagnostics.Quote(w[3])}, expected 'if' or 'unless'");
                    return;
                }
                if ((cond = acls.ParseCondition(proxy, line, 3, rule)) is null) return;
                if (AclParser.FirstLayer7Acl(cond) is { } l7)
                {
                    diag.Error(n, $"'{rule}': {AclParser.Describe(l7)} {AclParser.NeedsText(l7)} and cannot be evaluated at 'tcp-request connection' (only layer-4 fetches such as 'src', TRUE and FALSE can)");
                    return;
                }
            }
            // `silent-drop` (4.2): a reject that closes without FIN nor reset where Linux allows (worker SilentDrop.cs).
            proxy.TcpConnectionRules.Add(new TcpConnectionRule(w[2] != "accept", cond, diag.At(n)) { SilentDrop = w[2] == "silent-drop" });
            return;
        }
        if (w.Count >= 3 && w[1] == "connection" && w[2] is "set-dst" or "set-dst-port")
        {
            ParseConnectionDestination(proxy, line);
            return;
        }
        if (w.Count >= 3 && w[1] is "connection" or "session" && w[2].StartsWith("track-sc", StringComparison.Ordinal))
        {
            ParseTrack(proxy, line);
            return;
        }
        if (w.Count >= 2 && w[1] == "inspect-delay")
        {
            Content.ParseInspectDelay(proxy, line);
            return;
        }
        if (w.Count >= 3 && w[1] == "content")
        {
            Content.ParseContent(proxy, line);
            return;
        }
        var what = w.Count >= 3 ? $"tcp-request {w[1]} {w[2]}" : w.Count == 2 ? $"tcp-request {w[1]}" : "tcp-request";
        diag.Error(n, $"'{what}' is not supported yet (only 'tcp-request connection expect-proxy layer4|accept|reject|set-dst|set-dst-port', 'tcp-request inspect-delay' and 'tcp-request content accept|reject|set-var|set-var-fmt|unset-var|set-dst|set-dst-port')");
    }

    /// <summary>
    /// `tcp-request connection set-dst|set-dst-port EXPR [if|unless COND]` (4.2): the destination rewritten at accept,
    /// from layer-4 facts only (the expression's fetch and the condition's ACLs), as HAProxy refuses others there.
    /// </summary>
    private void ParseConnectionDestination(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        string what = $"tcp-request connection {w[2]}";
        int condAt = 3;
        while (condAt < w.Count && w[condAt] is not ("if" or "unless")) condAt++;
        var shifted = line with { Words = [.. w.Skip(1).Take(condAt - 1)] };
        if (http().ParseSetSrc(shifted, condAt - 1, what) is not { } action) return;
        if (action.Expr!.Needs != SampleNeeds.Connection)
        {
            diag.Error(n, $"'{what}': fetch method {ConfigDiagnostics.Quote(action.Expr.Fetch.Name)} cannot be evaluated at 'tcp-request connection' (only layer-4 fetches such as 'src' and 'dst' can)");
            return;
        }
        ConditionConfig? cond = null;
        if (condAt < w.Count)
        {
            if ((cond = acls.ParseCondition(proxy, line, condAt, what)) is null) return;
            if (AclParser.FirstLayer7Acl(cond) is { } l7)
            {
                diag.Error(n, $"'{what}': {AclParser.Describe(l7)} {AclParser.NeedsText(l7)} and cannot be evaluated at 'tcp-request connection' (only layer-4 fetches such as 'src', TRUE and FALSE can)");
                return;
            }
        }
        var kind = w[2] == "set-dst" ? HttpRequestActionKind.SetDst : HttpRequestActionKind.SetDstPort;
        proxy.TcpConnectionRules.Add(new TcpConnectionRule(false, cond, diag.At(n)) { Action = action with { Kind = kind } });
    }

    /// <summary>
    /// `tcp-request connection|session track-scN KEY [table T] [if|unless COND]` (4.2): layer-4 keys and ACLs only, as
    /// HAProxy requires at that point. `connection` rules run before anything is read; `session` ones once the PROXY
    /// header (and the TLS handshake) gave the client's address, in their own order (TcpConnectionRule.Session).
    /// </summary>
    private void ParseTrack(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        string what = $"tcp-request {w[1]} {w[2]}";
        int end = w.Count;
        for (int i = 3; i < w.Count; i++)
            if (w[i] is "if" or "unless") { end = i; break; }
        if (StickTableParser.ParseTrack(diag, acls.Samples, proxy, line, 2, end, what) is not { } track) return;
        if (track.Key.Needs is not SampleNeeds.Connection)
        {
            diag.Error(line.Number, $"'{what}': the key '{track.Key.Text}' needs the request and cannot be fetched at 'tcp-request {w[1]}' (only layer-4 fetches such as 'src')");
            return;
        }
        ConditionConfig? cond = null;
        if (end < w.Count)
        {
            if ((cond = acls.ParseCondition(proxy, line, end, what)) is null) return;
            if (AclParser.FirstLayer7Acl(cond) is { } l7)
            {
                diag.Error(line.Number, $"'{what}': {AclParser.Describe(l7)} {AclParser.NeedsText(l7)} and cannot be evaluated at 'tcp-request {w[1]}' (only layer-4 fetches such as 'src', TRUE and FALSE can)");
                return;
            }
        }
        proxy.TcpConnectionRules.Add(new TcpConnectionRule(false, cond, diag.At(line.Number)) { Track = track, Session = w[1] == "session" });
    }
}
