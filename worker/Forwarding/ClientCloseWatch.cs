using System.Net.Sockets;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// `option abortonclose` (doc/configuration.txt 4.2): "a session with an incoming channel closed will be aborted while
/// it is still possible, either pending in the queue for a connection slot, or during the connection establishment".
/// A session waiting for a server reads nothing from its client, so the engine's timer looks: one poll(2), no read.
/// </summary>
internal static class ClientCloseWatch
{
    /// <summary>
    /// True when the client sent FIN or reset with nothing left unread: the socket is readable with no byte
    /// available. Bytes still queued before a FIN hide it until they are read (the request's body, relayed later).
    /// </summary>
    public static bool HasClosed(Socket client)
    {
        try
        {
            return client.Poll(0, SelectMode.SelectRead) && client.Available == 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return true;   // reset (a pending error) or closed meanwhile
        }
    }

    /// <summary>The termination state's phase: 'Q' while waiting for a `maxconn` permit in the queue, else 'C' (connecting).</summary>
    public static char Phase(ServerConnector connector) => connector.Permit is null ? 'Q' : 'C';
}
