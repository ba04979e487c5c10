using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NLog;
using NLog.Targets;

namespace Proxy.Shared.Logging;

/// <summary>
/// Sends RFC 3164 syslog datagrams to a `log` target: a Unix datagram socket path (e.g. /dev/log)
/// or an IPv4/IPv6 `ADDRESS[:PORT]` over UDP (port 514 by default), as HAProxy's `log` keyword does.
/// </summary>
public sealed class SyslogTarget : TargetWithLayout
{
    private static readonly string[] Facilities =
        ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp",
         "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"];

    private readonly Socket _socket;
    private readonly EndPoint _endPoint;
    private readonly int _facility;
    private readonly string _tag;

    public SyslogTarget(string target, string facility)
    {
        _tag = "proxy";
        Layout = "[${logger}] ${message}";
        int f = Array.IndexOf(Facilities, facility);
        _facility = f < 0 ? 16 : f;
        if (target.StartsWith('/'))
        {
            _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            _endPoint = new UnixDomainSocketEndPoint(target);
        }
        else
        {
            _endPoint = IPEndPoint.TryParse(target, out var ep) ? (ep.Port == 0 ? new IPEndPoint(ep.Address, 514) : ep)
                : new IPEndPoint(IPAddress.Loopback, 514);
            _socket = new Socket(((IPEndPoint)_endPoint).AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        }
    }

    protected override void Write(LogEventInfo logEvent)
    {
        int severity = logEvent.Level.Ordinal switch { >= 5 => 2, 4 => 3, 3 => 4, 2 => 6, _ => 7 };
        // RFC 3164 4.1.2: the day of the month is padded with a space, not a zero ("Nov  5").
        var t = logEvent.TimeStamp;
        string line = $"<{_facility * 8 + severity}>{t.ToString("MMM", CultureInfo.InvariantCulture)} {t.Day,2} {t.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {_tag}[{Environment.ProcessId}]: {RenderLogEvent(Layout, logEvent)}";
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(line), _endPoint);
        }
        catch (SocketException)
        {
            // A log sink that is down must never stop the proxy (HAProxy drops such messages too).
        }
    }

    protected override void CloseTarget()
    {
        _socket.Dispose();
        base.CloseTarget();
    }
}
