using System.Net;
using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Http;

/// <summary>One `http-request|http-response set-header|add-header|del-header` rule, compiled.</summary>
internal sealed class CompiledHeaderRule(HeaderRule rule)
{
    public HeaderAction Action { get; } = rule.Action;
    public byte[] Name { get; } = Encoding.ASCII.GetBytes(rule.Name);
    public byte[] Value { get; } = rule.Value is null ? [] : Encoding.UTF8.GetBytes(rule.Value);
    public CompiledCondition? Condition { get; } = rule.Condition is null ? null : new CompiledCondition(rule.Condition);
    /// <summary>The value as a log-format string (`%[src]`), rendered per request; null: <see cref="Value"/> as is.</summary>
    public Logging.CompiledLogFormat? Format { get; } = rule.Format is null ? null : new Logging.CompiledLogFormat(rule.Format);
    /// <summary>replace-header, replace-value: the regex (HeaderReplacer.cs).</summary>
    public System.Text.RegularExpressions.Regex? Pattern { get; } = rule.Pattern;
    /// <summary>Set, Add: writes a field of its own; Delete, Replace, ReplaceValue act on the fields received.</summary>
    public bool Adds { get; } = rule.Adds;
    /// <summary>Set, Delete: removes the earlier fields of its name.</summary>
    public bool Removes { get; } = rule.Action is HeaderAction.Set or HeaderAction.Delete;
}

/// <summary>
/// The `mode http` settings of one frontend or backend, compiled once per engine: the connection mode,
/// forwardfor, header rules (at most <see cref="MaxRules"/> per direction), deny/return/redirect, errorfiles.
/// </summary>
internal sealed class HttpProxyRuntime
{
    /// <summary>Rules per direction and proxy that are evaluated; the active ones are a 64-bit mask per request.</summary>
    public const int MaxRules = HeaderRule.MaxPerDirection;

    /// <param name="proxyName">the frontend's or backend's name (`http-request auth`'s default realm)</param>
    public HttpProxyRuntime(HttpProxySettings settings, string proxyName = "")
    {
        ConnectionMode = settings.ConnectionMode;
        if (settings.ForwardFor is { } ff)
        {
            ForwardForHeader = Encoding.ASCII.GetBytes(ff.HeaderName);
            ForwardForExcept = ff.Except;
            ForwardForIfNone = ff.IfNone;
        }
        if (settings.OriginalTo is { } ot)
        {
            OriginalToHeader = Encoding.ASCII.GetBytes(ot.HeaderName);
            OriginalToExcept = ot.Except;
        }
        RequestRules = Compile(settings.RequestRules);
        RequestActions = new CompiledRequestAction[settings.RequestActions.Count];
        for (int i = 0; i < RequestActions.Length; i++) RequestActions[i] = new CompiledRequestAction(settings.RequestActions[i], proxyName, settings.ErrorFiles);
        ResponseRules = Compile(settings.ResponseRules);
        ResponseActions = CompileResponseActions(settings.ResponseActions, proxyName, settings.ErrorFiles);
        AfterResponseRules = Compile(settings.AfterResponseRules);
        AfterResponseActions = CompileResponseActions(settings.AfterResponseActions, proxyName, settings.ErrorFiles);
        HasAfterResponse = AfterResponseRules.Length > 0 || AfterResponseActions.Length > 0;
        _requestRulesBefore = RulesBeforeEach(settings.RequestRules, settings.RequestActions, a => a.Kind == HttpRequestActionKind.Allow ? a.Location : null);
        _responseRulesBefore = RulesBeforeEach(settings.ResponseRules, settings.ResponseActions, a => a.Allow ? a.Location : null);
        _afterRulesBefore = RulesBeforeEach(settings.AfterResponseRules, settings.AfterResponseActions, a => a.Allow ? a.Location : null);
        ErrorFiles = settings.ErrorFiles;
        MonitorUri = settings.MonitorUri is { } monitor ? Encoding.UTF8.GetBytes(monitor) : null;
        MonitorFail = new CompiledCondition[settings.MonitorFail.Count];
        for (int i = 0; i < MonitorFail.Length; i++) MonitorFail[i] = new CompiledCondition(settings.MonitorFail[i]);
        Compression = Proxy.Worker.Compression.CompressionRuntime.From(settings.Compression);
    }

    public static HttpProxyRuntime Empty { get; } = new(HttpProxySettings.None);

    public HttpConnectionMode ConnectionMode { get; }
    /// <summary>`option forwardfor` header name; null when the option is off.</summary>
    public byte[]? ForwardForHeader { get; }
    public IPNetwork? ForwardForExcept { get; }
    /// <summary>`option forwardfor if-none`: a request that has the header keeps it and gets none added.</summary>
    public bool ForwardForIfNone { get; }
    /// <summary>`option originalto` header name; null when the option is off.</summary>
    public byte[]? OriginalToHeader { get; }
    public IPNetwork? OriginalToExcept { get; }
    public CompiledHeaderRule[] RequestRules { get; }
    public CompiledHeaderRule[] ResponseRules { get; }
    /// <summary>
    /// `http-response deny|set-status|allow|set-var|unset-var|return|redirect`, in order: deny or not, the status,
    /// set-status's new status line, the condition, allow, the variable action or the return|redirect answer.
    /// </summary>
    public (bool Deny, int Status, byte[] StatusLine, CompiledCondition? Condition, bool Allow, CompiledRequestAction? Action)[] ResponseActions { get; }

    /// <summary>`http-after-response` header rules (4.2): after the http-response ones, on every response sent.</summary>
    public CompiledHeaderRule[] AfterResponseRules { get; }
    /// <summary>`http-after-response set-status|set-var|set-var-fmt|unset-var|allow`, as <see cref="ResponseActions"/>.</summary>
    public (bool Deny, int Status, byte[] StatusLine, CompiledCondition? Condition, bool Allow, CompiledRequestAction? Action)[] AfterResponseActions { get; }
    /// <summary>Whether the proxy has any `http-after-response` rule (a response then takes a second rewrite).</summary>
    public bool HasAfterResponse { get; }

    /// <summary>
    /// Runs `http-after-response set-status|set-var|unset-var|allow` (4.2); <paramref name="headerRules"/>: the
    /// after-response header rules that still apply (those written after an `allow` that ran do not).
    /// </summary>
    public void RunAfterResponseActions(Samples.SampleContext ctx, out ulong headerRules) =>
        Run(AfterResponseActions, _afterRulesBefore, ctx, out _, out headerRules);

    private static (bool, int, byte[], CompiledCondition?, bool, CompiledRequestAction?)[] CompileResponseActions(
        IReadOnlyList<HttpResponseAction> actions, string proxyName, IReadOnlyDictionary<int, byte[]> errorFiles)
    {
        var compiled = new (bool, int, byte[], CompiledCondition?, bool, CompiledRequestAction?)[actions.Count];
        for (int i = 0; i < compiled.Length; i++)
        {
            var a = actions[i];
            compiled[i] = (a.Deny, a.Status, Encoding.ASCII.GetBytes($"HTTP/1.1 {a.Status} {a.Reason ?? CompiledRequestAction.Reason(a.Status)}"),
                a.Condition is null ? null : new CompiledCondition(a.Condition), a.Allow,
                (a.Variable ?? a.Answer) is { } action ? new CompiledRequestAction(action, proxyName, errorFiles) : null);
        }
        return compiled;
    }

    /// <summary>
    /// Runs `http-response deny|set-status|return|redirect` (4.2): returns the status of the first deny, return or
    /// redirect whose condition holds (the response is then replaced: by the status's page for a deny, by
    /// <paramref name="answer"/> for the others), else 0, after recording the last set-status in <paramref name="ctx"/>.
    /// </summary>
    /// <paramref name="headerRules"/>: the response header rules that still apply, all but those written after the
    /// `http-response allow` that ended the list (4.2 "allow": no further http-response rule of this proxy runs).
    public int RunResponseActions(Samples.SampleContext ctx, out CompiledRequestAction? answer, out ulong headerRules) =>
        Run(ResponseActions, _responseRulesBefore, ctx, out answer, out headerRules);

    private static int Run((bool Deny, int Status, byte[] StatusLine, CompiledCondition? Condition, bool Allow, CompiledRequestAction? Action)[] actions,
        ulong[] rulesBefore, Samples.SampleContext ctx, out CompiledRequestAction? answer, out ulong headerRules)
    {
        answer = null;
        headerRules = ~0UL;
        for (int i = 0; i < actions.Length; i++)
        {
            var (deny, status, line, condition, allow, action) = actions[i];
            if (condition is not null && !condition.Evaluate(ctx)) continue;
            if (allow)
            {
                headerRules = rulesBefore[i];
                return 0;
            }
            if (action is { IsFinal: true })
            {
                answer = action;
                return action.Status;
            }
            if (action is not null)
            {
                action.ExecuteVariable(ctx);
                continue;
            }
            if (deny) return status;
            ctx.SetResponseStatus(status, line);
        }
        return 0;
    }

    /// <summary>`monitor-uri`; null when the proxy has none.</summary>
    public byte[]? MonitorUri { get; }
    /// <summary>`monitor fail` conditions.</summary>
    public CompiledCondition[] MonitorFail { get; }

    /// <summary>
    /// Whether <paramref name="target"/> is the `monitor-uri` (4.2): a URI starting with '/' is compared with the
    /// request's path and query (what absolute URIs leave: HAProxy 2.6's http_parse_path() keeps the query, so
    /// `/health?x=1` is not `/health`), any other with the whole target.
    /// </summary>
    public bool IsMonitorRequest(ReadOnlySpan<byte> target)
    {
        if (MonitorUri is not { } uri) return false;
        if (uri.Length == 0 || uri[0] != '/') return target.SequenceEqual(uri);
        return CompiledRequestAction.PathOf(target).SequenceEqual(uri) || target.SequenceEqual(uri);
    }

    /// <summary>The monitor request's status: 503 when a `monitor fail` condition holds, else 200.</summary>
    public int MonitorStatus(Samples.SampleContext ctx)
    {
        foreach (var condition in MonitorFail)
            if (condition.Evaluate(ctx)) return 503;
        return 200;
    }

    /// <summary>`http-request deny|return|redirect`, in order.</summary>
    public CompiledRequestAction[] RequestActions { get; }
    public IReadOnlyDictionary<int, byte[]> ErrorFiles { get; }
    /// <summary>`compression algo|type|offload`; null when the proxy compresses nothing.</summary>
    public Proxy.Worker.Compression.CompressionRuntime? Compression { get; }

    private readonly ulong[] _requestRulesBefore;
    private readonly ulong[] _responseRulesBefore;
    private readonly ulong[] _afterRulesBefore;

    /// <summary>
    /// The request header rules still to apply after `http-request allow` number <paramref name="allowedAt"/> (the
    /// index <see cref="CompiledRequestAction.Run"/> gives; -1: no allow, all of them): those written before it.
    /// </summary>
    public ulong RequestRulesBefore(int allowedAt) => allowedAt < 0 ? ~0UL : _requestRulesBefore[allowedAt];

    /// <summary>
    /// For each action, the mask of the header rules written before it (4.2: http-request and http-response rules run
    /// in the order of the file, so an `allow` ends the header rules after it as well as the actions). Rules of the
    /// proxy's defaults come first; a rule in another file than the action is before it (the defaults' file).
    /// </summary>
    private static ulong[] RulesBeforeEach<TAction>(IReadOnlyList<HeaderRule> rules, IReadOnlyList<TAction> actions, Func<TAction, SourceLocation?> allowAt)
    {
        var before = new ulong[actions.Count];
        for (int i = 0; i < before.Length; i++)
        {
            before[i] = ~0UL;
            if (allowAt(actions[i]) is not { } at) continue;
            for (int j = 0; j < rules.Count && j < MaxRules; j++)
                if (rules[j].Location.File == at.File && rules[j].Location.Line > at.Line) before[i] &= ~(1UL << j);
        }
        return before;
    }

    /// <summary>Bit i set when rule i applies to this request (no condition, or its condition holds).</summary>
    public static ulong Evaluate(CompiledHeaderRule[] rules, Proxy.Worker.Samples.SampleContext ctx)
    {
        ulong mask = 0;
        for (int i = 0; i < rules.Length; i++)
            if (rules[i].Condition is not { } c || c.Evaluate(ctx)) mask |= 1UL << i;
        return mask;
    }

    private static CompiledHeaderRule[] Compile(IReadOnlyList<HeaderRule> rules)
    {
        var compiled = new CompiledHeaderRule[Math.Min(rules.Count, MaxRules)];
        for (int i = 0; i < compiled.Length; i++) compiled[i] = new CompiledHeaderRule(rules[i]);
        return compiled;
    }
}
