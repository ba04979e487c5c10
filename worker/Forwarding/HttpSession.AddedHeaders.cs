using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Shared.Config;
using Proxy.Worker.Compression;
using Proxy.Worker.Http;
using Proxy.Worker.Stats;
using Proxy.Worker.Tls;

namespace Proxy.Worker.Forwarding;

// The header lines the proxy adds to a request it forwards: `option forwardfor`, `option originalto` and
// `unique-id-header`, each line built once per session and reused while its address stays the same.
internal sealed partial class HttpSession : ProxySession
{
    /// <summary>
    /// The lines built for this session, made at its first request that adds one: a session of a frontend that adds
    /// none holds one field instead of seven (perf/README.md, "Memory per idle session").
    /// </summary>
    private sealed class AddedLines
    {
        public byte[] Extra = [];                  // forwardfor's line, originalto's, then unique-id-header's
        public byte[] ForwardedFor = [];           // "X-Forwarded-For: ADDR\r\n", built for the header name last used
        public byte[]? ForwardedForHeader;
        public IPAddress? ForwardedForAddress;
        public byte[] OriginalTo = [];             // "X-Original-To: ADDR\r\n", built for the header name last used
        public byte[]? OriginalToHeader;
        public IPAddress? OriginalToAddress;
    }

    /// <summary>
    /// The header lines the proxy adds to the request: forwardfor's, then `unique-id-header`'s (4.2) when the
    /// frontend sets one, built into a buffer of the session's (grown once, when an id is longer than it).
    /// </summary>
    private ReadOnlySpan<byte> ExtraRequestLines(FrontendRuntime fe, BackendRuntime be)
    {
        var xff = ForwardedForLine(fe, be);
        var originalTo = OriginalToLine(fe, be);
        bool uniqueId = fe.UniqueIdHeader is not null && !Samples.UniqueId.IsEmpty;
        if (originalTo.IsEmpty && !uniqueId) return xff;
        int size = xff.Length + originalTo.Length + (uniqueId ? fe.UniqueIdHeader!.Length + Samples.UniqueId.Length + 4 : 0);
        var lines = _addedLines ??= new AddedLines();
        if (lines.Extra.Length < size) lines.Extra = new byte[Math.Max(size, 256)];
        xff.CopyTo(lines.Extra);
        originalTo.CopyTo(lines.Extra.AsSpan(xff.Length));
        int n = xff.Length + originalTo.Length;
        if (uniqueId && Http1HeadWriter.AppendHeader(lines.Extra, n, fe.UniqueIdHeader, Samples.UniqueId) is int end and >= 0) n = end;
        return lines.Extra.AsSpan(0, n);
    }

    /// <summary>
    /// `option originalto` (4.2): the address the client connected to, unless it is in the `except` network; HAProxy
    /// 2.6 adds it for an IPv4 destination only. The backend's setting takes precedence, as forwardfor's.
    /// </summary>
    private ReadOnlySpan<byte> OriginalToLine(FrontendRuntime fe, BackendRuntime be)
    {
        var http = be.Http.OriginalToHeader is not null ? be.Http : fe.Http;
        if (http.OriginalToHeader is not { } header || Samples.Local?.Address is not { } ip) return default;
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        if (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return default;
        if (http.OriginalToExcept is { } except && except.Contains(ip)) return default;
        var lines = _addedLines ??= new AddedLines();
        return AddressLine(header, ip, ref lines.OriginalTo, ref lines.OriginalToHeader, ref lines.OriginalToAddress);
    }

    /// <summary>
    /// "NAME: ADDR\r\n", kept in <paramref name="line"/> for the connection (built again only for another header name,
    /// or another address: `http-request set-src`).
    /// </summary>
    private static ReadOnlySpan<byte> AddressLine(byte[] header, System.Net.IPAddress ip, ref byte[] line, ref byte[]? lineHeader,
        ref System.Net.IPAddress? lineAddress)
    {
        if (!ReferenceEquals(header, lineHeader) || !ip.Equals(lineAddress))
        {
            Span<byte> text = stackalloc byte[64];
            if (!ip.TryFormat(text, out int written)) return default;
            var built = new byte[header.Length + written + 4];
            int n = Http1HeadWriter.AppendHeader(built, 0, header, text[..written]);
            if (n < 0) return default;
            line = built;
            lineHeader = header;
            lineAddress = ip;
        }
        return line;
    }

    /// <summary>The forwardfor line for this request, unless the option is off or the client is in its `except` network.</summary>
    private ReadOnlySpan<byte> ForwardedForLine(FrontendRuntime fe, BackendRuntime be)
    {
        // 4.2 "option forwardfor": the backend's setting (its header name) takes precedence over the frontend's.
        var http = be.Http.ForwardForHeader is not null ? be.Http : fe.Http;
        if (http.ForwardForHeader is not { } header || Samples.Client?.Address is not { } ip) return default;
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        if (http.ForwardForExcept is { } except && except.Contains(ip)) return default;
        if (http.ForwardForIfNone && RequestHead.TryGetHeader(header, out _)) return default;   // 4.2 "if-none"
        var lines = _addedLines ??= new AddedLines();
        return AddressLine(header, ip, ref lines.ForwardedFor, ref lines.ForwardedForHeader, ref lines.ForwardedForAddress);
    }
}
