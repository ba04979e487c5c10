using System.Net;
using System.Net.Sockets;
using Proxy.Shared.Config;

namespace Proxy.Worker;

/// <summary>
/// A listening socket handed to the worker for one `bind` address of a frontend. The supervisor keeps its own
/// descriptor of the same socket: the engine only ever disposes this Socket object (its duplicate fd).
/// </summary>
public sealed record BoundListener(FrontendConfig Frontend, BindAddress Bind, Socket Socket)
{
    /// <summary>`bind ... ssl`: certificates and options, built once from the shipped bytes; null on a plain listener.</summary>
    internal Tls.TlsListenerContext? Tls { get; } = Bind.Tls is { } tls ? new Tls.TlsListenerContext(tls) : null;

    /// <summary>
    /// The local address of every connection accepted here when the listener is bound to one address (not a wildcard):
    /// a session then reads it here instead of asking the kernel (getsockname per connection, and an endpoint object
    /// per session: strace and perf/README.md). Null for 0.0.0.0 / ::, where each connection's own address tells.
    /// </summary>
    internal IPEndPoint? FixedLocalEndPoint { get; } = SpecificEndPoint(Socket);

    private static IPEndPoint? SpecificEndPoint(Socket socket)
    {
        try
        {
            return socket.LocalEndPoint is IPEndPoint ep && !ep.Address.Equals(IPAddress.Any) && !ep.Address.Equals(IPAddress.IPv6Any) ? ep : null;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }
}
