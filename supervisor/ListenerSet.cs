using System.Net;
using System.Net.Sockets;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;

namespace Proxy.Supervisor;

/// <summary>
/// Every listening socket of the instance, owned by the supervisor. For each `bind` address there is one
/// SO_REUSEPORT socket per worker slot; slot k always receives socket k. The supervisor keeps its copy, so
/// a worker that exits (crash, reload) never closes an accept queue: connections wait there for the next
/// worker of that slot.
/// </summary>
public sealed class ListenerSet : IDisposable
{
    private readonly List<Listener> _listeners = [];

    /// <summary>One bind address and its per-slot sockets.</summary>
    public sealed record Listener(string Frontend, BindAddress Bind, Socket[] PerSlot);

    public IReadOnlyList<Listener> Listeners => _listeners;

    /// <summary>Binds every address of every frontend for <paramref name="slots"/> slots; returns the errors (empty on success).</summary>
    public static (ListenerSet Set, List<string> Errors) Bind(ProxyConfig config, int slots)
    {
        var set = new ListenerSet();
        var errors = new List<string>();
        foreach (var frontend in config.Frontends)
        {
            foreach (var bind in frontend.Binds)
            {
                var sockets = new Socket[slots];
                string? error = null;
                for (int slot = 0; slot < slots && error is null; slot++)
                {
                    if (bind.InheritedFd is { } fd)
                    {
                        // `fd@N`: one inherited socket that all slots share; it cannot be multiplied.
                        sockets[slot] = slot == 0 ? AdoptInherited(fd) : sockets[0];
                        continue;
                    }
                    error = TryBindOne(bind.EndPoint!, out sockets[slot]!);
                }
                if (error is not null)
                {
                    errors.Add($"{bind.Location}: cannot bind frontend '{frontend.Name}' to {bind.Key}: {error}");
                    foreach (var s in sockets) s?.Dispose();
                    continue;
                }
                set._listeners.Add(new Listener(frontend.Name, bind, sockets));
            }
        }
        if (errors.Count > 0)
        {
            set.Dispose();
            return (new ListenerSet(), errors);
        }
        return (set, errors);
    }

    /// <summary>The sockets slot <paramref name="slot"/> receives, in order, with the references that name them.</summary>
    public (int[] Fds, ListenerRef[] Refs) ForSlot(int slot)
    {
        var fds = new int[_listeners.Count];
        var refs = new ListenerRef[_listeners.Count];
        for (int i = 0; i < _listeners.Count; i++)
        {
            fds[i] = (int)_listeners[i].PerSlot[slot].Handle;
            refs[i] = new ListenerRef(_listeners[i].Frontend, _listeners[i].Bind.Key);
        }
        return (fds, refs);
    }

    private static string? TryBindOne(IPEndPoint endPoint, out Socket? socket)
    {
        socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            int rc = Posix.SetSocketOption(socket, Posix.SolSocket, Posix.SoReusePort, 1);
            if (rc != 0) return $"setsockopt(SO_REUSEPORT) failed (errno {rc})";
            socket.Bind(endPoint);
            socket.Listen(4096); // capped by net.core.somaxconn
            return null;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            socket = null;
            return e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "Address already in use",
                SocketError.AccessDenied => "Permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
                SocketError.AddressNotAvailable => "Cannot assign requested address",
                _ => e.Message,
            };
        }
    }

    private static Socket AdoptInherited(int fd)
    {
        Posix.SetCloseOnExec(fd);
        return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
    }

    public void Dispose()
    {
        foreach (var l in _listeners)
            foreach (var s in l.PerSlot.Distinct()) s.Dispose();
        _listeners.Clear();
    }
}
