using System.Net.Sockets;
using System.Text;
using NLog;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Supervisor.RuntimeApi;

namespace Proxy.Supervisor;

/// <summary>
/// The stats sockets (`stats socket ADDRESS [level L] [mode M] [uid U] [gid G] ...`, several lines): HAProxy's runtime
/// API. A connection sends a line (commands separated by `;`) and gets the answers, then is closed, unless `prompt`
/// makes it interactive. On a Unix socket only root, the supervisor's own user and the socket's `uid`/`gid` may talk
/// (SO_PEERCRED, beside the file mode); a TCP socket is open to whoever reaches it, at its level, as in HAProxy.
/// `stats maxconn` connections are served at once over all sockets; `stats timeout` closes an idle one.
/// </summary>
public sealed class ControlServer : IDisposable
{
    private static readonly Logger Log = LogManager.GetLogger("supervisor");
    private readonly List<(Socket Socket, StatsSocketConfig Config)> _listeners = [];
    private readonly ControlCommands _commands;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sessions;
    private readonly TimeSpan _timeout;

    /// <summary>The longest line read (HAProxy's tune.bufsize bounds a command line the same way).</summary>
    private const int MaxLine = 16384;

    private ControlServer(ControlCommands commands, int maxConn, TimeSpan timeout)
    {
        _commands = commands;
        _sessions = new SemaphoreSlim(maxConn, maxConn);
        _timeout = timeout;
    }

    /// <summary>
    /// Opens every `stats socket` of <paramref name="config"/>, plus the control socket proxyctl uses (the first Unix
    /// one, else a path derived from the config file: owner-only, level admin). A stale file from a dead instance is
    /// replaced; a live instance is an error. Throws on the first socket that cannot be opened, closing the others.
    /// </summary>
    /// <param name="replaceLiveSockets">`haproxy -sf|-st` naming another process: a socket file it still answers on is
    /// replaced (HAProxy renames its new one over it) rather than refused as another instance's.</param>
    public static ControlServer Open(ProxyConfig config, ControlCommands commands, bool replaceLiveSockets = false)
    {
        var global = config.Global;
        var server = new ControlServer(commands, global.StatsMaxConn, global.StatsTimeout);
        var sockets = new List<StatsSocketConfig>(global.StatsSockets);
        if (global.StatsSocket is null)
            sockets.Insert(0, new StatsSocketConfig(InstancePaths.ControlSocket(config), Convert.ToInt32("600", 8), "admin"));
        try
        {
            foreach (var s in sockets) server._listeners.Add((Bind(s, replaceLiveSockets), s));
        }
        catch
        {
            server.Dispose();
            throw;
        }
        foreach (var (socket, s) in server._listeners) _ = server.AcceptLoopAsync(socket, s);
        return server;
    }

    private static Socket Bind(StatsSocketConfig config, bool replaceLive)
    {
        if (config.TcpEndPoint is { } ep)
        {
            var tcp = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                tcp.Bind(ep);
                tcp.Listen(64);
                return tcp;
            }
            catch (SocketException e)
            {
                tcp.Dispose();
                throw new IOException($"cannot bind stats socket {config.Path}: {e.Message}", e);
            }
        }
        if (config.InheritedFd is { } fd)
        {
            // `fd@N`: a listening socket the process that started the supervisor left open (systemd socket activation).
            var inherited = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            if (!inherited.IsBound) throw new IOException($"stats socket {config.Path}: descriptor {fd} is not a bound socket");
            inherited.Listen(64);
            return inherited;
        }
        string path = config.Path;
        if (File.Exists(path))
        {
            if (!replaceLive && UnixSocketFiles.Answers(path)) throw new IOException($"another instance is already running on control socket {path}");
            File.Delete(path);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            if (UnixSocketFiles.SetModeAndOwner(path, config.Mode, config.Uid, config.User, config.Gid, config.Group) is { } error)
                throw new IOException($"stats socket {path}: {error}");
            socket.Listen(64);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }


    private async Task AcceptLoopAsync(Socket listener, StatsSocketConfig config)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = ServeAsync(client, config);
        }
    }

    /// <summary>Who may talk on a Unix socket: root, the supervisor's user, or the socket's configured uid/gid.</summary>
    private static (bool Allowed, bool Owner) Check(Socket client, StatsSocketConfig config)
    {
        if (client.AddressFamily != AddressFamily.Unix) return (true, false);
        var peer = Posix.PeerCredentials(client);
        if (peer is null) return (false, false);
        uint me = Posix.GetEffectiveUid();
        bool owner = peer.Value.Uid == 0 || peer.Value.Uid == me;
        Privileges.Resolve(config.User, config.Group, out uint? uid, out uint? gid);
        uid = config.Uid ?? uid;
        gid = config.Gid ?? (config.Group is null ? null : gid);
        bool allowed = owner || (uid is { } u && peer.Value.Uid == u) || (gid is { } g && peer.Value.Gid == g);
        return (allowed, owner);
    }

    private async Task ServeAsync(Socket client, StatsSocketConfig config)
    {
        using (client)
        {
            bool counted = false;
            try
            {
                var (allowed, owner) = Check(client, config);
                if (!allowed)
                {
                    Log.Warn($"stats socket {config.Path}: refused uid {Posix.PeerCredentials(client)?.Uid}");
                    await SendAsync(client, "Permission denied\n", CancellationToken.None);
                    return;
                }
                // `stats maxconn`: more connections wait here, as HAProxy leaves them in the listener's backlog.
                await _sessions.WaitAsync(_stop.Token);
                counted = true;
                var session = new CliSession(CliSession.ParseLevel(config.Level), _timeout, owner);
                await RunSessionAsync(client, session);
                client.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
            {
                // The client went away or stayed idle past the timeout; nothing to answer.
            }
            finally
            {
                if (counted) _sessions.Release();
            }
        }
    }

    /// <summary>Reads lines until the first one is answered (non-interactive), or `quit`, end of input or the timeout.</summary>
    private async Task RunSessionAsync(Socket client, CliSession session)
    {
        var pending = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            string? line = await ReadLineAsync(client, pending, buffer, session.Timeout);
            if (line is null) return;
            string answer = await _commands.ExecuteLineAsync(line, session);
            if (session.Interactive && !session.Quit) answer += "> ";
            await SendAsync(client, answer, _stop.Token);
            if (!session.Interactive || session.Quit) return;
        }
    }

    /// <summary>One line, without its newline; null at end of input. Throws OperationCanceledException past the timeout.</summary>
    private async Task<string?> ReadLineAsync(Socket client, List<byte> pending, byte[] buffer, TimeSpan timeout)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        idle.CancelAfter(timeout);
        while (true)
        {
            int nl = pending.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                string line = Encoding.UTF8.GetString(pending.GetRange(0, nl).ToArray());
                pending.RemoveRange(0, nl + 1);
                return line;
            }
            if (pending.Count >= MaxLine) throw new IOException("command line too long");
            int n = await client.ReceiveAsync(buffer, SocketFlags.None, idle.Token);
            if (n == 0)
            {
                // A last line without a newline still counts (`echo -n "show info" | socat ...`).
                if (pending.Count == 0) return null;
                string rest = Encoding.UTF8.GetString(pending.ToArray());
                pending.Clear();
                return rest;
            }
            for (int i = 0; i < n; i++) pending.Add(buffer[i]);
        }
    }

    private static async Task SendAsync(Socket client, string text, CancellationToken ct)
    {
        byte[] data = Encoding.UTF8.GetBytes(text);
        int sent = 0;
        while (sent < data.Length) sent += await client.SendAsync(data.AsMemory(sent), SocketFlags.None, ct);
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var (socket, config) in _listeners)
        {
            socket.Dispose();
            if (config.IsUnix)
                try { File.Delete(config.Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
