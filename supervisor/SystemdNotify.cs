using System.Net.Sockets;
using System.Text;

namespace Proxy.Supervisor;

/// <summary>
/// sd_notify(3) without libsystemd: one datagram to the socket named by $NOTIFY_SOCKET (a path, or `@name` for an
/// abstract socket). HAProxy's `-Ws` tells systemd READY=1 this way, so a `Type=notify` unit works here too.
/// </summary>
internal static class SystemdNotify
{
    /// <summary>Sends <paramref name="state"/>; false when there is no $NOTIFY_SOCKET or the send failed.</summary>
    public static bool Send(string state)
    {
        var path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path)) return false;
        if (path[0] == '@') path = "\0" + path[1..];
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;                      // systemd gone or not listening: nothing to tell
        }
    }
}
