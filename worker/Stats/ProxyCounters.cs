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
    internal long scur, smax, stot, bin, bout, econ, eresp, cliAbrt, srvAbrt, wretr, wredis, lbtot, denied;

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

    public long CurrentSessions => Volatile.Read(ref scur);
    public long MaxSessions => Volatile.Read(ref smax);
    public long TotalSessions => Volatile.Read(ref stot);
    /// <summary>bin: bytes received from clients (client to server direction).</summary>
    public long BytesIn => Volatile.Read(ref bin);
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

    /// <summary>Counts one new session: scur, stot and smax.</summary>
    internal void OpenSession()
    {
        long cur = Interlocked.Increment(ref scur);
        Interlocked.Increment(ref stot);
        long max = Volatile.Read(ref smax);
        while (cur > max)
        {
            long seen = Interlocked.CompareExchange(ref smax, cur, max);
            if (seen == max) break;
            max = seen;
        }
    }

    internal void CloseSession() => Interlocked.Decrement(ref scur);

    internal static void Add(ref long field, long value) => Interlocked.Add(ref field, value);
    internal static void Increment(ref long field) => Interlocked.Increment(ref field);
}
