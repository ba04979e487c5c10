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
public sealed record ForwardForOption(string HeaderName, IPNetwork? Except)
{
    /// <summary>`if-none`: the header is added only when the request has none of that name.</summary>
    public bool IfNone { get; init; }
}

/// <summary>
/// One `acl NAME CRITERION [flags] [operator] VALUE...` line, or an anonymous `{ ... }` one (7.1 "ACL basics"):
/// <paramref name="Criterion"/> is the first word as written (a fetch with converters, or a derived name such as
/// `hdr_beg(host)`), compiled into <paramref name="Expr"/>; the sample matches when any of <paramref name="Values"/>
/// matches it the way <paramref name="Match"/> says (integer operators already turned into ranges, `-f` files read).
/// </summary>
public sealed record AclConfig(
    string Name,
    string Criterion,
    SampleExpr Expr,
    PatternMatch Match,
    bool IgnoreCase,
    IReadOnlyList<string> Values,
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
public sealed record UseBackendRule(string Backend, ConditionConfig Condition, SourceLocation Location)
{
    /// <summary>
    /// A backend name written as a log-format string (`use_backend be_%[req.hdr(host),lower]`): looked up at run time
    /// for each request; null: <see cref="Backend"/> is the name, checked at load time.
    /// </summary>
    public LogFormatConfig? NameFormat { get; init; }
}

/// <summary>
/// What a header rule does; Replace and ReplaceValue (4.2 "http-request replace-header|replace-value") rewrite the
/// fields of that name whose value (or, for ReplaceValue, each comma-separated value) the rule's regex matches.
/// </summary>
public enum HeaderAction { Set, Add, Delete, Replace, ReplaceValue }

/// <summary>
/// `http-response deny [deny_status CODE]` (<paramref name="Deny"/>: the response is replaced by the status's page,
/// 502 by default) or `http-response set-status CODE [reason TEXT]` (4.2), with an optional condition.
/// </summary>
public sealed record HttpResponseAction(bool Deny, int Status, string? Reason, ConditionConfig? Condition, SourceLocation Location)
{
    /// <summary>`http-response allow` (4.2): the proxy's remaining http-response actions are skipped.</summary>
    public bool Allow { get; init; }
    /// <summary>`http-response set-var|set-var-fmt|unset-var|set-log-level`: the same action as http-request's; null for the others.</summary>
    public HttpRequestAction? Variable { get; init; }
    /// <summary>`http-response return|redirect` (4.2): the response sent in place of the server's; null for the others.</summary>
    public HttpRequestAction? Answer { get; init; }
}

/// <summary>`http-request|http-response set-header|add-header|del-header NAME [VALUE] [if|unless COND]`.</summary>
public sealed record HeaderRule(HeaderAction Action, string Name, string? Value, ConditionConfig? Condition, SourceLocation Location)
{
    /// <summary>
    /// Header rules per direction and proxy (its defaults' included) that a worker evaluates: the active ones are a
    /// 64-bit mask per request. More is a configuration error (ConfigValidator), never a rule silently dropped.
    /// </summary>
    public const int MaxPerDirection = 64;

    /// <summary>The value as a log-format string when it has `%` (`%[src]`); null: <see cref="Value"/> is literal.</summary>
    public LogFormatConfig? Format { get; init; }

    /// <summary>replace-header, replace-value: the regex; the value is the replacement, `\N` naming its groups.</summary>
    public System.Text.RegularExpressions.Regex? Pattern { get; init; }

    /// <summary>Set, Add: the rule writes a field of its own (the others act on the fields received).</summary>
    public bool Adds => Action is HeaderAction.Set or HeaderAction.Add;
}

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

    /// <summary>`http-response deny|set-status`, in order (the backend's before the frontend's, as HAProxy).</summary>
    public IReadOnlyList<HttpResponseAction> ResponseActions { get; init; } = [];

    /// <summary>`http-request deny|return|redirect`, in order: the first whose condition holds answers the request.</summary>
    public IReadOnlyList<HttpRequestAction> RequestActions { get; init; } = [];

    /// <summary>`compression algo|type|offload`; null when the proxy compresses nothing.</summary>
    public CompressionSettings? Compression { get; init; }

    /// <summary>`option originalto [except NETWORK] [header NAME]` (4.2): the address the client connected to, IPv4 only as HAProxy 2.6.</summary>
    public ForwardForOption? OriginalTo { get; init; }

    /// <summary>`monitor-uri URI` (4.2, frontends): answered 200 (503 when a `monitor fail` holds), not forwarded nor logged.</summary>
    public string? MonitorUri { get; init; }

    /// <summary>`monitor fail if|unless COND`, in order: the monitor request fails when any holds.</summary>
    public IReadOnlyList<ConditionConfig> MonitorFail { get; init; } = [];

    /// <summary>
    /// `http-after-response set-header|add-header|del-header|replace-header|replace-value` (4.2): applied after the
    /// http-response rules, to the server's responses and to the proxy's own answers alike.
    /// </summary>
    public IReadOnlyList<HeaderRule> AfterResponseRules { get; init; } = [];

    /// <summary>`http-after-response set-status|set-var|set-var-fmt|unset-var|allow` (4.2), in order.</summary>
    public IReadOnlyList<HttpResponseAction> AfterResponseActions { get; init; } = [];

    /// <summary>
    /// `option http-buffer-request` (4.2): the request body is waited for (whole, or until the buffer is full, or
    /// `timeout http-request`) before this proxy's `http-request` rules run and a server is chosen.
    /// </summary>
    public bool BufferRequest { get; init; }
}
