using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Worker.Balancing;
using Proxy.Worker.Io;
using Proxy.Worker.ProxyProtocol;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// Gets a connection to a server of a backend, for a tcp session or one http request, in both modes the same way:
/// a server `maxconn` permit first (<see cref="AcquirePermitAsync"/>: the balancer's choice, else a free server of
/// the same tier, else a place in the backend queue), then a connect with `retries` and `option redispatch`
/// (<see cref="ConnectAsync"/>) under `timeout connect`. One per session, reused; <see cref="Reset"/> clears what
/// one transaction recorded for its log line. The engine's timer reaches it through <see cref="CheckTimeouts"/>
/// (`timeout queue`, `timeout connect`) and the session's abort through <see cref="Abort"/>; neither does more than
/// end a wait or close the socket being connected.
/// </summary>
internal sealed class ServerConnector(ProxySession owner)
{
    internal enum Result { Connected, NoServer, Failed, Aborted }

    private QueueTicket? _queued;      // set while waiting in a backend queue for a permit
    private Socket? _attempt;          // the socket being connected, or connected and not yet taken by the session
    private BufferedSocket? _attemptOnLoop;   // the same socket when it connects on the worker's loop (worker/Io), else null
    private long _deadline;            // `timeout connect` of the attempt in progress (TickCount64); 0: none
    private int _timedOut;             // the last attempt ended by `timeout connect` (the log's sC rather than SC)

    /// <summary>The server whose `maxconn` permit is held (give it back with <see cref="ReleasePermit"/>).</summary>
    public ServerRuntime? Permit { get; private set; }
    /// <summary>Where the last <see cref="ConnectAsync"/> ended: the server connected to, or the last one that failed; null before.</summary>
    public ServerRuntime? Server { get; private set; }
    /// <summary>TickCount64 of the first connect attempt (the log's Tc counts from here, retries included); 0: none.</summary>
    public long StartedMs { get; private set; }
    public int Retries { get; private set; }
    public bool Redispatched { get; private set; }
    public bool ConnectTimedOut => Volatile.Read(ref _timedOut) != 0;
    /// <summary>True when the last wait in a backend queue ended by `timeout queue` (HAProxy's termination state sQ).</summary>
    public bool QueueTimedOut { get; private set; }

    /// <summary>Clears what one transaction recorded (the permit is given back separately, when the request ends).</summary>
    public void Reset()
    {
        Server = null;
        StartedMs = 0;
        Retries = 0;
        Redispatched = false;
        Volatile.Write(ref _timedOut, 0);
    }

    /// <summary>
    /// As new, for the next connection of its pooled session (HttpSessionPool): called once the last one ended, with no
    /// permit held, no queue place and no attempt left.
    /// </summary>
    public void Clear()
    {
        Reset();
        _queued = null;
        _attempt = null;
        _attemptOnLoop = null;
        _deadline = 0;
        Permit = null;
        QueueTimedOut = false;
    }

    /// <summary>Whether nothing of a connection is left here: no permit, no queue place, no attempt (a pooled session may start again).</summary>
    public bool IsIdle => Permit is null && Volatile.Read(ref _queued) is null && Volatile.Read(ref _attempt) is null && Volatile.Read(ref _attemptOnLoop) is null;

    /// <summary>
    /// Gives back the permit held, then takes one on a server of <paramref name="be"/> for a connection or
    /// <paramref name="request"/>: at once without allocating when a server has a free one, else after waiting in the
    /// backend queue. Null when no server is usable, `timeout queue` expired or the session aborted.
    /// <paramref name="assigned"/>: the server persistence designates (worker/Persistence), taken when it has a free permit.
    /// <paramref name="payload"/>: the client's first bytes, for `balance rdp-cookie` (mode tcp).
    /// </summary>
    public ValueTask<ServerRuntime?> AcquirePermitAsync(BackendRuntime be, IPEndPoint? client, Http.HttpHead? request,
        ServerRuntime? assigned = null, ReadOnlySpan<byte> payload = default)
    {
        ReleasePermit();
        // Waiting for a permit is not `timeout connect`: only `timeout queue` applies.
        Volatile.Write(ref _deadline, 0);
        if (be.Queue.Acquire(client, request, out var server, assigned, payload) is not { } ticket)
        {
            Permit = server;
            return new(server);
        }
        return WaitAsync(ticket);
    }

    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<ServerRuntime?> WaitAsync(QueueTicket ticket)
    {
        Volatile.Write(ref _queued, ticket);   // from here the engine's timer expires it and an abort cancels it
        if (owner.IsAborted) ticket.Cancel();  // an abort that ran before the ticket was visible
        var server = await ticket.Task.ConfigureAwait(false);
        QueueTimedOut = ticket.TimedOut;
        Volatile.Write(ref _queued, null);
        Permit = server;
        return server;
    }

    /// <summary>
    /// Gives back the permit (a connection or request ended). A permit counts an active request, not a connection:
    /// an http session's idle keep-alive connection and the pooled ones hold none (HAProxy's `served`), so idle
    /// connections can never keep a queued request waiting.
    /// </summary>
    public void ReleasePermit()
    {
        if (Permit is not { } held) return;
        Permit = null;
        held.Backend.Queue.Release(held);
    }

    /// <summary>
    /// Connects to <paramref name="srv"/> (its permit held), retrying `retries` times; with `option redispatch` the
    /// last retry goes to another server with a free permit (HAProxy's default interval), else stays on this one.
    /// Connected: <see cref="TakeConnection"/> hands over the socket and <see cref="Server"/> says where it goes.
    /// NoServer (<paramref name="srv"/> null) and Failed are counted (econ); Aborted: the session is closing.
    /// <paramref name="loopBufferSize"/> (a `mode http` session's connection): a server without `ssl` is connected on the
    /// worker's own loop (worker/Io), the socket wrapped in a BufferedSocket of that buffer size
    /// (<see cref="TakeConnection(int)"/>); 0: .NET's socket engine (mode tcp).
    /// </summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    public async ValueTask<Result> ConnectAsync(BackendRuntime be, ServerRuntime? srv, IPEndPoint? client, Http.HttpHead? request,
        bool forcePersist = false, int loopBufferSize = 0)
    {
        if (srv is null)
        {
            // No usable server, or the queue timed out: counted on the backend only, like HAProxy's econ
            // "not associated with a server".
            ProxyCounters.Increment(ref be.Counters.econ);
            return Result.NoServer;
        }
        int retries = be.Config.Retries;
        for (int attempt = 0; ; attempt++)
        {
            if (attempt == 0) StartedMs = Environment.TickCount64;
            var target = srv.ConnectTarget(owner.FrontendEndPoint);
            bool wantsLoop = loopBufferSize > 0 && target is not null && srv.Config.Tls is null;
            var loopSocket = wantsLoop && target is IPEndPoint ? LoopConnectSocket.TryCreate(target.AddressFamily, be.Config.ServerTcpKeepAlive) : null;
            var socket = loopSocket ?? NewSocket(target, be.Config.ServerTcpKeepAlive);
            var onLoop = wantsLoop ? OnLoop(socket, loopBufferSize, nonBlocking: loopSocket is not null) : null;
            // Both published before _deadline: the timer that reads the deadline sees them (release / acquire).
            Volatile.Write(ref _attemptOnLoop, onLoop);
            Volatile.Write(ref _attempt, socket);
            long timeout = be.ConnectTimeoutMs;
            Volatile.Write(ref _timedOut, 0);   // the log's sC / SC is about the last attempt
            Volatile.Write(ref _deadline, timeout > 0 ? Environment.TickCount64 + timeout : 0);
            if (owner.IsAborted)
            {
                DisposeAttempt();
                return Result.Aborted;
            }
            SocketError error = target is null ? SocketError.AddressNotAvailable
                : onLoop is not null ? await onLoop.ConnectAsync(srv.SocketAddressOf(target)).ConfigureAwait(false)
                : await ConnectOnceAsync(socket, target).ConfigureAwait(false);
            // `send-proxy` / `send-proxy-v2` (5.2): the header goes first, within the attempt (a server that resets
            // before taking it is a failed connect, retried like one).
            if (error == SocketError.Success && srv.Config.ProxyProtocol.Sends && !owner.IsAborted)
                error = await SendProxyHeaderAsync(socket, onLoop, srv).ConfigureAwait(false);
            Volatile.Write(ref _deadline, 0);
            if (error == SocketError.Success && !owner.IsAborted)
            {
                srv.Passive.Report(Health.PassiveEvent.L4Ok);   // `observe layer4`
                Server = srv;
                return Result.Connected;
            }
            DisposeAttempt();
            if (error != SocketError.Success) srv.Passive.Report(Health.PassiveEvent.L4Error);   // each failed attempt, as HAProxy
            if (attempt >= retries || owner.IsAborted)
            {
                ProxyCounters.Increment(ref srv.Counters.econ);
                ProxyCounters.Increment(ref be.Counters.econ);
                Server = srv;
                return Result.Failed;
            }
            Retries++;
            ProxyCounters.Increment(ref srv.Counters.wretr);
            ProxyCounters.Increment(ref be.Counters.wretr);
            // `option redispatch` without interval redispatches on the last retry only (HAProxy's default -1).
            // The permit moves with it; with no other server free, the retry stays on this one.
            // Never under `force-persist` (HAProxy's SF_FORCE_PRST: the request goes to its server or fails).
            if (be.Config.Redispatch && !forcePersist && attempt + 1 == retries && be.Queue.TryAcquireOther(client, request, srv) is { } other)
            {
                ReleasePermit();
                Permit = other;
                ProxyCounters.Increment(ref other.Counters.wredis);
                ProxyCounters.Increment(ref be.Counters.wredis);
                srv = other;
                Redispatched = true;
            }
        }
    }

    /// <summary>The new socket on the worker's loop; null when the loop is off (PROXY_IO_LOOP=0): .NET's engine connects it.</summary>
    private static BufferedSocket? OnLoop(Socket socket, int bufferSize, bool nonBlocking)
    {
        var connection = new BufferedSocket(socket, bufferSize) { NonBlocking = nonBlocking };
        return connection.UseIoLoop() ? connection : null;
    }

    /// <summary>
    /// A stream socket for <paramref name="target"/> made by .NET: TCP with Nagle off and, with `option tcpka|srvtcpka`
    /// (4.2), the kernel's keep-alive probes; a UNIX one (`unix@`/`abns@` servers) has neither option. On the loop, a
    /// TCP one is made by <see cref="LoopConnectSocket"/> instead, with the same options.
    /// </summary>
    private static Socket NewSocket(EndPoint? target, bool keepAlive)
    {
        if (target is UnixDomainSocketEndPoint) return new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var socket = new Socket(target?.AddressFamily ?? AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (keepAlive) socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        return socket;
    }

    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private static async ValueTask<SocketError> ConnectOnceAsync(Socket socket, EndPoint target)
    {
        var op = SocketOperationPool.Rent();
        try
        {
            return await op.ConnectAsync(socket, target).ConfigureAwait(false);
        }
        finally
        {
            SocketOperationPool.Return(op);
        }
    }

    /// <summary>
    /// Sends the PROXY header (v2 when `send-proxy-v2` is on, else v1) with the session's client address and the address
    /// it reached: the socket's, or those of the client's own PROXY header. A client connection always has both, so v2
    /// sends the PROXY command (LOCAL is for health checks, CheckProbe).
    /// </summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private async ValueTask<SocketError> SendProxyHeaderAsync(Socket socket, BufferedSocket? onLoop, ServerRuntime srv)
    {
        var pp = srv.Config.ProxyProtocol;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ProxyHeaderWriter.MaxLength);
        SocketOperation? op = null;
        try
        {
            // The request's source (`http-request set-src` when it ran), as HAProxy's make_proxy_line takes the stream's.
            var source = owner.Samples.Client ?? owner.ClientEndPoint;
            int length = pp.SendV2
                ? ProxyHeaderWriter.WriteV2(buffer, source, owner.FrontendEndPoint, local: false, pp.V2Options, owner.ProxyAuthority)
                : ProxyHeaderWriter.WriteV1(buffer, source, owner.FrontendEndPoint);
            var data = buffer.AsMemory(0, length);
            if (onLoop is not null) return await onLoop.SendAsync(data).ConfigureAwait(false) ? SocketError.Success : SocketError.ConnectionReset;
            op = SocketOperationPool.Rent();
            while (!data.IsEmpty)
            {
                var error = await op.SendAsync(socket, data).ConfigureAwait(false);
                if (error != SocketError.Success) return error;
                data = data[op.BytesTransferred..];
            }
            return SocketError.Success;
        }
        finally
        {
            if (op is not null)
            {
                op.Clear();
                SocketOperationPool.Return(op);
            }
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The connected socket; the caller publishes it to its own abort first, then calls <see cref="ForgetConnection"/>.</summary>
    public Socket TakeConnection() => Volatile.Read(ref _attempt)!;

    /// <summary>
    /// The connected socket as a BufferedSocket of <paramref name="bufferSize"/>: the one it connected on the worker's
    /// loop with, else a new one on .NET's engine. Published to the session's abort first, then <see cref="ForgetConnection"/>.
    /// A TCP one closes with a reset unless the server closed first (ServerCloseReset).
    /// </summary>
    public BufferedSocket TakeConnection(int bufferSize)
    {
        var connection = Volatile.Read(ref _attemptOnLoop) ?? new BufferedSocket(TakeConnection(), bufferSize);
        connection.ResetOnClose = connection.Socket.ProtocolType == ProtocolType.Tcp;   // not a UNIX server
        return connection;
    }

    /// <summary>The session owns the connection now: this connector's abort no longer closes it.</summary>
    public void ForgetConnection()
    {
        Volatile.Write(ref _attemptOnLoop, null);
        Volatile.Write(ref _attempt, null);
    }

    /// <summary>Called by the engine's timer: `timeout queue` for a queued request, `timeout connect` for an attempt.</summary>
    public void CheckTimeouts(long now)
    {
        Volatile.Read(ref _queued)?.ExpireIfDue(now);
        long deadline = Volatile.Read(ref _deadline);
        if (deadline != 0 && now >= deadline)
        {
            Volatile.Write(ref _timedOut, 1);
            CloseAttempt();   // fails this attempt only
        }
    }

    /// <summary>The session is closing: a queued request stops waiting, a connect in progress fails.</summary>
    public void Abort()
    {
        Volatile.Read(ref _queued)?.Cancel();
        CloseAttempt();
    }

    /// <summary>Closes the attempt's socket; on the loop, its parked connect fails first (BufferedSocket.Close).</summary>
    private void CloseAttempt()
    {
        // _attempt first: ConnectAsync publishes _attemptOnLoop, then _attempt, so the new _attempt read here (acquire)
        // comes with its _attemptOnLoop, and the parked connect fails before the socket closes. The other order could
        // pair the new socket with the previous attempt's null and dispose it under a parked connect that never wakes.
        var socket = Volatile.Read(ref _attempt);
        Volatile.Read(ref _attemptOnLoop)?.Close();
        socket?.Dispose();
    }

    private void DisposeAttempt()
    {
        Interlocked.Exchange(ref _attemptOnLoop, null)?.Dispose();   // gives its loop registration back too
        if (Interlocked.Exchange(ref _attempt, null) is { } socket) socket.Dispose();
    }
}
