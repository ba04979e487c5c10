using System.Net.Sockets;

namespace Proxy.Worker;

/// <summary>
/// TCP options set once on a listening socket, which Linux copies into each connection it accepts (an accepted socket
/// starts as a clone of its listener):
/// - TCP_QUICKACK off with `option tcp-smart-accept` (on by default in `mode http`), on otherwise, as HAProxy's
///   tcp_bind_listener sets it: the kernel then does not acknowledge the client's request on its own, and the answer
///   carries the ACK, one packet fewer per connection (perf/README.md, "fourteenth session");
/// - TCP_NODELAY, which every connection needs (a proxy must not add Nagle delays to what it relays): on the listener,
///   it spares each connection a setsockopt. The first connection is asked (getsockopt) whether it came with it; if
///   not, each one gets its own, as before.
/// The listener's open file is shared with the supervisor and the other workers, which set the same values; a reload
/// that changes the option sets the new value when its workers start accepting.
/// </summary>
internal struct ListenerTcpOptions
{
    private const int TcpQuickAck = 12;   // TCP_QUICKACK, linux/tcp.h

    private int _noDelayInherited;   // 0: not asked yet, 1: every connection comes with it, -1: set on each

    /// <summary>Sets both options on <paramref name="listener"/> (TCP, not UNIX); a refusal only costs what they save.</summary>
    public static ListenerTcpOptions Apply(Socket listener, bool smartAccept)
    {
        var options = default(ListenerTcpOptions);
        try
        {
            listener.SetRawSocketOption((int)SocketOptionLevel.Tcp, TcpQuickAck, BitConverter.GetBytes(smartAccept ? 0 : 1));
        }
        catch (SocketException)
        {
            // the kernel's own ACK timing, as without the option
        }
        try
        {
            listener.NoDelay = true;
        }
        catch (SocketException)
        {
            options._noDelayInherited = -1;
        }
        return options;
    }

    /// <summary>
    /// TCP_NODELAY on <paramref name="client"/> unless it came from the listener, and SO_KEEPALIVE with `option
    /// tcpka|clitcpka`; false if the connection is already dead (reset while queued).
    /// </summary>
    public bool Prepare(Socket client, bool keepAlive)
    {
        try
        {
            if (_noDelayInherited == 0) _noDelayInherited = client.NoDelay ? 1 : -1;
            if (_noDelayInherited < 0) client.NoDelay = true;
            if (keepAlive) client.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
