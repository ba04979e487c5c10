namespace Proxy.Shared.Config;

/// <summary>Limits on the regexes the rules run on what clients and servers send.</summary>
public static class RegexLimits
{
    /// <summary>
    /// How long one regex may run on one value (ACL `-m reg`, regsub, replace-header|replace-value), as the checks'
    /// regexes: the values are the client's, and a pattern that backtracks badly on them must not hold the worker. A
    /// match that times out is no match (ACLs) or a failed rewrite (HAProxy's strict-mode: 500 on a request).
    /// </summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);
}
