using System.Net.Sockets;

namespace Proxy.Tests.Worker;

/// <summary>An HTTP origin that holds every request until it is released, counting how many it holds at once.</summary>
internal sealed class GatedOrigin : IAsyncDisposable
{
    private readonly TestServer _server;
    private readonly SemaphoreSlim _releases = new(0);
    private volatile bool _open;
    private int _busy, _maxBusy;

    public GatedOrigin()
    {
        _server = new TestServer(async s =>
        {
            var reader = new HttpReader(s);
            while (await reader.ReadAsync(isResponse: false) is not null)
            {
                int busy = Interlocked.Increment(ref _busy);
                int max;
                while (busy > (max = Volatile.Read(ref _maxBusy)) && Interlocked.CompareExchange(ref _maxBusy, busy, max) != max) { }
                if (!_open) await _releases.WaitAsync(TimeSpan.FromSeconds(30));
                Interlocked.Decrement(ref _busy);
                await s.SendAsync(HttpOrigin.Ok("done"), SocketFlags.None);
            }
        });
    }

    public int Port => _server.EndPoint.Port;
    public int Busy => Volatile.Read(ref _busy);
    public int MaxBusy => Volatile.Read(ref _maxBusy);
    /// <summary>Lets one held request (the first to wake) be answered.</summary>
    public void ReleaseOne() => _releases.Release();
    /// <summary>Answers every held request and every later one at once.</summary>
    public void Open()
    {
        _open = true;
        _releases.Release(64);   // more than any test holds
    }
    public async ValueTask DisposeAsync()
    {
        Open();
        await _server.DisposeAsync();
        _releases.Dispose();
    }
}
