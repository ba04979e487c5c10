using System.Net;
using System.Net.Sockets;
using Proxy.Shared.Config;
using Proxy.Worker;

namespace Proxy.Tests.Worker;

/// <summary>Builders for configs and engines, and small real-socket servers on 127.0.0.1 for the engine tests.</summary>
internal static class TcpTestKit
{
    public static readonly SourceLocation Here = new("test.cfg", 1);

    public static Timeouts Timeouts(double? connectMs = null, double? clientMs = null, double? serverMs = null, double? tunnelMs = null, double? checkMs = null)
        => new(Ms(connectMs), Ms(clientMs), Ms(serverMs), null, Ms(checkMs), null, null, Ms(tunnelMs));

    private static TimeSpan? Ms(double? ms) => ms is { } v ? TimeSpan.FromMilliseconds(v) : null;

    public static ServerConfig Server(string name, IPEndPoint ep, int weight = 1, bool backup = false, bool disabled = false,
        bool check = false, int interMs = 2000, int rise = 2, int fall = 3, int maxConn = 0)
        => new(name, ep.Address.ToString(), ep, weight, maxConn, check, TimeSpan.FromMilliseconds(interMs), rise, fall, backup, disabled, Here);

    public static BackendConfig Backend(IReadOnlyList<ServerConfig> servers, BalanceAlgorithm balance = BalanceAlgorithm.RoundRobin,
        Timeouts? timeouts = null, int retries = 3, bool redispatch = false)
        => new("be", ProxyMode.Tcp, balance, servers, timeouts ?? Timeouts(connectMs: 1000, serverMs: 10000), retries, redispatch, Here);

    public static FrontendConfig Frontend(IPEndPoint bind, Timeouts? timeouts = null, int maxConn = 0)
        => new("fe", ProxyMode.Tcp, [new BindAddress(bind, null, Here)], "be", maxConn, timeouts ?? Timeouts(clientMs: 10000), Here);

    public static ProxyConfig Config(FrontendConfig fe, BackendConfig be, int globalMaxConn = 4096)
        => new("test.cfg", GlobalSettings.Default with { MaxConn = globalMaxConn }, [fe], [be]);

    /// <summary>A listening socket on 127.0.0.1 with an ephemeral port, as the supervisor would bind it.</summary>
    public static Socket Listen()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        s.Listen(512);
        return s;
    }

    /// <summary>An endpoint where nothing listens (bound then closed; the kernel answers RST).</summary>
    public static IPEndPoint DeadEndPoint()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)s.LocalEndPoint!;
    }

    /// <summary>
    /// A listener whose accept queue is full (backlog 0, one connection queued, never accepted): further SYNs are
    /// dropped, so a connect to it hangs until the caller gives up. Dispose the returned sockets.
    /// </summary>
    public static async Task<(Socket Listener, Socket Filler, IPEndPoint EndPoint)> SaturatedListenerAsync()
    {
        var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        l.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        l.Listen(0);
        var ep = (IPEndPoint)l.LocalEndPoint!;
        var filler = await ConnectAsync(ep);
        return (l, filler, ep);
    }

    /// <summary>
    /// A second Socket object on a duplicate of <paramref name="socket"/>'s descriptor, close-on-exec as the worker
    /// sets it on a received descriptor: what the engine gets while the supervisor keeps the original.
    /// </summary>
    public static Socket Duplicate(Socket socket)
    {
        int fd = Tmds.Linux.LibC.fcntl((int)socket.Handle, Tmds.Linux.LibC.F_DUPFD_CLOEXEC, 0);
        if (fd == -1) throw new InvalidOperationException($"fcntl(F_DUPFD_CLOEXEC) failed: errno {Tmds.Linux.LibC.errno}");
        return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
    }

    public static async Task<Socket> ConnectAsync(IPEndPoint ep)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(ep);
        return s;
    }

    /// <summary>Reads until FIN (or a reset, counted as end); returns the bytes read.</summary>
    public static async Task<byte[]> ReadToEndAsync(Socket s, CancellationToken ct = default)
    {
        var ms = new MemoryStream();
        var buf = new byte[65536];
        while (true)
        {
            int n;
            try { n = await s.ReceiveAsync(buf, SocketFlags.None, ct); }
            catch (SocketException) { break; }
            if (n == 0) break;
            ms.Write(buf, 0, n);
        }
        return ms.ToArray();
    }

    public static async Task SendAllAsync(Socket s, ReadOnlyMemory<byte> data)
    {
        // Several writes, to exercise partial reads and back-pressure.
        const int chunk = 100_000;
        for (int i = 0; i < data.Length; i += chunk)
            await s.SendAsync(data.Slice(i, Math.Min(chunk, data.Length - i)), SocketFlags.None);
    }

    public static NLog.ILogger NullLog => NLog.LogManager.CreateNullLogger();
}

/// <summary>
/// A test server on 127.0.0.1: for each connection, runs <c>handler</c>; counts connections. Disposal closes
/// the listener and every connection.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<Socket, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _connections = [];
    private readonly Task _loop;
    private int _accepted;
    private int _disposed;

    public TestServer(Func<Socket, Task> handler, IPEndPoint? at = null)
    {
        _handler = handler;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(at ?? new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _loop = Task.Run(AcceptLoop);
    }

    public IPEndPoint EndPoint { get; }
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Echoes every byte back; on FIN, shuts down its sending side (half-close aware).</summary>
    public static TestServer Echo(int bufferSize = 65536) => new(async s =>
    {
        var buf = new byte[bufferSize];
        while (true)
        {
            int n = await s.ReceiveAsync(buf, SocketFlags.None);
            if (n == 0) break;
            await s.SendAsync(buf.AsMemory(0, n), SocketFlags.None);
        }
        s.Shutdown(SocketShutdown.Send);
    });

    /// <summary>Writes <paramref name="id"/> then closes: tells which server a connection reached.</summary>
    public static TestServer Identify(byte id, IPEndPoint? at = null) => new(async s =>
    {
        await s.SendAsync(new[] { id }, SocketFlags.None);
        s.Shutdown(SocketShutdown.Send);
        var buf = new byte[16];
        while (await s.ReceiveAsync(buf, SocketFlags.None) > 0) { }
    }, at);

    private async Task AcceptLoop()
    {
        while (true)
        {
            Socket s;
            try { s = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) { return; }
            Interlocked.Increment(ref _accepted);
            lock (_connections) _connections.Add(s);
            _ = Task.Run(async () =>
            {
                try { await _handler(s); }
                catch (Exception) { }
                finally { s.Dispose(); }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        _listener.Dispose();
        await _loop;
        lock (_connections) foreach (var s in _connections) s.Dispose();
        _stop.Dispose();
    }
}
