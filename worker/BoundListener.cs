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
}
