using System.Net;
using Proxy.Shared.Config;
using Proxy.Worker.Http;
using Proxy.Worker.Stats;
using Proxy.Worker.Io;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// One request of an http session and its response (HAProxy's txn): its backend and server, the permit and connect
/// (<see cref="ProxyTransaction.Connector"/>), the body framers, the server-side timers, and what `option httplog`
/// (doc/configuration.txt 8.2.3) records for its line, and the request and response heads. A session rents one from
/// <see cref="HttpTransactionPool"/> when a request's first bytes arrive and gives it back when the response has
/// ended, so an idle keep-alive session holds none (HAProxy's idle session keeps only its connection, h1c and session;
/// perf/README.md, "Memory per idle session"): <see cref="Reset"/> is the one place a request's state starts from,
/// <see cref="End"/> the one place its counts end. Plain fields,
/// no allocation, no lock; the log line is queued by <see cref="WriteLog"/> and formatted on the logger's thread.
/// </summary>
internal sealed class HttpTransaction : ProxyTransaction
{
    private HttpSession _owner;
    private FrontendRuntime _fe;

    public HttpTransaction(HttpSession owner, FrontendRuntime fe, ServerConnector connector, int maxHeadSize, int maxHeaders)
        : base(connector)
    {
        _owner = owner;
        _fe = fe;
        Request = new HttpHead(maxHeadSize, maxHeaders);
        Response = new HttpHead(maxHeadSize, maxHeaders);
    }

    /// <summary>The request head (parsed into a buffer rented per message, HttpHead.ReleaseBuffer).</summary>
    public readonly HttpHead Request;
    /// <summary>The response head.</summary>
    public readonly HttpHead Response;

    /// <summary>
    /// Counts the times this transaction was lent (<see cref="Bind"/>): another thread that reads it through its
    /// session checks that the lease did not change meanwhile (HttpSession.StillHolds).
    /// </summary>
    public int Lease;

    /// <summary>Lends this transaction, taken from the pool, to <paramref name="owner"/>'s next request.</summary>
    public void Bind(HttpSession owner, FrontendRuntime fe, ServerConnector connector)
    {
        Volatile.Write(ref Lease, Lease + 1);   // written by the session's thread only
        _owner = owner;
        _fe = fe;
        Connector = connector;
    }

    /// <summary>
    /// Forgets the session it was lent to, before it goes back to the pool: a pooled transaction must not keep a
    /// closed session (its sockets' objects, its sample context, its frontend's) alive until it is lent again.
    /// </summary>
    public void Unbind()
    {
        _owner = null!;
        _fe = null!;
        Connector = null!;
        Persistence.Clear();
        Backend = null;
        Server = null;
        Compression = null;
    }

    // The termination state is the session's (HttpSession.SetLogCause), reset with each request: the timer and
    // `shutdown session` record one there, never on a transaction that another session may be using already.
    public override void SetCause(char cause, char phase) => _owner.SetLogCause(cause, phase);

    protected override int CauseWord => _owner.CauseWord;

    public BackendRuntime? Backend;           // chosen by `use_backend` / `default_backend`; null before
    /// <summary>Cookie persistence and `use-server` for this request (worker/Persistence).</summary>
    public readonly Persistence.RequestPersistence Persistence = new();

    // :: The exchange with the server. Its inactivity timeout (`timeout server`) applies only while a server
    // operation is pending, counted from the start of the wait or the last byte moved, whichever is later.
    public int ServerBusy;
    public long ServerWaitSince;
    public long ServerTimeoutMs, TunnelTimeoutMs;
    public HttpBodyFramer RequestBody;
    public HttpBodyFramer ResponseBody;
    public volatile bool RequestBodyFramed;   // the framer saw the request body's end (only the last send may remain)
    /// <summary>The algorithm the client accepts, chosen on the request (worker/Compression); null: no compression.</summary>
    public Shared.Config.CompressionAlgorithm? Compression;

    // :: The log line's dates and figures.
    public long StartMs, StartUtc;            // first byte of the request (%tr), TickCount64 and UTC ticks
    public bool RequestSeen;                  // a byte of this request arrived
    public long HeadMs;                       // head complete (TR); 0: not yet
    public bool BodyAbandoned;                // `option http-buffer-request` waited in vain: TR is -1, as HAProxy's
    public long ReadyMs, ResponseMs;          // a connection attached; the response head arrived (0: not yet)
    public int ConnectMs;                     // Tc, -1 until a connection is attached
    public int Status;                        // status sent to the client, -1 when none
    public long Bytes;                        // bytes sent to the client (%B)
    public long BytesIn;                      // bytes received from the client (%U)

    /// <summary>Starts a request: every per-request field, set when the session begins waiting for its head.</summary>
    public void Reset()
    {
        Backend = null;
        Server = null;
        Persistence.Clear();
        Connector.Reset();
        RequestBodyFramed = false;
        Compression = null;
        StartMs = LoopClock.Milliseconds;
        StartUtc = 0;
        RequestSeen = false;
        HeadMs = 0;
        BodyAbandoned = false;
        ReadyMs = 0;
        ResponseMs = 0;
        ConnectMs = -1;
        Status = -1;
        Bytes = 0;
        BytesIn = 0;
    }

    /// <summary>The request's first byte: the date logged and the start of TR and Ta.</summary>
    public void MarkStart()
    {
        RequestSeen = true;
        StartMs = LoopClock.Milliseconds;
        if (_fe.TrafficLog is not null) StartUtc = DateTime.UtcNow.Ticks;
    }

    /// <summary>The phase of an exchange for the termination state: waiting for the response head (H), or its data (D).</summary>
    public char ExchangePhase => Volatile.Read(ref ResponseMs) != 0 ? 'D' : 'H';

    /// <summary>Enters <paramref name="be"/>: counted there (scur, req_tot) until <see cref="End"/>.</summary>
    public void EnterBackend(BackendRuntime be)
    {
        Backend = be;
        be.Enter();
        ProxyCounters.Increment(ref be.Counters.reqTot);
    }

    /// <summary>
    /// Counts the request on <paramref name="srv"/> (scur for leastconn, req_tot) and notes the connect time: a reused
    /// connection costs none (HAProxy logs Tc 0 then too), a new one counts from the first attempt, retries included.
    /// </summary>
    public void Attach(ServerRuntime srv, bool reused, long now)
    {
        if (Server != srv)
        {
            Server?.Counters.CloseSession();
            Server = srv;
            srv.Counters.OpenSession();
            ProxyCounters.Increment(ref srv.Counters.reqTot);
        }
        ConnectMs = reused ? 0 : Between(Connector.StartedMs, now);
        ReadyMs = now;
    }

    /// <summary>ctime, rtime and ttime of the request's server (sums and a count on the stats board; its backend's are the servers' summed).</summary>
    public void CountTimes()
    {
        if (Server is not { } srv) return;
        srv.Counters.CountTimes(ConnectMs, ResponseTime, Math.Max(0, LoopClock.Milliseconds - StartMs));   // see Between
    }

    /// <summary>The server's response time (Tr, rtime): from the connection ready to the response head; -1 if not reached.</summary>
    private int ResponseTime => ResponseMs != 0 && ReadyMs != 0 ? Between(ReadyMs, ResponseMs) : -1;

    /// <summary>
    /// Milliseconds from <paramref name="start"/> to <paramref name="end"/>, never negative: a stamp of the loop's clock
    /// may be a little older than one of the clock itself taken before it (LoopClock), and -1 means "not reached".
    /// </summary>
    private static int Between(long start, long end) => (int)Math.Max(0, end - start);

    /// <summary>Ends the request's counts on its server and backend (scur) and gives its `maxconn` permit back.</summary>
    public void End()
    {
        Connector.ReleasePermit();
        if (Server is { } srv) { srv.Counters.CloseSession(); Server = null; }
        if (Backend is { } be) { be.Leave(); Backend = null; }
    }

    public void CountResponse(BackendRuntime be, ServerRuntime srv, int status)
    {
        _fe.Counters.CountResponse(status);
        be.Counters.CountResponse(status);
        srv.Counters.CountResponse(status);
    }

    public static void CountIn(BackendRuntime be, ServerRuntime srv, long n)
    {
        ProxyCounters.Add(ref be.Counters.bin, n);
        ProxyCounters.Add(ref srv.Counters.bin, n);
    }

    public void CountOut(BackendRuntime be, ServerRuntime srv, long n)
    {
        ProxyCounters.Add(ref _fe.Counters.bout, n);
        ProxyCounters.Add(ref be.Counters.bout, n);
        ProxyCounters.Add(ref srv.Counters.bout, n);
    }

    /// <summary>Queues the request's httplog line when the frontend logs traffic (a full queue drops it, counted).</summary>
    public void WriteLog(HttpHead request, IPEndPoint? client, int activeConnections)
    {
        // `set-log-level silent` (4.2): no line for this request.
        int level = _owner.Samples.LogLevel;
        if (level == HttpRequestAction.SilentLogLevel || _fe.TrafficLog is not { } log || log.TryBegin() is not { } r) return;
        r.Level = level;
        long now = LoopClock.Milliseconds;
        var be = Backend;
        var srv = Server ?? Connector.Server;
        r.Format = TrafficLogFormat.Http;
        r.Frontend = _fe.Config.Name;
        r.Tls = _owner.Samples.Tls is not null;
        r.Sinks = _fe.LogSinks;
        r.TagPid = _fe.LogTagPid;
        r.Backend = be?.Name;
        r.Server = srv?.Name;
        r.ClientAddress = client?.Address;
        r.ClientPort = client?.Port ?? 0;
        r.DateUtcTicks = StartUtc != 0 ? StartUtc : DateTime.UtcNow.Ticks - (now - StartMs) * TimeSpan.TicksPerMillisecond;
        r.TimeRequest = HeadMs != 0 && !BodyAbandoned ? Between(StartMs, HeadMs) : -1;
        // Tw: nothing queues here, so 0 once a server was chosen (HAProxy: -1 when the queue was never reached).
        r.TimeQueue = srv is not null ? 0 : -1;
        r.TimeConnect = ConnectMs;
        r.TimeResponse = ResponseTime;
        r.TimeTotal = Between(StartMs, now);
        r.Status = Status;
        r.Bytes = Bytes;
        r.BytesUploaded = BytesIn;
        r.ServerEndPoint = srv?.EndPoint;
        FillEndOfSession(r, activeConnections, _fe, be);
        if (HeadMs != 0)
        {
            var line = request.StartLine;
            int n = Math.Min(line.Length, r.RequestLine.Length);
            line[..n].CopyTo(r.RequestLine);
            r.RequestLineLength = n;
        }
        else
        {
            r.RequestLineLength = -1;   // <BADREQ>
        }
        // `log-format`: rendered here, where its expressions can read the request (8.2.4).
        r.MessageLength = _fe.CustomLogFormat?.Render(_owner.Samples, r, r.Message, cut: true) ?? -1;
        r.RenderStructuredData(_fe.StructuredDataFormat, _owner.Samples);
        log.Commit(r);
    }
}
