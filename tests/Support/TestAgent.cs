using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.Tests.Support;

/// <summary>An `agent-check` agent (5.2) for the tests: answers <see cref="Reply"/> to each connection, keeps what the proxy sent (`agent-send`).</summary>
internal sealed class TestAgent : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    public volatile string Reply = "up\n";
    public volatile string Received = "";

    public TestAgent()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket c;
            try { c = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = AnswerAsync(c);
        }
    }

    private async Task AnswerAsync(Socket c)
    {
        using (c)
        {
            try
            {
                await c.SendAsync(Encoding.ASCII.GetBytes(Reply), SocketFlags.None);
                var buffer = new byte[256];
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                int n = await c.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n > 0) Received = Encoding.ASCII.GetString(buffer, 0, n);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException) { }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
    }
}
