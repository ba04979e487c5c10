namespace Proxy.Shared.Config;

/// <summary>The final `http-request` actions: the proxy answers the request itself and nothing reaches a server.</summary>
public enum HttpRequestActionKind { Deny, Return, Redirect, SetVar, UnsetVar, SetPath, SetQuery, SetUri, SetMethod, UseService, TrackSc, StickAction, Tarpit, SilentDrop, Auth, Allow, SetPathQ, SetLogLevel, SetSrc, Capture, SetDst, SetDstPort }

/// <summary>`http-request redirect location|prefix|scheme` (4.4 "redirect").</summary>
public enum RedirectKind { Location, Prefix, Scheme }

/// <summary>
/// `http-request deny [deny_status CODE]`, `http-request return [status CODE] [content-type TYPE] [string TEXT | file
/// PATH]` and `http-request redirect location|prefix|scheme VALUE [code CODE] [drop-query]`, each with an optional
/// `if|unless COND` (doc/configuration.txt 4.2 "http-request", 4.4). The first whose condition holds ends the rules.
/// </summary>
public sealed record HttpRequestAction(HttpRequestActionKind Kind, int Status, ConditionConfig? Condition, SourceLocation Location)
{
    /// <summary>return: the Content-Type of <see cref="Body"/>.</summary>
    public string? ContentType { get; init; }
    /// <summary>return: the payload (`string` or the file's bytes, read at parse time); null: the status's built-in page.</summary>
    public byte[]? Body { get; init; }
    /// <summary>return `lf-string FMT` or `lf-file PATH`: the payload, a log-format rendered per request; null: none.</summary>
    public LogFormatConfig? BodyFormat { get; init; }
    /// <summary>return `hdr NAME FMT`, in order: header lines rendered per request; null: none.</summary>
    public IReadOnlyList<ReturnHeader>? Headers { get; init; }
    /// <summary>return `errorfile PATH` or `errorfiles NAME`: the whole response, sent as it is; null: none.</summary>
    public byte[]? WholeResponse { get; init; }
    public RedirectKind Redirect { get; init; }
    /// <summary>redirect: the location, prefix or scheme.</summary>
    public string? Target { get; init; }
    /// <summary>redirect prefix|scheme: leave the query string out of the location.</summary>
    public bool DropQuery { get; init; }
    /// <summary>redirect prefix|scheme: a slash after the path when it does not end with one (`append-slash`).</summary>
    public bool AppendSlash { get; init; }
    /// <summary>redirect: the whole Set-Cookie value (`set-cookie` / `clear-cookie`, HAProxy's suffixes added); null: none.</summary>
    public string? Cookie { get; init; }
    /// <summary>use-service: the service (`prometheus-exporter`, the one HAProxy 2.6 ships).</summary>
    public string? Service { get; init; }
    /// <summary>redirect location|prefix: the value as a log-format string when it has `%`; null: literal.</summary>
    public LogFormatConfig? TargetFormat { get; init; }
    /// <summary>set-var / unset-var: the variable (`txn.name`...).</summary>
    public string? Variable { get; init; }
    /// <summary>set-var: the expression whose value the variable takes; set-src, set-dst, set-dst-port: the new address or port.</summary>
    public SampleExpr? Expr { get; init; }
    /// <summary>set-var-fmt, set-path, set-query, set-uri, set-method: the new value, a log-format string.</summary>
    public LogFormatConfig? ValueFormat { get; init; }
    /// <summary>set-var, set-var-fmt: `set-var(NAME,COND...)`'s conditions (2.6); None: always set.</summary>
    public VarSetConditions VarConditions { get; init; }

    /// <summary>track-sc0|1|2: what to track and where.</summary>
    public TrackScConfig? Track { get; init; }
    /// <summary>sc-inc-gpc0|sc-inc-gpc1|sc-inc-gpc|sc-set-gpt0.</summary>
    public StickActionConfig? Sticky { get; init; }

    /// <summary>set-log-level: the syslog severity of the request's log line, 0 (emerg) to 7 (debug); <see cref="SilentLogLevel"/>: no line.</summary>
    public int LogLevel { get; init; }
    public const int SilentLogLevel = 8;

    /// <summary>capture (`http-request|http-response capture`, `tcp-request content capture`): the slot it fills, 0-based.</summary>
    public int CaptureSlot { get; init; }
    /// <summary>capture: a response slot (`http-response capture`) rather than a request slot.</summary>
    public bool CaptureResponse { get; init; }

    /// <summary>auth: `realm REALM`; null: the name of the proxy whose rule it is (HAProxy's px->id).</summary>
    public string? Realm { get; init; }

    /// <summary>The kinds that answer the request themselves; the others act and the rules go on.</summary>
    public bool IsFinal => Kind is HttpRequestActionKind.Deny or HttpRequestActionKind.Return or HttpRequestActionKind.Redirect
        or HttpRequestActionKind.UseService or HttpRequestActionKind.Tarpit or HttpRequestActionKind.SilentDrop
        or HttpRequestActionKind.Auth;
}

/// <summary>`http-request|http-response return ... hdr NAME FMT` (4.2): one header line of the answer.</summary>
public sealed record ReturnHeader(string Name, LogFormatConfig Value);
