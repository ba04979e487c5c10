using System.Net.Sockets;
using System.Text;
using NLog;
using Proxy.Shared.Config;
using Proxy.Shared.Interop;

namespace Proxy.Supervisor;

/// <summary>
/// The control socket (`stats socket PATH [mode M] [level L]`): HAProxy's non-interactive runtime API,
/// one command per connection, answered then closed. Only root and the supervisor's own user may talk
/// to it (the file mode defaults to 0600 and the peer's uid is checked with SO_PEERCRED).
/// </summary>
public sealed class ControlServer : IDisposable
{
    private static readonly Logger Log = LogManager.GetLogger("supervisor");
    private readonly Socket _socket;
    private readonly string _path;
    private readonly ControlCommands _commands;
    private readonly CancellationTokenSource _stop = new();

    private ControlServer(Socket socket, string path, ControlCommands commands)
    {
        _socket = socket;
        _path = path;
        _commands = commands;
    }

    /// <summary>Binds the socket; a stale file from a dead instance is replaced, a live instance is an error.</summary>
    public static ControlServer Open(string path, int mode, ControlCommands commands)
    {
        if (File.Exists(path))
        {
            if (IsAlive(path)) throw new IOException($"another instance is already running on control socket {path}");
            File.Delete(path);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, (UnixFileMode)mode);
        socket.Listen(64);
        var server = new ControlServer(socket, path, commands);
        _ = server.AcceptLoopAsync();
        return server;
    }

    private static bool IsAlive(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                var peer = Posix.PeerCredentials(client);
                uint me = Posix.GetEffectiveUid();
                if (peer is null || (peer.Value.Uid != 0 && peer.Value.Uid != me))
                {
                    Log.Warn($"control socket: refused uid {peer?.Uid}");
                    await SendAsync(client, "Permission denied\n");
                    return;
                }
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                string command = await ReadCommandAsync(client, timeout.Token);
                string reply = await _commands.ExecuteAsync(command.Trim());
                await SendAsync(client, reply);
                client.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away; nothing to answer.
            }
        }
    }

    private static async Task<string> ReadCommandAsync(Socket client, CancellationToken ct)
    {
        var buffer = new byte[4096];
        int used = 0;
        while (used < buffer.Length)
        {
            int n = await client.ReceiveAsync(buffer.AsMemory(used), SocketFlags.None, ct);
            if (n == 0) break;
            used += n;
            int nl = Array.IndexOf(buffer, (byte)'\n', 0, used);
            if (nl >= 0) return Encoding.UTF8.GetString(buffer, 0, nl);
        }
        return Encoding.UTF8.GetString(buffer, 0, used);
    }

    private static async Task SendAsync(Socket client, string text)
    {
        byte[] data = Encoding.UTF8.GetBytes(text);
        int sent = 0;
        while (sent < data.Length) sent += await client.SendAsync(data.AsMemory(sent), SocketFlags.None);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        try { File.Delete(_path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
