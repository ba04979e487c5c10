using System.Net;
using System.Net.Sockets;

namespace Proxy.Tests.Support;

/// <summary>Free TCP ports on 127.0.0.1, found by letting the kernel pick one.</summary>
public static class Ports
{
    public static int Free()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>True when nothing listens on the port any more and it can be bound again.</summary>
    public static bool CanBind(int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            s.Bind(new IPEndPoint(IPAddress.Loopback, port));
            s.Listen();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
