using Proxy.Shared.Config;

namespace Proxy.Worker.Logging;

/// <summary>
/// Writes the message part of a traffic log line in HAProxy's default formats (doc/configuration.txt):
/// <code>
/// option tcplog  (8.2.2): %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
/// option httplog (8.2.3): %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
/// </code>
/// Not tracked yet, printed with the value HAProxy prints when the feature is unused: the captured cookies
/// (%CC %CS: `-`), the cookie persistence flags (last two of %tsc: `--`), the queue positions (%sq/%bq: `0/0`,
/// nothing ever queues here) and the captured headers (%hr %hs: left out with their spaces when nothing is captured).
/// </summary>
internal static class TrafficLogFormatter
{
    private static ReadOnlySpan<byte> Months => "JanFebMarAprMayJunJulAugSepOctNovDec"u8;

    /// <summary>Writes the message for <paramref name="r"/> into <paramref name="dest"/>; returns its length (cut at the end of dest).</summary>
    public static int Format(TrafficLogRecord r, Span<byte> dest)
    {
        if (r.MessageLength >= 0 && r.ConnectionError is null)
        {
            // `log-format`: rendered by the session (its expressions read the request); copied as it is.
            int n = Math.Min(r.MessageLength, dest.Length);
            r.Message.AsSpan(0, n).CopyTo(dest);
            return n;
        }
        var w = new LogLineWriter(dest);
        bool http = r.Format == TrafficLogFormat.Http;
        // %ci:%cp — IPv6 addresses without brackets, as HAProxy prints them.
        if (r.ClientAddress is { } ip)
        {
            if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
            Span<byte> text = stackalloc byte[64];
            if (ip.TryFormat(text, out int n)) w.Append(text[..n]);
        }
        else
        {
            w.Append("-"u8);
        }
        w.Append(':');
        w.Append(r.ClientPort);
        w.Append(" ["u8);
        LocalDateCache.Current.AppendLogDate(ref w, r.DateUtcTicks);
        w.Append("] "u8);
        w.Append(r.Frontend);
        if (r.ConnectionError is { } error)
        {
            // session_prepare_log_prefix + ": %s": the listener's id, as HAProxy prints it for a `bind` without `name`.
            w.Append('/');
            w.Append(r.ListenerId);
            w.Append(": "u8);
            w.Append(error);
            return w.Length;
        }
        if (r.Tls) w.Append('~');
        w.Append(' ');
        w.Append(r.Backend ?? r.Frontend);
        w.Append('/');
        if (r.Server is { } server) w.Append(server);
        else w.Append("<NOSRV>"u8);
        w.Append(' ');
        if (http)
        {
            w.Append(r.TimeRequest);
            w.Append('/');
        }
        w.Append(r.TimeQueue);
        w.Append('/');
        w.Append(r.TimeConnect);
        w.Append('/');
        if (http)
        {
            w.Append(r.TimeResponse);
            w.Append('/');
        }
        w.Append(r.TimeTotal);
        w.Append(' ');
        if (http)
        {
            w.Append(r.Status);
            w.Append(' ');
        }
        w.Append(r.Bytes);
        w.Append(' ');
        if (http) w.Append("- - "u8);
        w.Append(r.Cause == '\0' ? '-' : r.Cause);
        w.Append(r.Phase == '\0' ? '-' : r.Phase);
        if (http) w.Append("--"u8);
        w.Append(' ');
        w.Append(r.ActConn);
        w.Append('/');
        w.Append(r.FeConn);
        w.Append('/');
        w.Append(r.BeConn);
        w.Append('/');
        w.Append(r.SrvConn);
        w.Append('/');
        if (r.Redispatched) w.Append('+');
        w.Append(r.Retries);
        w.Append(" 0/0"u8);
        if (http)
        {
            w.Append(" \""u8);
            if (r.RequestLineLength < 0) w.Append("<BADREQ>"u8);
            else AppendEscaped(ref w, r.RequestLine.AsSpan(0, Math.Min(r.RequestLineLength, r.RequestLine.Length)));
            w.Append('"');
        }
        return w.Length;
    }

    /// <summary>`dd/Mmm/yyyy:HH:mm:ss`, the part the log date and the CLF date share.</summary>
    internal static void AppendDayAndTime(ref LogLineWriter w, DateTime when)
    {
        w.AppendPadded(when.Day, 2);
        w.Append('/');
        w.Append(Months.Slice((when.Month - 1) * 3, 3));
        w.Append('/');
        w.AppendPadded(when.Year, 4);
        w.Append(':');
        w.AppendPadded(when.Hour, 2);
        w.Append(':');
        w.AppendPadded(when.Minute, 2);
        w.Append(':');
        w.AppendPadded(when.Second, 2);
    }

    /// <summary>`dd/Mmm/yyyy:HH:mm:ss +zzzz`, the date of `%T` and `%Tl` (the Common Log Format's).</summary>
    public static void AppendClfDate(ref LogLineWriter w, DateTimeOffset when)
    {
        AppendDayAndTime(ref w, when.DateTime);
        w.Append(' ');
        var offset = when.Offset;
        w.Append(offset < TimeSpan.Zero ? '-' : '+');
        offset = offset.Duration();
        w.AppendPadded(offset.Hours, 2);
        w.AppendPadded(offset.Minutes, 2);
    }

    /// <summary>`Mmm dd HH:mm:ss`, the RFC 3164 timestamp (day padded with a space).</summary>
    public static void AppendRfc3164Date(ref LogLineWriter w, DateTime local)
    {
        w.Append(Months.Slice((local.Month - 1) * 3, 3));
        w.Append(' ');
        if (local.Day < 10) w.Append(' ');
        w.Append(local.Day);
        w.Append(' ');
        w.AppendPadded(local.Hour, 2);
        w.Append(':');
        w.AppendPadded(local.Minute, 2);
        w.Append(':');
        w.AppendPadded(local.Second, 2);
    }

    /// <summary>`yyyy-MM-ddTHH:mm:ss.ffffff+hh:mm`, the ISO 8601 timestamp of the rfc5424, timed and iso formats.</summary>
    public static void AppendIsoDate(ref LogLineWriter w, DateTimeOffset local)
    {
        w.AppendPadded(local.Year, 4);
        w.Append('-');
        w.AppendPadded(local.Month, 2);
        w.Append('-');
        w.AppendPadded(local.Day, 2);
        w.Append('T');
        w.AppendPadded(local.Hour, 2);
        w.Append(':');
        w.AppendPadded(local.Minute, 2);
        w.Append(':');
        w.AppendPadded(local.Second, 2);
        w.Append('.');
        w.AppendPadded((int)(local.Ticks % TimeSpan.TicksPerSecond / 10), 6);
        var offset = local.Offset;
        w.Append(offset < TimeSpan.Zero ? '-' : '+');
        offset = offset.Duration();
        w.AppendPadded(offset.Hours, 2);
        w.Append(':');
        w.AppendPadded(offset.Minutes, 2);
    }

    /// <summary>
    /// The request line as HAProxy logs it (%{+Q}r): control characters, bytes above 126, '"' and '#' become `#XX`,
    /// so a line can neither break the quotes nor the log line.
    /// </summary>
    internal static void AppendEscaped(ref LogLineWriter w, ReadOnlySpan<byte> line)
    {
        foreach (byte b in line)
        {
            if (b < 32 || b >= 127 || b == '"' || b == '#') w.AppendEscaped(b);
            else w.Append(b);
        }
    }
}
