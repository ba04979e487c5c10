namespace Proxy.Shared.Config;

// HAProxy's log-format strings (doc/configuration.txt 8.2.4 "Custom log format"): `log-format`, `unique-id-format`
// and the values of rules that take one (`http-request set-header NAME FMT`, `redirect location FMT`...). Literal
// text, `%VAR` variables and `%[EXPR]` sample expressions, each with optional `%{+Q,+X,+E}` flags.

/// <summary>The `%` variables of 8.2.4 implemented; <see cref="LogFormatParser"/> maps their names.</summary>
public enum LogVariable
{
    ClientIp, ClientPort, FrontendIp, FrontendPort, FrontendName, FrontendNameTransport, BackendName, ServerName,
    ServerIp, ServerPort, TimeRequest, TimeQueue, TimeConnect, TimeResponse, TimeActive, TimeTotal, Status, BytesRead,
    BytesUploaded, CapturedRequestCookie, CapturedResponseCookie, TerminationState, TerminationStateCookie, ActConn,
    FeConn, BeConn, SrvConn, Retries, SrvQueue, BackendQueue, RequestHeaders, RequestHeadersList, ResponseHeaders,
    ResponseHeadersList, RequestLine, Method, Uri, Path, Query, Version, UniqueId, Pid, Date, GmtDate, LocalDate,
    RequestDate, Milliseconds, Hostname, Timestamp, SslVersion, SslCipher,
}

/// <summary>`%{+Q}`: quoted; `%{+X}`: numbers in hexadecimal; `%{+E}`: '"', '\\' and ']' escaped (8.2.4 flags).</summary>
[Flags]
public enum LogFormatFlags { None = 0, Quote = 1, Hex = 2, Escape = 4 }

/// <summary>One piece of a log-format string: literal text, a variable, or a sample expression.</summary>
public sealed record LogFormatNode(string? Literal, LogVariable Variable, SampleExpr? Expr, LogFormatFlags Flags);

/// <summary>A log-format string compiled; <see cref="Text"/> as written. Constant when it has only literal text.</summary>
public sealed record LogFormatConfig(string Text, IReadOnlyList<LogFormatNode> Nodes)
{
    public bool IsConstant
    {
        get
        {
            foreach (var n in Nodes) if (n.Literal is null) return false;
            return true;
        }
    }
}
