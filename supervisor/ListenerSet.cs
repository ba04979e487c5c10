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

    /// <summary>
    /// Binds every address of every frontend for <paramref name="slots"/> slots; returns the errors (empty on
    /// success). With <paramref name="previous"/> (a reload), sockets of addresses present in both configs
    /// are reused, not re-bound, so their accept queues carry over; <paramref name="previous"/> is left
    /// untouched until the caller commits (<see cref="HandOverTo"/>) or rolls back (<see cref="DisposeExcept"/>).
    /// </summary>
    /// <param name="shareWithOthers">`haproxy -sf|-st` naming another process: an address it listens on is shared
    /// (SO_REUSEPORT) and a UNIX socket file it answers on replaced, as HAProxy's new process does, instead of refused.</param>
    public static (ListenerSet Set, List<string> Errors) Bind(ProxyConfig config, int slots, ListenerSet? previous = null, bool shareWithOthers = false)
    {
        var set = new ListenerSet();
        var errors = new List<string>();
        var fresh = new List<Socket>(); // bound here: closed again if anything fails
        foreach (var frontend in config.Frontends)
        {
            foreach (var bind in frontend.Binds)
            {
                var sockets = new Socket[slots];
                var reused = previous?.Find(bind.Key);
                string? error = null;
                for (int slot = 0; slot < slots && error is null; slot++)
                {
                    if (reused is not null && slot < reused.PerSlot.Length)
                    {
                        sockets[slot] = reused.PerSlot[slot];
                        continue;
                    }
                    if (bind.UnixPath is { } path)
                    {
                        // A UNIX listener has no SO_REUSEPORT group: one socket that all slots share, like fd@.
                        if (slot == 0) error = TryBindUnix(bind, path, shareWithOthers, out sockets[0]!);
                        else sockets[slot] = sockets[0];
                        if (slot == 0 && error is null) fresh.Add(sockets[0]);
                        continue;
                    }
                    if (bind.InheritedFd is { } fd)
                    {
                        // `fd@N`: one inherited socket that all slots share; it cannot be multiplied.
                        sockets[slot] = slot == 0 ? AdoptInherited(fd) : sockets[0];
                        if (slot == 0) fresh.Add(sockets[0]);
                        continue;
                    }
                    if (slot == 0 && reused is null && !shareWithOthers) error = ProbeFree(bind.EndPoint!);
                    if (error is null) error = TryBindOne(bind.EndPoint!, bind.Backlog ?? DefaultBacklog, out sockets[slot]!);
                    if (error is null) fresh.Add(sockets[slot]);
                }
                if (error is not null)
                {
                    errors.Add($"{bind.Location}: cannot bind frontend '{frontend.Name}' to {bind.Key}: {error}");
                    continue;
                }
                set._listeners.Add(new Listener(frontend.Name, bind, sockets));
            }
        }
        if (errors.Count > 0)
        {
            foreach (var s in fresh) s.Dispose();
            set._listeners.Clear();
            return (set, errors);
        }
        return (set, errors);
    }

    private Listener? Find(string key)
    {
        foreach (var l in _listeners)
            if (l.Bind.Key == key) return l;
        return null;
    }

    /// <summary>Forgets the sockets now owned by another set, so disposing this one leaves them open.</summary>
    private void ReleaseSockets(HashSet<Socket> kept)
    {
        for (int i = 0; i < _listeners.Count; i++)
        {
            var l = _listeners[i];
            var left = l.PerSlot.Where(s => !kept.Contains(s)).ToArray();
            _listeners[i] = l with { PerSlot = left };
        }
        _listeners.RemoveAll(l => l.PerSlot.Length == 0);
    }

    /// <summary>
    /// After a reload succeeded: forgets the sockets <paramref name="next"/> now uses, keeping only those the
    /// new config dropped, which the caller closes once the old workers are gone.
    /// </summary>
    public void HandOverTo(ListenerSet next) => ReleaseSockets(next.AllSockets());

    /// <summary>After a reload failed: closes the sockets bound for it, leaving those it reused from <paramref name="previous"/>.</summary>
    public void DisposeExcept(ListenerSet previous)
    {
        var keep = previous.AllSockets();
        foreach (var s in AllSockets()) if (!keep.Contains(s)) s.Dispose();
        _listeners.Clear();
    }

    private HashSet<Socket> AllSockets()
    {
        var all = new HashSet<Socket>();
        foreach (var l in _listeners) foreach (var s in l.PerSlot) all.Add(s);
        return all;
    }

    /// <summary>Bind keys of this set, for reporting what a reload changed.</summary>
    public IEnumerable<string> Keys => _listeners.Select(l => l.Bind.Key);

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

    /// <summary>
    /// SO_REUSEPORT lets any process of the same user bind a port already in use, so a second instance
    /// would silently share the traffic. A plain bind (SO_REUSEADDR only, which tolerates TIME_WAIT but
    /// not a listener) first proves the address is really free.
    /// </summary>
    private static string? ProbeFree(IPEndPoint endPoint)
    {
        using var probe = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Raw SO_REUSEADDR: .NET's ReuseAddress option sets SO_REUSEPORT too on Linux, which defeats the probe.
            Posix.SetSocketOption(probe, Posix.SolSocket, Posix.SoReuseAddr, 1);
            probe.Bind(endPoint);
            return null;
        }
        catch (SocketException e)
        {
            return Describe(e);
        }
    }

    private static string Describe(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "Address already in use",
        SocketError.AccessDenied => "Permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
        SocketError.AddressNotAvailable => "Cannot assign requested address",
        _ => e.Message,
    };

    /// <summary>listen(2)'s queue without `backlog` (capped by net.core.somaxconn). HAProxy's is the frontend's maxconn.</summary>
    private const int DefaultBacklog = 4096;

    private static string? TryBindOne(IPEndPoint endPoint, int backlog, out Socket? socket)
    {
        socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            int rc = Posix.SetSocketOption(socket, Posix.SolSocket, Posix.SoReusePort, 1);
            if (rc != 0) return $"setsockopt(SO_REUSEPORT) failed (errno {rc})";
            socket.Bind(endPoint);
            socket.Listen(backlog);
            return null;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            socket = null;
            return Describe(e);
        }
    }

    /// <summary>
    /// Binds `unix@PATH` / `abns@NAME` and applies the bind's `mode`/`uid`/`gid`/`user`/`group` to the file. A file
    /// left by a stopped process is replaced (HAProxy renames its new socket over it); one that a live process still
    /// answers on is "Address already in use", as a TCP port is, so a second instance never steals the traffic.
    /// </summary>
    private static string? TryBindUnix(BindAddress bind, string path, bool replaceLive, out Socket? socket)
    {
        socket = null;
        bool isFile = !UnixAddress.IsAbstract(path);
        if (isFile && File.Exists(path))
        {
            if (!replaceLive && UnixSocketFiles.Answers(path)) return "Address already in use";
            try { File.Delete(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return e.Message; }
        }
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Bind(UnixAddress.EndPoint(path));
            if (isFile && bind.UnixFile is { } file
                && UnixSocketFiles.SetModeAndOwner(path, file.Mode, file.Uid, file.User, file.Gid, file.Group) is { } fileError)
                throw new IOException(fileError);
            s.Listen(bind.Backlog ?? DefaultBacklog);
            socket = s;
            return null;
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            s.Dispose();
            return e is SocketException se ? Describe(se) : e.Message;
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
