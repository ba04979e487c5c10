namespace Proxy.Shared.Config;

/// <summary>
/// Which side's buffered bytes a layer-6 fetch (7.3.5) reads, and the check that a rule only uses the side it sees.
/// req.* and res.* both read the payload the session holds (worker/Samples/PayloadSamples.cs): the client's first
/// bytes for `tcp-request content`, the server's for `tcp-response content`. So a res.* fetch in a tcp-request rule
/// would read the client's bytes, and a req.* one in a tcp-response rule the server's: both are refused at load time.
/// HAProxy 2.6 refuses the first in an expression and warns that an ACL using it never matches (here an error too); it
/// lets the second read the request buffer, which is not kept here once the relay has begun (README, deliberate differences).
/// </summary>
internal static class PayloadDirection
{
    /// <summary>res.len, res.payload: the server's bytes.</summary>
    public static bool ReadsResponse(SampleExpr expr) => expr.Fetch.Kind is SampleFetchKind.ResLen or SampleFetchKind.ResPayload;

    /// <summary>req.len, req.payload, req.ssl_*, rdp_cookie...: the client's bytes.</summary>
    public static bool ReadsRequest(SampleExpr expr) => expr.Needs == SampleNeeds.Payload && !ReadsResponse(expr);

    /// <summary>
    /// Reports, at <paramref name="line"/>, the first fetch of <paramref name="condition"/> or <paramref name="exprs"/>
    /// that reads the other side's bytes than a rule of <paramref name="response"/> (tcp-response) or not (tcp-request)
    /// sees; false when one was reported.
    /// </summary>
    public static bool Check(ConfigDiagnostics diag, int line, string what, bool response, ConditionConfig? condition, params SampleExpr?[] exprs)
    {
        if (condition is not null)
            foreach (var all in condition.AnyOf)
                foreach (var term in all)
                    foreach (var acl in term.Acls)
                        if (!Check(diag, line, what, response, acl.Expr)) return false;
        foreach (var expr in exprs)
            if (expr is not null && !Check(diag, line, what, response, expr)) return false;
        return true;
    }

    private static bool Check(ConfigDiagnostics diag, int line, string what, bool response, SampleExpr expr)
    {
        if (response ? ReadsRequest(expr) : ReadsResponse(expr))
        {
            diag.Error(line, response
                ? $"'{what}': fetch {ConfigDiagnostics.Quote(expr.Fetch.Name)} reads the client's bytes, which tcp-response rules do not see here (use res.len or res.payload)"
                : $"'{what}': fetch {ConfigDiagnostics.Quote(expr.Fetch.Name)} reads the server's response, which tcp-request rules do not see (use it in 'tcp-response content')");
            return false;
        }
        return true;
    }
}
