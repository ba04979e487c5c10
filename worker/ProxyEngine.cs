// TEMPORARY stand-in until the tcp branch lands (same API); replaced on merge.
using System.Net.Sockets;
using Proxy.Shared.Config;

namespace Proxy.Worker;

public sealed record BoundListener(FrontendConfig Frontend, BindAddress Bind, Socket Socket);

public sealed class ProxyEngine(ProxyConfig config, IReadOnlyList<BoundListener> listeners, NLog.ILogger log) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private int _active = 0;
    private long _total;
    public int ActiveConnections => _active;
    public long TotalConnections => _total;
    public void Start()
    {
        _ = config; _ = log;
        foreach (var l in listeners) _ = Loop(l.Socket);
    }
    private async Task Loop(Socket s)
    {
        while (!_stop.IsCancellationRequested)
        {
            try { var c = await s.AcceptAsync(_stop.Token); Interlocked.Increment(ref _total); c.Dispose(); }
            catch (Exception) { return; }
        }
    }
    public void StopAccepting() { _stop.Cancel(); foreach (var l in listeners) l.Socket.Dispose(); }
    public Task<bool> DrainAsync(TimeSpan timeout) { StopAccepting(); return Task.FromResult(true); }
    public ValueTask DisposeAsync() { StopAccepting(); return ValueTask.CompletedTask; }
}
