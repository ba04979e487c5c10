using System.Net;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Logging;

/// <summary>
/// A log-format string compiled (doc/configuration.txt 8.2.4): literal text as bytes, `%[EXPR]` as compiled
/// expressions, `%VAR` as the variable to print. <see cref="Render"/> writes it for one request, on the session's
/// thread (the values are the request's; the logger thread only frames and sends the result), allocating nothing.
/// The same renderer serves `log-format`, `unique-id-format` and rule values (`set-header NAME FMT`): variables
/// that only a finished request has (timers, byte counts) print as HAProxy prints them before they are known.
/// </summary>
internal sealed class CompiledLogFormat
{
    private readonly (byte[] Literal, LogVariable Variable, CompiledSampleExpr? Expr, LogFormatFlags Flags, NodeKind Kind)[] _nodes;
    private static readonly byte[] HostName = Encoding.UTF8.GetBytes(Environment.MachineName);

    private enum NodeKind : byte { Literal, Separator, Variable, Expr }

    public CompiledLogFormat(LogFormatConfig format)
    {
        var nodes = new List<(byte[], LogVariable, CompiledSampleExpr?, LogFormatFlags, NodeKind)>(format.Nodes.Count);
        foreach (var n in format.Nodes)
        {
            if (n.Literal is { } text)
            {
                // 8.2.4: "spaces are considered as delimiters and are merged": each run of spaces is one separator.
                int start = 0;
                while (start < text.Length)
                {
                    bool space = text[start] == ' ';
                    int end = start;
                    while (end < text.Length && (text[end] == ' ') == space) end++;
                    nodes.Add(space ? ([], default, null, LogFormatFlags.None, NodeKind.Separator)
                        : (Encoding.UTF8.GetBytes(text[start..end]), default, null, LogFormatFlags.None, NodeKind.Literal));
                    start = end;
                }
            }
            else if (n.Expr is not null)
            {
                nodes.Add(([], default, new CompiledSampleExpr(n.Expr), n.Flags, NodeKind.Expr));
            }
            else
            {
                // HAProxy quotes only its text fields (lf_text): numbers, ports, dates and states stay bare under
                // `%{+Q}` (and under `%{+Q}o`, as `option httplog clf` has it).
                var flags = IsText(n.Variable) || IsCaptureList(n.Variable) ? n.Flags : n.Flags & ~LogFormatFlags.Quote;
                nodes.Add(([], n.Variable, null, flags, NodeKind.Variable));
            }
        }
        _nodes = [.. nodes];
        Text = format.Text;
    }

    private static bool IsText(LogVariable v) => v is LogVariable.ClientIp or LogVariable.FrontendIp or LogVariable.ServerIp
        or LogVariable.FrontendName or LogVariable.FrontendNameTransport or LogVariable.BackendName or LogVariable.ServerName
        or LogVariable.CapturedRequestCookie or LogVariable.CapturedResponseCookie or LogVariable.RequestLine
        or LogVariable.Method or LogVariable.Uri or LogVariable.Path or LogVariable.Query or LogVariable.Version
        or LogVariable.UniqueId or LogVariable.Hostname or LogVariable.SslVersion or LogVariable.SslCipher;

    /// <summary>%hr %hs %hrl %hsl: nothing at all when the frontend captures nothing; they quote themselves.</summary>
    private static bool IsCaptureList(LogVariable v) => v is LogVariable.RequestHeaders or LogVariable.RequestHeadersList
        or LogVariable.ResponseHeaders or LogVariable.ResponseHeadersList;

    public string Text { get; }

    /// <summary>
    /// Writes the format into <paramref name="dest"/>; returns the length, or -1 when it did not fit (with
    /// <paramref name="cut"/>, a log line: what fits, as HAProxy truncates a line at its `len`).
    /// <paramref name="record"/> holds the finished request's figures (null while the request is being processed).
    /// </summary>
    public int Render(SampleContext ctx, TrafficLogRecord? record, Span<byte> dest, bool cut = false)
    {
        var w = new LogLineWriter(dest);
        // HAProxy's sess_build_logline: a separator is written only after something else was, so a field that
        // prints nothing (%hr without captures) takes no space, and neither do leading spaces.
        bool afterSeparator = true;
        foreach (var (literal, variable, expr, flags, kind) in _nodes)
        {
            if (kind == NodeKind.Separator)
            {
                if (!afterSeparator) w.Append(' ');
                afterSeparator = true;
                continue;
            }
            int before = w.Length;
            if (kind == NodeKind.Literal)
            {
                w.Append(literal);
                afterSeparator = false;
                continue;
            }
            bool quote = (flags & LogFormatFlags.Quote) != 0 && !IsCaptureList(variable);
            if (quote) w.Append('"');
            if (expr is not null)
            {
                ctx.ResetScratch();
                if (expr.TryEvaluate(ctx, out var s) && SampleText.TryAsBytes(ctx, s, out var text) && (text.Length > 0 || quote))
                    AppendText(ref w, text, flags);
                else if (!quote)
                    w.Append('-');
            }
            else
            {
                AppendVariable(ref w, variable, flags, ctx, record);
            }
            if (quote) w.Append('"');
            if (w.Length != before) afterSeparator = false;
            if (w.Length == dest.Length) return cut ? w.Length : -1;
        }
        return w.Length;
    }

    /// <summary>`+E`: '"', '\\' and ']' escaped with a backslash (8.2.4), so a quoted field stays one field.</summary>
    private static void AppendText(ref LogLineWriter w, ReadOnlySpan<byte> text, LogFormatFlags flags)
    {
        if ((flags & LogFormatFlags.Escape) == 0)
        {
            w.Append(text);
            return;
        }
        foreach (byte b in text)
        {
            if (b is (byte)'"' or (byte)'\\' or (byte)']') w.Append('\\');
            w.Append(b);
        }
    }

    private static void AppendNumber(ref LogLineWriter w, long value, LogFormatFlags flags)
    {
        if ((flags & LogFormatFlags.Hex) == 0)
        {
            w.Append(value);
            return;
        }
        Span<byte> hex = stackalloc byte[16];
        int n = 0;
        ulong v = (ulong)value;
        do { hex[15 - n++] = (byte)"0123456789ABCDEF"[(int)(v & 15)]; v >>= 4; } while (v != 0);
        w.Append(hex[(16 - n)..]);
    }

    private static void AppendAddress(ref LogLineWriter w, IPEndPoint? endPoint, bool port, LogFormatFlags flags)
    {
        if (endPoint is null)
        {
            w.Append('-');
            return;
        }
        if (port)
        {
            AppendNumber(ref w, endPoint.Port, flags);
            return;
        }
        var ip = endPoint.Address;
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        Span<byte> text = stackalloc byte[64];
        if (ip.TryFormat(text, out int n)) w.Append(text[..n]);
    }

    private static void AppendVariable(ref LogLineWriter w, LogVariable v, LogFormatFlags flags, SampleContext ctx, TrafficLogRecord? r)
    {
        switch (v)
        {
            case LogVariable.ClientIp: AppendAddress(ref w, ctx.Client, false, flags); return;
            case LogVariable.ClientPort: AppendAddress(ref w, ctx.Client, true, flags); return;
            case LogVariable.FrontendIp: AppendAddress(ref w, ctx.Local, false, flags); return;
            case LogVariable.FrontendPort: AppendAddress(ref w, ctx.Local, true, flags); return;
            case LogVariable.FrontendName: w.Append(ctx.FrontendName); return;
            case LogVariable.FrontendNameTransport:
                w.Append(ctx.FrontendName);
                if (ctx.Tls is not null) w.Append('~');   // 8.2.4 "%ft": frontend_name_transport ('~' suffix for SSL)
                return;
            case LogVariable.SslVersion or LogVariable.SslCipher:
                var name = ctx.Tls is not { } tls ? "" : v == LogVariable.SslVersion
                    ? TlsSamples.ProtocolName(tls.SslProtocol) : TlsSamples.CipherName(tls.NegotiatedCipherSuite);
                w.Append(name.Length == 0 ? "-" : name);
                return;
            case LogVariable.BackendName:
                w.Append(ctx.Backend is null ? ctx.FrontendName : ctx.BackendName);
                return;
            case LogVariable.ServerName:
                if (r?.Server is { } server) w.Append(server);
                else w.Append("<NOSRV>"u8);
                return;
            case LogVariable.ServerIp: AppendAddress(ref w, r?.ServerEndPoint, false, flags); return;
            case LogVariable.ServerPort: AppendAddress(ref w, r?.ServerEndPoint, true, flags); return;
            case LogVariable.TimeRequest: AppendNumber(ref w, r?.TimeRequest ?? -1, flags); return;
            case LogVariable.TimeQueue: AppendNumber(ref w, r?.TimeQueue ?? -1, flags); return;
            case LogVariable.TimeConnect: AppendNumber(ref w, r?.TimeConnect ?? -1, flags); return;
            case LogVariable.TimeResponse: AppendNumber(ref w, r?.TimeResponse ?? -1, flags); return;
            case LogVariable.TimeActive or LogVariable.TimeTotal: AppendNumber(ref w, r?.TimeTotal ?? -1, flags); return;
            case LogVariable.Status: AppendNumber(ref w, r?.Status ?? ctx.Response?.StatusCode ?? -1, flags); return;
            case LogVariable.BytesRead: AppendNumber(ref w, r?.Bytes ?? 0, flags); return;
            case LogVariable.BytesUploaded: AppendNumber(ref w, r?.BytesUploaded ?? 0, flags); return;
            case LogVariable.CapturedRequestCookie or LogVariable.CapturedResponseCookie:
                // `capture cookie` (4.2): `-` when none was captured (or the frontend captures none), as HAProxy's lf_text.
                if (ctx.Captures.TryGetCookie(v == LogVariable.CapturedResponseCookie, out var cookie)) AppendText(ref w, cookie, flags);
                else if ((flags & LogFormatFlags.Quote) == 0) w.Append('-');
                return;
            case LogVariable.TerminationState or LogVariable.TerminationStateCookie:
                w.Append(r is null || r.Cause == '\0' ? '-' : r.Cause);
                w.Append(r is null || r.Phase == '\0' ? '-' : r.Phase);
                if (v == LogVariable.TerminationStateCookie) w.Append("--"u8);
                return;
            case LogVariable.ActConn: AppendNumber(ref w, r?.ActConn ?? 0, flags); return;
            case LogVariable.FeConn: AppendNumber(ref w, r?.FeConn ?? 0, flags); return;
            case LogVariable.BeConn: AppendNumber(ref w, r?.BeConn ?? 0, flags); return;
            case LogVariable.SrvConn: AppendNumber(ref w, r?.SrvConn ?? 0, flags); return;
            case LogVariable.Retries:
                if (r?.Redispatched == true) w.Append('+');
                AppendNumber(ref w, r?.Retries ?? 0, flags);
                return;
            case LogVariable.SrvQueue or LogVariable.BackendQueue: AppendNumber(ref w, 0, flags); return;
            case LogVariable.RequestHeaders or LogVariable.RequestHeadersList:
                ctx.Captures.AppendRequest(ref w, v == LogVariable.RequestHeadersList, (flags & LogFormatFlags.Quote) != 0);
                return;
            case LogVariable.ResponseHeaders or LogVariable.ResponseHeadersList:
                ctx.Captures.AppendResponse(ref w, v == LogVariable.ResponseHeadersList, (flags & LogFormatFlags.Quote) != 0);
                return;
            case LogVariable.UniqueId:
                if (ctx.UniqueId.IsEmpty) w.Append('-');
                else w.Append(ctx.UniqueId);
                return;
            case LogVariable.Pid: AppendNumber(ref w, Environment.ProcessId, flags); return;
            case LogVariable.Hostname: w.Append(HostName); return;
        }
        // The request line and its parts: the record's copy once the request is over (what was received, even when
        // it was refused), else the request being processed.
        ReadOnlySpan<byte> line = r is not null ? (r.RequestLineLength < 0 ? default : r.RequestLine.AsSpan(0, r.RequestLineLength))
            : ctx.Request is { } req ? req.StartLine : default;
        switch (v)
        {
            case LogVariable.RequestLine:
                if (line.IsEmpty) w.Append("<BADREQ>"u8);
                else TrafficLogFormatter.AppendEscaped(ref w, line);
                return;
            case LogVariable.Method or LogVariable.Uri or LogVariable.Path or LogVariable.Query or LogVariable.Version:
                AppendRequestPart(ref w, line, v);
                return;
        }
        long ticks = r?.DateUtcTicks ?? DateTime.UtcNow.Ticks;
        if (v is LogVariable.Date or LogVariable.RequestDate)
        {
            LocalDateCache.Current.AppendLogDate(ref w, ticks);
            return;
        }
        var utc = new DateTime(ticks, DateTimeKind.Utc);
        switch (v)
        {
            case LogVariable.GmtDate or LogVariable.LocalDate:
                // `%T` / `%Tl`: dd/Mmm/yyyy:HH:mm:ss +zzzz (8.2.4), GMT or local.
                var when = v == LogVariable.GmtDate ? new DateTimeOffset(utc) : new DateTimeOffset(utc.ToLocalTime());
                TrafficLogFormatter.AppendClfDate(ref w, when);
                return;
            case LogVariable.Milliseconds: w.AppendPadded(utc.Millisecond, 3); return;
            case LogVariable.Timestamp: AppendNumber(ref w, new DateTimeOffset(utc).ToUnixTimeSeconds(), flags); return;
        }
    }

    /// <summary>%HM %HU %HP %HQ %HV: the pieces of the request line "METHOD URI VERSION" (8.2.4).</summary>
    private static void AppendRequestPart(ref LogLineWriter w, ReadOnlySpan<byte> line, LogVariable v)
    {
        int sp1 = line.IndexOf((byte)' ');
        int sp2 = sp1 < 0 ? -1 : line[(sp1 + 1)..].IndexOf((byte)' ');
        var method = sp1 < 0 ? line : line[..sp1];
        var uri = sp1 < 0 ? default : sp2 < 0 ? line[(sp1 + 1)..] : line.Slice(sp1 + 1, sp2);
        var version = sp2 < 0 ? default : line[(sp1 + sp2 + 2)..];
        int q = uri.IndexOf((byte)'?');
        ReadOnlySpan<byte> part = v switch
        {
            LogVariable.Method => method,
            LogVariable.Uri => uri,
            LogVariable.Path => q < 0 ? uri : uri[..q],
            LogVariable.Query => q < 0 ? default : uri[q..],
            _ => version,
        };
        if (part.IsEmpty) w.Append('-');
        else TrafficLogFormatter.AppendEscaped(ref w, part);
    }
}
