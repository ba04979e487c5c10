using System.Net.Sockets;

namespace Proxy.Worker;

/// <summary>
/// TCP options set once on a listening socket, which Linux copies into each connection it accepts (an accepted socket
/// starts as a clone of its listener):
/// - TCP_QUICKACK off with `option tcp-smart-accept` (on by default in `mode http`), on otherwise, as HAProxy's
///   tcp_bind_listener sets it: the kernel then does not acknowledge the client's request on its own, and the answer
///   carries the ACK, one packet fewer per connection (perf/README.md, "fourteenth session");
/// - TCP_NODELAY, which every connection needs (a proxy must not add Nagle delays to what it relays): on the listener,
///   it spares each connection a setsockopt. Connections are asked (getsockopt) whether they came with it until one
///   did: one whose handshake completed before the option was set (queued while the worker started) came without it.
///   After <see cref="MaxAsks"/> without, each connection gets its own, as before.
/// A worker's listening socket is shared with the supervisor and with the workers of other generations in its slot: a
/// reload sets the new configuration's values when its workers start accepting, and they stay after it (a reload
/// rolled back keeps them until the next one). Only the ACK timing depends on it.
/// </summary>
internal struct ListenerTcpOptions
{
    private const int TcpQuickAck = 12;   // TCP_QUICKACK, linux/tcp.h
    private const int MaxAsks = 64;

    private int _noDelayAsks;   // connections asked so far; -1: one came with TCP_NODELAY, the listener's is inherited

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
            options._noDelayAsks = MaxAsks;   // never inherited: set on each connection
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
            if (_noDelayAsks >= 0 && (_noDelayAsks == MaxAsks || !AskedInherited(client))) client.NoDelay = true;
            if (keepAlive) client.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>One more connection asked: true when it came with TCP_NODELAY (then no other is asked).</summary>
    private bool AskedInherited(Socket client)
    {
        _noDelayAsks++;
        if (!client.NoDelay) return false;
        _noDelayAsks = -1;
        return true;
    }
}
