using System.Net.Sockets;
using Proxy.Shared.Interop;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// `silent-drop` (doc/configuration.txt 4.2 "http-request silent-drop", "tcp-request connection silent-drop"): the
/// client's connection ends without a FIN and without a response, so the client keeps waiting on a dead connection
/// while the proxy has freed it. As HAProxy does: TCP_REPAIR first (Linux 3.5+, needs CAP_NET_ADMIN), with which the
/// close sends nothing at all; else the hop limit set to 1 and SO_LINGER 0, so the close sends a reset that dies at
/// the first router (on the same host, or on loopback, the client does see that reset).
/// </summary>
internal static class SilentDrop
{
    private const int SolTcp = 6, TcpRepair = 19;            // <netinet/tcp.h>
    private const int SolIp = 0, IpTtl = 2;                  // <netinet/in.h>
    private const int SolIpv6 = 41, Ipv6UnicastHops = 16;

    /// <summary>Closes <paramref name="socket"/> silently; returns true when TCP_REPAIR held (nothing was sent).</summary>
    public static bool Close(Socket socket)
    {
        bool repaired = Posix.SetSocketOption(socket, SolTcp, TcpRepair, 1) == 0;
        if (!repaired)
        {
            // Best effort (EPERM without CAP_NET_ADMIN): a reset instead of a FIN, limited to one hop.
            if (socket.AddressFamily == AddressFamily.InterNetworkV6) Posix.SetSocketOption(socket, SolIpv6, Ipv6UnicastHops, 1);
            else Posix.SetSocketOption(socket, SolIp, IpTtl, 1);
            socket.LingerState = new LingerOption(true, 0);
        }
        socket.Dispose();
        return repaired;
    }
}
