namespace Proxy.Worker.Stats;

/// <summary>What a <see cref="ProxyCounters"/> instance counts for (HAProxy `show stat` type field).</summary>
public enum CounterKind { Frontend, Backend, Server }

/// <summary>
/// 64-bit counters of one frontend, backend or server, named as HAProxy's `show stat` columns.
/// One writer path per event, updated with Interlocked; readers (the stats board copier) use the read-only
/// properties, which never see a torn value. Allocation-free: the instance lives as long as the engine.
/// </summary>
public sealed class ProxyCounters
{
    // qcur/qmax: requests waiting in a backend's queue for a server `maxconn` slot (servers have no queue of their own).
    internal long qcur, qmax, qtimeMs;   // qtimeMs: total time requests spent queued, for the qtime average
    internal long scur, smax, stot, bin, bout, econ, eresp, cliAbrt, srvAbrt, wretr, wredis, lbtot, denied;
    // `mode http` (show stat: req_tot, hrsp_1xx..hrsp_other, ereq, dreq).
    internal long reqTot, hrsp1xx, hrsp2xx, hrsp3xx, hrsp4xx, hrsp5xx, hrspOther, ereq, dreq;

    public ProxyCounters(CounterKind kind, string proxyName, string? serverName = null)
    {
        Kind = kind;
        ProxyName = proxyName;
        ServerName = serverName;
    }

    public CounterKind Kind { get; }
    /// <summary>pxname: the frontend or backend name.</summary>
    public string ProxyName { get; }
    /// <summary>svname of a server; null for frontends and backends (HAProxy prints FRONTEND/BACKEND).</summary>
    public string? ServerName { get; }
    /// <summary>Stable key for the stats board name table: `fe`, `be`, or `be/srv`.</summary>
    public string Key => ServerName is null ? ProxyName : ProxyName + "/" + ServerName;

    /// <summary>qcur: requests waiting for a server slot now (backends).</summary>
    public long QueueCurrent => Math.Max(0, Volatile.Read(ref qcur));
    /// <summary>qmax: the longest the queue has been.</summary>
    public long QueueMax => Volatile.Read(ref qmax);
    /// <summary>Milliseconds requests spent in the queue, summed (the board turns it into qtime, an average per request).</summary>
    public long QueueTimeTotalMs => Volatile.Read(ref qtimeMs);
    public long CurrentSessions => Volatile.Read(ref scur);
    public long MaxSessions => Volatile.Read(ref smax);
    public long TotalSessions => Volatile.Read(ref stot);
    /// <summary>bin: bytes received from clients (client to server direction).</summary>
    public long BytesIn => Volatile.Read(ref bin);
    /// <summary>Moves with any traffic (sessions, requests, bytes both ways); MemoryTrimmer tells quiet from busy by it.</summary>
    public long TrafficCount => Volatile.Read(ref stot) + Volatile.Read(ref reqTot) + Volatile.Read(ref bin) + Volatile.Read(ref bout);
    /// <summary>bout: bytes sent to clients (server to client direction).</summary>
    public long BytesOut => Volatile.Read(ref bout);
    public long ConnectionErrors => Volatile.Read(ref econ);
    public long ResponseErrors => Volatile.Read(ref eresp);
    public long ClientAborts => Volatile.Read(ref cliAbrt);
    public long ServerAborts => Volatile.Read(ref srvAbrt);
    public long Retries => Volatile.Read(ref wretr);
    public long Redispatches => Volatile.Read(ref wredis);
    /// <summary>lbtot: times this server (or a server of this backend) was selected by the load balancer.</summary>
    public long LoadBalancedTotal => Volatile.Read(ref lbtot);
    public long Denied => Volatile.Read(ref denied);
    /// <summary>req_tot: HTTP requests received (frontends) or forwarded (backends, servers).</summary>
    public long HttpRequests => Volatile.Read(ref reqTot);
    public long HttpResponses1xx => Volatile.Read(ref hrsp1xx);
    public long HttpResponses2xx => Volatile.Read(ref hrsp2xx);
    public long HttpResponses3xx => Volatile.Read(ref hrsp3xx);
    public long HttpResponses4xx => Volatile.Read(ref hrsp4xx);
    public long HttpResponses5xx => Volatile.Read(ref hrsp5xx);
    public long HttpResponsesOther => Volatile.Read(ref hrspOther);
    /// <summary>ereq: request errors (malformed, timed out, aborted while sending the request).</summary>
    public long RequestErrors => Volatile.Read(ref ereq);
    /// <summary>dreq: requests denied.</summary>
    public long DeniedRequests => Volatile.Read(ref dreq);

    /// <summary>Counts one response by status class (hrsp_1xx ... hrsp_other).</summary>
    internal void CountResponse(int status)
    {
        switch (status / 100)
        {
            case 1: Interlocked.Increment(ref hrsp1xx); break;
            case 2: Interlocked.Increment(ref hrsp2xx); break;
            case 3: Interlocked.Increment(ref hrsp3xx); break;
            case 4: Interlocked.Increment(ref hrsp4xx); break;
            case 5: Interlocked.Increment(ref hrsp5xx); break;
            default: Interlocked.Increment(ref hrspOther); break;
        }
    }

    /// <summary>Counts one new session: scur, stot and smax.</summary>
    internal void OpenSession()
    {
        long cur = Interlocked.Increment(ref scur);
        Interlocked.Increment(ref stot);
        RaiseMax(ref smax, cur);
    }

    /// <summary>Counts one request entering the queue: qcur and qmax (BackendQueue decrements qcur when it leaves).</summary>
    internal void EnterQueue() => RaiseMax(ref qmax, Interlocked.Increment(ref qcur));

    private static void RaiseMax(ref long max, long value)
    {
        long seen = Volatile.Read(ref max);
        while (value > seen)
        {
            long before = Interlocked.CompareExchange(ref max, value, seen);
            if (before == seen) break;
            seen = before;
        }
    }

    internal void CloseSession() => Interlocked.Decrement(ref scur);

    internal static void Add(ref long field, long value) => Interlocked.Add(ref field, value);
    internal static void Increment(ref long field) => Interlocked.Increment(ref field);
}
