using Proxy.Worker.Runtime;

namespace Proxy.Worker;

// `maxconnrate`, `maxsessrate` and `set rate-limit connections|sessions global` (AcceptRateLimit says how they are shared).
public sealed partial class ProxyEngine
{
    private readonly AcceptRateLimit _connectionRate = new();
    private readonly AcceptRateLimit _sessionRate = new();
    private readonly AcceptRateLimit _sslRate = new();   // `maxsslrate`: TLS listeners only
    private int _rateWorkers = 1;

    /// <summary>The instance's limits from the config, and the number of workers that share them.</summary>
    public void SetAcceptRates(long connectionsPerSecond, long sessionsPerSecond, int workers)
    {
        _rateWorkers = Math.Max(1, workers);
        _connectionRate.Set(connectionsPerSecond, _rateWorkers);
        _sessionRate.Set(sessionsPerSecond, _rateWorkers);
    }

    /// <summary>`maxsslconn` and `maxsslrate` (3.2), each worker taking its share as for the other limits.</summary>
    public void SetTlsLimits(int maxSslConn, int maxSslRate, int workers)
    {
        Tls.TlsCounters.SetOpenLimit(maxSslConn, workers);
        _sslRate.Set(maxSslRate, Math.Max(1, workers));
    }

    /// <summary>
    /// `maxsslrate`: waits, after a TLS listener's accept, until the connection fits in this second's share (HAProxy
    /// stops accepting on its SSL listeners meanwhile; the connection waits established, as in the backlog).
    /// </summary>
    private async ValueTask WaitForSslRateAsync(CancellationToken stop)
    {
        int wait;
        while ((wait = _sslRate.TryTake(Environment.TickCount64)) > 0) await Task.Delay(wait, stop).ConfigureAwait(false);
    }

    /// <summary>The instance's `maxconnrate` and `maxsessrate` now (0: none), for `show info`.</summary>
    public (long Connections, long Sessions) AcceptRateLimits => (_connectionRate.InstanceRate, _sessionRate.InstanceRate);

    /// <summary>`set rate-limit connections|sessions global N` (0: none); null, or why not.</summary>
    public string? SetAcceptRate(string which, long perSecond)
    {
        if (perSecond < 0) return "negative rate";
        switch (which)
        {
            case "connections": _connectionRate.Set(perSecond, _rateWorkers); return null;
            case "sessions": _sessionRate.Set(perSecond, _rateWorkers); return null;
            default: return $"unknown rate '{which}'";
        }
    }

    /// <summary>
    /// 0 when the next connection may be accepted now (counted by both limits), else the milliseconds to wait. A
    /// session here begins at accept, so `maxsessrate` counts where `maxconnrate` does (HAProxy counts sessions after
    /// `tcp-request connection` rules: a connection they reject counts here too).
    /// </summary>
    private int AcceptRateWait(long now)
    {
        int wait = _connectionRate.TryTake(now);
        if (wait > 0) return wait;
        return _sessionRate.TryTake(now);
    }
}
