using System.Net;

namespace Proxy.Shared.Config;

// The `mode http` part of the model: connection options, ACLs and the rules that use them
// (doc/configuration.txt 4.2 "option http-keep-alive", 7 "Using ACLs", 4.2 "http-request", "use_backend").

/// <summary>
/// HAProxy's HTTP connection modes (4 "option http-keep-alive / http-server-close / httpclose"). When a
/// frontend and a backend disagree, the stronger one wins: Close over ServerClose over KeepAlive.
/// </summary>
public enum HttpConnectionMode { KeepAlive, ServerClose, Close }

/// <summary>`option forwardfor [except NETWORK] [header NAME]`: append the client address to NAME.</summary>
public sealed record ForwardForOption(string HeaderName, IPNetwork? Except);

/// <summary>ACL criteria implemented (7.3.6 "Fetching HTTP samples", 7.3.3 `src`); Always/Never back the predefined TRUE/FALSE (7.4).</summary>
public enum AclCriterion { Path, PathBeg, PathEnd, PathReg, Hdr, HdrBeg, Method, Src, Always, Never,
    // TLS fetches of the client connection (7.3.4): booleans `ssl_fc`, `ssl_c_used`; strings `ssl_fc_sni`, `ssl_fc_protocol`, `ssl_fc_alpn`.
    SslFc, SslFcSni, SslFcProtocol, SslFcAlpn, SslCUsed }

/// <summary>
/// One `acl NAME CRITERION [flags] VALUE...` line, or an anonymous `{ CRITERION VALUE... }` one.
/// <paramref name="HeaderName"/> is set for `hdr(NAME)` / `hdr_beg(NAME)`; <paramref name="Networks"/> for `src`.
/// The ACL matches when any value matches (7.1 "ACL basics").
/// </summary>
public sealed record AclConfig(
    string Name,
    AclCriterion Criterion,
    string? HeaderName,
    bool IgnoreCase,
    IReadOnlyList<string> Values,
    IReadOnlyList<IPNetwork> Networks,
    SourceLocation Location);

/// <summary>
/// One ACL reference in a condition: matches when any of the ACL lines declared with that name match
/// (several `acl` lines with one name are ORed), negated with `!`.
/// </summary>
public sealed record AclTerm(bool Negated, IReadOnlyList<AclConfig> Acls);

/// <summary>
/// `if|unless COND` (7.2 "Using ACLs to form conditions"): a disjunction (`||` or `or`) of conjunctions
/// (implicit AND) of ACL terms; `unless` negates the whole result.
/// </summary>
public sealed record ConditionConfig(bool Unless, IReadOnlyList<IReadOnlyList<AclTerm>> AnyOf);

/// <summary>`use_backend BACKEND if|unless COND` (4.2 "use_backend"); the first matching rule wins.</summary>
public sealed record UseBackendRule(string Backend, ConditionConfig Condition, SourceLocation Location);

public enum HeaderAction { Set, Add, Delete }

/// <summary>`http-request|http-response set-header|add-header|del-header NAME [VALUE] [if|unless COND]`.</summary>
public sealed record HeaderRule(HeaderAction Action, string Name, string? Value, ConditionConfig? Condition, SourceLocation Location);

/// <summary>The `mode http` settings of one frontend or backend; <see cref="None"/> for a proxy that sets none.</summary>
public sealed record HttpProxySettings(
    HttpConnectionMode ConnectionMode,
    ForwardForOption? ForwardFor,
    IReadOnlyList<HeaderRule> RequestRules,
    IReadOnlyList<HeaderRule> ResponseRules,
    IReadOnlyDictionary<int, byte[]> ErrorFiles)   // `errorfile CODE FILE`: the whole response, read at parse time
{
    public static HttpProxySettings None { get; } = new(HttpConnectionMode.KeepAlive, null, [], [], new Dictionary<int, byte[]>());

    /// <summary>`use_backend` rules (frontends only), in order.</summary>
    public IReadOnlyList<UseBackendRule> UseBackends { get; init; } = [];

    /// <summary>`http-request deny|return|redirect`, in order: the first whose condition holds answers the request.</summary>
    public IReadOnlyList<HttpRequestAction> RequestActions { get; init; } = [];

    /// <summary>`compression algo|type|offload`; null when the proxy compresses nothing.</summary>
    public CompressionSettings? Compression { get; init; }
}
