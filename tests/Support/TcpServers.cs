using System.Net;
using System.Net.Sockets;

namespace Proxy.Tests.Support;

/// <summary>
/// An echo server on 127.0.0.1 for forwarding tests: it sends back everything it receives and, when the
/// client half-closes, finishes sending and closes. Counts connections so tests can see distribution.
/// </summary>
public sealed class EchoServer : IDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    public EchoServer()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(1024);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }
    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket c;
            try { c = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) { return; }
            Interlocked.Increment(ref _connections);
            _ = EchoAsync(c);
        }
    }

    private static async Task EchoAsync(Socket c)
    {
        using (c)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    int n = await c.ReceiveAsync(buffer, SocketFlags.None);
                    if (n == 0) break;
                    int sent = 0;
                    while (sent < n) sent += await c.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None);
                }
                c.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException) { }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
    }
}

/// <summary>Client helpers: send a payload, half-close, read everything back.</summary>
public static class TcpClientHelper
{
    public static async Task<byte[]> RoundTripAsync(int port, byte[] payload, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
        var send = SendAllThenShutdownAsync(s, payload, cts.Token);
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int n = await s.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0) break;
            received.Write(buffer, 0, n);
        }
        await send;
        return received.ToArray();
    }

    private static async Task SendAllThenShutdownAsync(Socket s, byte[] payload, CancellationToken ct)
    {
        int sent = 0;
        while (sent < payload.Length)
            sent += await s.SendAsync(payload.AsMemory(sent, Math.Min(64 * 1024, payload.Length - sent)), SocketFlags.None, ct);
        s.Shutdown(SocketShutdown.Send);
    }
}
