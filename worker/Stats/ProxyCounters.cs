using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Proxy.Shared.Stats;

namespace Proxy.Worker.Stats;

/// <summary>What a <see cref="ProxyCounters"/> instance counts for (HAProxy `show stat` type field).</summary>
public enum CounterKind { Frontend, Backend, Server }

/// <summary>
/// The counters of one frontend, backend or server, named as HAProxy's `show stat` columns, kept in place: once
/// <see cref="CountOnBoard"/> binds them, every field below is this object's row in the worker's slot of the stats
/// board (indexed by <see cref="StatField"/>), so what is counted is visible to readers at once and stays on the
/// board when the worker is killed. There is no private copy. Before binding (an engine without a board: tests)
/// they live in a pinned array of the same shape.
/// </summary>
/// <remarks>
/// Several threads count (the worker's thread pool), so every update is Interlocked; readers copy each value with
/// one aligned 64-bit load and never see it torn. The fields are ref properties so call sites read as field updates
/// (<c>ProxyCounters.Add(ref c.bin, n)</c>): one more load than a field of this object, measured in perf/BoardBench.
/// </remarks>
public sealed unsafe class ProxyCounters
{
    private long* _row;
    private long[]? _own;   // the storage until bound to the board; pinned, since _row points into it

    public ProxyCounters(CounterKind kind, string proxyName, string? serverName = null)
    {
        Kind = kind;
        ProxyName = proxyName;
        ServerName = serverName;
        _own = GC.AllocateArray<long>(StatFields.Count, pinned: true);
        _row = (long*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_own));
    }

    // qcur/qmax: requests waiting in a backend's queue for a server `maxconn` place (servers have no queue of their own).
    internal ref long qcur => ref _row[(int)StatField.Qcur];
    internal ref long qmax => ref _row[(int)StatField.Qmax];
    /// <summary>Milliseconds granted requests waited in the queue, summed (qtime is this over <see cref="StatField.Timed"/>).</summary>
    internal ref long qtimeMs => ref _row[(int)StatField.QtimeSum];
    internal ref long scur => ref _row[(int)StatField.Scur];
    internal ref long smax => ref _row[(int)StatField.Smax];
    internal ref long stot => ref _row[(int)StatField.Stot];
    internal ref long bin => ref _row[(int)StatField.Bin];
    internal ref long bout => ref _row[(int)StatField.Bout];
    internal ref long econ => ref _row[(int)StatField.Econ];
    internal ref long eresp => ref _row[(int)StatField.Eresp];
    internal ref long cliAbrt => ref _row[(int)StatField.CliAbrt];
    internal ref long srvAbrt => ref _row[(int)StatField.SrvAbrt];
    internal ref long wretr => ref _row[(int)StatField.Wretr];
    internal ref long wredis => ref _row[(int)StatField.Wredis];
    internal ref long lbtot => ref _row[(int)StatField.Lbtot];
    // `mode http` (show stat: req_tot, hrsp_1xx..hrsp_other, ereq, dreq).
    internal ref long reqTot => ref _row[(int)StatField.ReqTot];
    internal ref long hrsp1xx => ref _row[(int)StatField.Hrsp1xx];
    internal ref long hrsp2xx => ref _row[(int)StatField.Hrsp2xx];
    internal ref long hrsp3xx => ref _row[(int)StatField.Hrsp3xx];
    internal ref long hrsp4xx => ref _row[(int)StatField.Hrsp4xx];
    internal ref long hrsp5xx => ref _row[(int)StatField.Hrsp5xx];
    internal ref long hrspOther => ref _row[(int)StatField.HrspOther];
    internal ref long ereq => ref _row[(int)StatField.Ereq];
    internal ref long dreq => ref _row[(int)StatField.Dreq];
    internal ref long dresp => ref _row[(int)StatField.Dresp];
    // HTTP compression (worker/Compression).
    internal ref long compIn => ref _row[(int)StatField.CompIn];
    internal ref long compOut => ref _row[(int)StatField.CompOut];
    internal ref long compByp => ref _row[(int)StatField.CompByp];
    internal ref long compRsp => ref _row[(int)StatField.CompRsp];
    internal ref long sslSess => ref _row[(int)StatField.SslSess];
    internal ref long sslReusedSess => ref _row[(int)StatField.SslReusedSess];
    internal ref long sslFailedHandshake => ref _row[(int)StatField.SslFailedHandshake];
    internal ref long sslCur => ref _row[(int)StatField.SslCur];

    public CounterKind Kind { get; }
    /// <summary>pxname: the frontend or backend name.</summary>
    public string ProxyName { get; }
    /// <summary>svname of a server; null for frontends and backends (HAProxy prints FRONTEND/BACKEND).</summary>
    public string? ServerName { get; }
    /// <summary>Stable key for the stats board name table: `fe`, `be`, or `be/srv`.</summary>
    public string Key => ServerName is null ? ProxyName : ProxyName + "/" + ServerName;

    /// <summary>
    /// From now on counts straight into <paramref name="slot"/>'s row <paramref name="objectIndex"/>, carrying what was
    /// counted before (nothing, when bound before the engine starts). Call before traffic: an update racing the
    /// switch could land in the old storage. The board must stay mapped (StatsBoard.KeepMappedUntilExit).
    /// </summary>
    public void CountOnBoard(StatsSlot slot, int objectIndex)
    {
        long* row = slot.Row(objectIndex);
        for (int i = 0; i < StatFields.Count; i++)
        {
            long v = Volatile.Read(ref _row[i]);
            if (v != 0) Interlocked.Add(ref row[i], v);
        }
        _row = row;   // one pointer store; the engine's threads start after it
        _own = null;
    }

    /// <summary>qcur: requests waiting for a server slot now (backends).</summary>
    public long QueueCurrent => Math.Max(0, Volatile.Read(ref qcur));
    /// <summary>qmax: the longest the queue has been.</summary>
    public long QueueMax => Volatile.Read(ref qmax);
    /// <summary>Milliseconds requests spent in the queue, summed (qtime is this over the timed requests).</summary>
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
    /// <summary>Requests (mode http) or connections (mode tcp) timed for ctime, rtime and ttime (and qtime).</summary>
    public long TimedRequests => Volatile.Read(ref _row[(int)StatField.Timed]);
    /// <summary>Sums of Tc, Tr and Tt over <see cref="TimedRequests"/>, in ms.</summary>
    public long ConnectTimeTotalMs => Volatile.Read(ref _row[(int)StatField.CtimeSum]);
    public long ResponseTimeTotalMs => Volatile.Read(ref _row[(int)StatField.RtimeSum]);
    public long TotalTimeTotalMs => Volatile.Read(ref _row[(int)StatField.TtimeSum]);

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

    /// <summary>
    /// Times one request (mode http) or connection (mode tcp) on its server for ctime, rtime and ttime (readers add a
    /// backend's servers up for the backend's), as HAProxy's
    /// stream_update_time_stats: only one that got a connection (<paramref name="connectMs"/> &gt;= 0) and, in mode
    /// http, a response head (<paramref name="responseMs"/> &gt;= 0; mode tcp passes 0). The averages are the sums over
    /// the count, computed by readers.
    /// </summary>
    internal void CountTimes(int connectMs, int responseMs, long totalMs)
    {
        if (connectMs < 0 || responseMs < 0) return;
        Interlocked.Add(ref _row[(int)StatField.CtimeSum], connectMs);
        Interlocked.Add(ref _row[(int)StatField.RtimeSum], responseMs);
        Interlocked.Add(ref _row[(int)StatField.TtimeSum], Math.Max(0, totalMs));
        Interlocked.Increment(ref _row[(int)StatField.Timed]);
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
