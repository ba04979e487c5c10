using System.Net.Sockets;

namespace Proxy.Tests.Worker;

/// <summary>
/// A keep-alive HTTP origin that answers each request after a fixed delay and records the highest
/// number of requests it was working on at once (what a server's maxconn protects).
/// </summary>
internal sealed class SlowOrigin : IAsyncDisposable
{
    private readonly TestServer _server;
    private int _busy, _maxBusy, _requests;

    /// <param name="hold">when given, every request also waits for it: a test releases the server once it has seen
    /// what it looks for, with no timing window to miss.</param>
    public SlowOrigin(int delayMs, Task? hold = null)
    {
        _server = new TestServer(async s =>
        {
            var reader = new HttpReader(s);
            while (await reader.ReadAsync(isResponse: false) is not null)
            {
                int busy = Interlocked.Increment(ref _busy);
                int max;
                while (busy > (max = Volatile.Read(ref _maxBusy)) && Interlocked.CompareExchange(ref _maxBusy, busy, max) != max) { }
                if (hold is not null) await hold;
                await Task.Delay(delayMs);
                Interlocked.Decrement(ref _busy);
                Interlocked.Increment(ref _requests);
                await s.SendAsync(HttpOrigin.Ok("done"), SocketFlags.None);
            }
        });
    }

    public int Port => _server.EndPoint.Port;
    public int MaxBusy => Volatile.Read(ref _maxBusy);
    public int Requests => Volatile.Read(ref _requests);
    public int Connections => _server.Accepted;
    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
