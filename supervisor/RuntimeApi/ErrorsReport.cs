using System.Globalization;
using System.Text;

namespace Proxy.Supervisor.RuntimeApi;

/// <summary>
/// `show errors [&lt;iid&gt;|&lt;proxy&gt;] [request|response]` (doc/management.txt 9.3), printed as HAProxy 2.6's
/// cli_io_handler_show_errors does from the events the workers captured (ProxyEngine.DescribeErrors lines): per proxy
/// the newest invalid request (frontends) and response (backends) of all workers.
/// </summary>
public static class ErrorsReport
{
    /// <summary>One captured event, as a worker described it.</summary>
    public sealed record Event(bool Response, string Proxy, string? Other, string? Server, long UnixMs, string Address, int Port,
        int EventId, int Position, byte[] Bytes);

    /// <summary>
    /// The answer. <paramref name="workerLines"/>: every worker's lines; <paramref name="ids"/>: `show stat`'s iid and sid
    /// per "pxname/svname"; <paramref name="iid"/>: the proxy filter (-1: all); <paramref name="only"/>: "request",
    /// "response" or null; <paramref name="bufSize"/>: tune.bufsize (the "free" and "wraps at" figures).
    /// </summary>
    public static string Format(IEnumerable<string> workerLines, IReadOnlyDictionary<string, (int Iid, int Sid)> ids, int iid,
        string? only, int bufSize, DateTime now)
    {
        long total = 0;
        var newest = new Dictionary<(bool, string), Event>();
        foreach (var line in workerLines)
        {
            if (line.StartsWith("count ", StringComparison.Ordinal))
            {
                if (long.TryParse(line.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out long n)) total += n;
            }
            else if (Parse(line) is { } e && (!newest.TryGetValue((e.Response, e.Proxy), out var seen) || seen.UnixMs < e.UnixMs))
                newest[(e.Response, e.Proxy)] = e;
        }
        int IidOf(string proxy, bool backend) => ids.TryGetValue(proxy + (backend ? "/BACKEND" : "/FRONTEND"), out var id) ? id.Iid : -1;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Total events captured on [{Date(now)}] : {total}\n");
        var events = new List<Event>(newest.Values);
        events.Sort((a, b) => a.Response != b.Response ? a.Response.CompareTo(b.Response) : IidOf(a.Proxy, a.Response).CompareTo(IidOf(b.Proxy, b.Response)));
        foreach (var e in events)
        {
            if (only == "request" && e.Response || only == "response" && !e.Response) continue;
            int pxIid = IidOf(e.Proxy, e.Response);
            int otherIid = e.Other is null ? -1 : IidOf(e.Other, !e.Response);
            // HAProxy shows an event when the filter names its proxy or the other side (es->oe).
            if (iid >= 0 && pxIid != iid && otherIid != iid) continue;
            int sid = e.Server is not null && e.Response && ids.TryGetValue($"{e.Proxy}/{e.Server}", out var s) ? s.Sid : -1;
            sb.Append(CultureInfo.InvariantCulture, $" \n[{Date(DateTimeOffset.FromUnixTimeMilliseconds(e.UnixMs).LocalDateTime)}]");
            if (e.Response)
                sb.Append(CultureInfo.InvariantCulture, $" backend {e.Proxy} (#{pxIid}): invalid response\n  frontend {e.Other ?? "<NONE>"} (#{otherIid})");
            else
                sb.Append(CultureInfo.InvariantCulture, $" frontend {e.Proxy} (#{pxIid}): invalid request\n  backend {e.Other ?? "<NONE>"} (#{otherIid})");
            sb.Append(CultureInfo.InvariantCulture, $", server {e.Server ?? "<NONE>"} (#{sid}), event #{e.EventId}, src {e.Address}:{e.Port}\n");
            sb.Append(CultureInfo.InvariantCulture, $"  buffer starts at 0 (including 0 out), {bufSize - e.Bytes.Length} free,\n");
            sb.Append(CultureInfo.InvariantCulture, $"  len {e.Bytes.Length}, wraps at {bufSize}, error at position {e.Position}\n");
            sb.Append("  \n");
            AppendDump(sb, e.Bytes);
        }
        return sb.ToString();
    }

    /// <summary>A worker's `request|response PROXY OTHER SERVER UNIXMS ADDRESS PORT EVENT POSITION BASE64`, or null.</summary>
    public static Event? Parse(string line)
    {
        var f = line.Split(' ');
        if (f.Length != 10 || f[0] is not ("request" or "response")) return null;
        var inv = CultureInfo.InvariantCulture;
        if (!long.TryParse(f[4], NumberStyles.None, inv, out long ms) || !int.TryParse(f[6], NumberStyles.None, inv, out int port)
            || !int.TryParse(f[7], NumberStyles.None, inv, out int ev) || !int.TryParse(f[8], NumberStyles.None, inv, out int pos))
            return null;
        byte[] bytes;
        try { bytes = Convert.FromBase64String(f[9]); }
        catch (FormatException) { return null; }
        return new Event(f[0] == "response", f[1], f[2] == "-" ? null : f[2], f[3] == "-" ? null : f[3], ms, f[5], port, ev, pos, bytes);
    }

    /// <summary>
    /// HAProxy's dump_text_line loop (src/tools.c): lines of at most 80 characters, each `  OFFSET ` (5 digits, then ' '
    /// at the start of a line or '+' for a continuation); printable ASCII as is, \t \n \r \e \\ escaped, other bytes as
    /// \xNN; a line ends after each LF.
    /// </summary>
    public static void AppendDump(StringBuilder sb, ReadOnlySpan<byte> buf)
    {
        int ptr = 0, bol = 0;
        while (ptr < buf.Length)
        {
            int start = sb.Length, end = start + 80;
            sb.Append(CultureInfo.InvariantCulture, $"  {ptr:D5}{(ptr == bol ? ' ' : '+')} ");
            while (ptr < buf.Length)
            {
                byte c = buf[ptr];
                if (c is >= 0x20 and < 0x7f && c != '\\')
                {
                    if (sb.Length > end - 2) break;
                    sb.Append((char)c);
                }
                else if (c is (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x1b or (byte)'\\')
                {
                    if (sb.Length > end - 3) break;
                    sb.Append('\\').Append(c switch { (byte)'\t' => 't', (byte)'\n' => 'n', (byte)'\r' => 'r', 0x1b => 'e', _ => '\\' });
                }
                else
                {
                    if (sb.Length > end - 5) break;
                    sb.Append(CultureInfo.InvariantCulture, $"\\x{c:X2}");
                }
                if (buf[ptr++] == '\n')
                {
                    bol = ptr;
                    break;
                }
            }
            sb.Append('\n');
        }
    }

    private static string Date(DateTime t) => t.ToString("dd/MMM/yyyy:HH:mm:ss.fff", CultureInfo.InvariantCulture);
}
