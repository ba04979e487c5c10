namespace Proxy.Shared.Config;

/// <summary>
/// What a `tcp-request content` rule does (doc/configuration.txt 4.2 "tcp-request content"): accept and reject end
/// the rules; set-var and unset-var act and the rules go on.
/// </summary>
public enum TcpContentAction
{
    Accept,
    Reject,
    SetVar,
    UnsetVar,
    /// <summary>`track-sc0..2 KEY [table T]`: tracks and goes on (Proxy.Worker.Tables.CompiledTrack).</summary>
    TrackSc,
    /// <summary>`capture SAMPLE len N`: fills its request capture slot and goes on.</summary>
    Capture,
    /// <summary>`set-dst EXPR`, `set-dst-port EXPR`: the session's destination address or port, and goes on.</summary>
    SetDst,
    SetDstPort,
}

/// <summary>
/// `tcp-request content accept|reject|set-var(NAME) EXPR|set-var-fmt(NAME) FMT|unset-var(NAME) [if|unless COND]`: in a
/// frontend, evaluated in order once a connection is accepted (tcp mode: on the bytes `tcp-request inspect-delay`
/// buffered; http mode: with each request, before the `http-request` rules).
/// </summary>
public sealed record TcpContentRule(TcpContentAction Action, ConditionConfig? Condition, SourceLocation Location)
{
    /// <summary>set-var / unset-var: the variable (`sess.name`, `txn.name`...).</summary>
    public string? Variable { get; init; }
    /// <summary>set-var: the expression whose value the variable takes; capture: the sample captured.</summary>
    public SampleExpr? Expr { get; init; }
    /// <summary>set-var-fmt: the value, a log-format string.</summary>
    public LogFormatConfig? ValueFormat { get; init; }
    /// <summary>set-var, set-var-fmt: `set-var(NAME,COND...)`'s conditions (2.6).</summary>
    public VarSetConditions VarConditions { get; init; }
    /// <summary>track-scN: what to track and where.</summary>
    public TrackScConfig? Track { get; init; }
    /// <summary>capture: the request capture slot the rule declared (FrontendConfig.RequestCaptures).</summary>
    public int CaptureSlot { get; init; }
}
