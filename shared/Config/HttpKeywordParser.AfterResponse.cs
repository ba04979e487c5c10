namespace Proxy.Shared.Config;

// `http-after-response` (doc/configuration.txt 4.2): rules applied to every response leaving the proxy, the
// server's (after the http-response rules) and the proxy's own answers (deny, return, redirect, errors), which
// http-response never sees.
internal sealed partial class HttpKeywordParser
{
    /// <summary>
    /// `http-after-response ACTION [ARGS] [if|unless COND]` with HAProxy 2.6's actions that this proxy has for
    /// http-response too: set-header, add-header, del-header, replace-header, replace-value, set-status, set-var,
    /// set-var-fmt, unset-var, allow. The arguments are http-response's (parsed by the same code: ParseHeaderRule).
    /// </summary>
    public void ParseAfterResponse(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        string action = w.Count < 2 ? "" : w[1];
        bool known = action is "set-header" or "add-header" or "del-header" or "replace-header" or "replace-value" or "set-status" or "allow"
            || action.StartsWith("set-var(", StringComparison.Ordinal) || action.StartsWith("set-var-fmt(", StringComparison.Ordinal)
            || action.StartsWith("unset-var(", StringComparison.Ordinal);
        if (!known)
        {
            diag.Error(line.Number, action.Length == 0
                ? "'http-after-response': missing action, expected 'http-after-response ACTION [ARGS] [if|unless COND]'"
                : $"'http-after-response {action}' is not supported (only set-header, add-header, del-header, replace-header, replace-value, set-status, set-var, set-var-fmt, unset-var and allow)");
            return;
        }
        // Parsed as the same http-response rule, then moved to the after-response lists.
        int rules = proxy.ResponseRules.Count, actions = proxy.ResponseActions.Count;
        ParseHeaderRule(proxy, line with { Words = ["http-response", .. w.Skip(1)] });
        if (proxy.ResponseRules.Count > rules)
        {
            proxy.AfterResponseRules.Add(proxy.ResponseRules[rules]);
            proxy.ResponseRules.RemoveAt(rules);
            if (proxy.AfterResponseRules.Count > HeaderRule.MaxPerDirection)
                diag.Error(line.Number, $"'http-after-response': more than {HeaderRule.MaxPerDirection} header rules in one proxy");
        }
        if (proxy.ResponseActions.Count > actions)
        {
            proxy.AfterResponseActions.Add(proxy.ResponseActions[actions]);
            proxy.ResponseActions.RemoveAt(actions);
        }
    }
}
