namespace Proxy.Shared.Config;

/// <summary>
/// `tcp-response inspect-delay TIME` and `tcp-response content accept|reject|close [if|unless COND]` (4.2, backends
/// and listens): rules on what the server sends first, before it reaches the client.
/// </summary>
internal sealed class TcpResponseParser(ConfigDiagnostics diag, AclParser acls)
{
    private const string Usage = "tcp-response content accept|reject|close [if|unless COND]";

    public void Parse(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        switch (w.Count < 2 ? "" : w[1])
        {
            case "inspect-delay":
                if (!LineChecks.Exactly(diag, line, 1, "tcp-response inspect-delay TIME", keywordWords: 2)) return;
                if (LineChecks.TryTime(diag, n, "tcp-response inspect-delay", w[2], out var delay)) proxy.ResponseInspectDelay = delay;
                return;
            case "content":
                break;
            default:
                diag.Error(n, w.Count < 2
                    ? "'tcp-response': missing argument, expected 'tcp-response inspect-delay TIME' or '" + Usage + "'"
                    : $"'tcp-response {w[1]}': unknown, expected 'tcp-response inspect-delay TIME' or '{Usage}'");
                return;
        }
        TcpResponseAction? action = w.Count < 3 ? null : w[2] switch
        {
            "accept" => TcpResponseAction.Accept,
            "reject" => TcpResponseAction.Reject,
            "close" => TcpResponseAction.Close,
            _ => null,
        };
        if (action is not { } act)
        {
            diag.Error(n, w.Count < 3 ? $"'tcp-response content': missing action, expected '{Usage}'"
                : $"'tcp-response content {w[2]}' is not supported (only accept, reject and close)");
            return;
        }
        string what = $"tcp-response content {w[2]}";
        ConditionConfig? condition = null;
        if (w.Count > 3)
        {
            if (w[3] is not ("if" or "unless"))
            {
                diag.Error(n, $"'{what}': unexpected {ConfigDiagnostics.Quote(w[3])}, expected '{what} [if|unless COND]'");
                return;
            }
            if ((condition = acls.ParseCondition(proxy, line, 3, what)) is null) return;
            // req.* would read the server's bytes here (PayloadDirection).
            if (!PayloadDirection.Check(diag, n, what, response: true, condition)) return;
        }
        proxy.TcpResponseRules.Add(new TcpResponseRule(act, condition, diag.At(n)));
    }
}
