using System.Buffers;
using System.Net.Sockets;
using Proxy.Shared.Config;
using Proxy.Worker.Balancing;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// One `mode tcp` client connection: picks a server, connects (with retries and redispatch), then relays both
/// directions, each through one buffer rented while data moves, with half-close. Timeouts are enforced from outside by the
/// engine's coarse timer (<see cref="CheckTimeouts"/>), so the session owns no timer.
/// </summary>
internal sealed partial class TcpSession : ProxySession
{
    private const int StateConnecting = 0, StateForwarding = 1, StateClosed = 2;

    private readonly ProxyEngine _engine;
    private readonly FrontendRuntime _fe;
    private readonly Socket _client;
    private Socket? _server;
    private ServerRuntime? _srv;
    private ServerRuntime? _slot;            // server whose `maxconn` slot this session holds (BackendQueue)
    private SocketOperation? _serverSend;   // connects, then sends to the server
    private int _state;
    private int _aborted;
    // Environment.TickCount64 of the last byte moved on each side, received from it or accepted by it: HAProxy's
    // `timeout client`/`timeout server` apply "when the client [server] is expected to acknowledge or send data".
    private long _clientActivity;
    private long _serverActivity;
    private long _connectDeadline;    // 0: no connect in progress or no `timeout connect`

    internal override FrontendRuntime Frontend => _fe;

    public TcpSession(ProxyEngine engine, FrontendRuntime fe, Socket client)
    {
        _engine = engine;
        _fe = fe;
        _client = client;
    }

    public override void Execute() => _ = RunAsync();

    /// <summary>Runs the whole session; never throws. Releases the engine's slot at the end.</summary>
    private async Task RunAsync()
    {
        var fe = _fe;
        var be = fe.Backend;
        long now = Environment.TickCount64;
        _clientActivity = now;
        _serverActivity = now;
        _engine.RegisterSession(this);
        fe.Counters.OpenSession();
        be?.Counters.OpenSession();
        if (fe.TrafficLog is not null) BeginLog(now);
        try
        {
            // :: Step 1: choose a server and connect, retrying on failure (`retries`, `option redispatch`).
            if (be is null || !await ConnectAsync(be))
            {
                _serverSend?.Dispose();   // its last connect has completed
                return;
            }

            // :: Step 2: relay both ways until both directions have ended (FIN) or something aborts. One loop and
            // one reusable operation per direction; the connect's operation carries the client-to-server direction.
            var server = _server!;
            var toClient = new SocketOperation();
            var splice = _engine.Config.Global.NoSplice ? SpliceDirections.None : fe.Config.Splice | be.Config.Splice;
            Task up = RelayAsync(_client, server, _serverSend!, fromClient: true, (splice & SpliceDirections.Request) != 0);
            Task down = RelayAsync(server, _client, toClient, fromClient: false, (splice & SpliceDirections.Response) != 0);
            await up.ConfigureAwait(false);
            await down.ConfigureAwait(false);
            // Both operations have completed: safe to release them.
            toClient.Dispose();
            _serverSend!.Dispose();
        }
        catch (Exception e)
        {
            _engine.Log.Error(e, "tcp session on frontend {0} failed unexpectedly", fe.Config.Name);
        }
        finally
        {
            Abort();
            // Logged before the counters drop, so the line's connection counts include this session (as HAProxy's).
            if (fe.TrafficLog is { } traffic) WriteLog(traffic);
            CountTimes();
            if (_srv is { } srv && Volatile.Read(ref _state) == StateForwarding) srv.Counters.CloseSession();
            Volatile.Write(ref _state, StateClosed);
            if (_slot is { } held) { _slot = null; be!.Queue.Release(held); }
            be?.Counters.CloseSession();
            fe.Counters.CloseSession();
            _engine.UnregisterSession(this);
        }
    }

    /// <summary>
    /// Connects to a server of <paramref name="be"/>, first waiting in the backend queue when every server is at its
    /// `maxconn`; returns false when every attempt failed, none is usable, or `timeout queue` expired (closed, sQ).
    /// </summary>
    private async ValueTask<bool> ConnectAsync(BackendRuntime be)
    {
        int retries = be.Config.Retries;
        var srv = await be.Queue.AcquireAsync(_client, null, this).ConfigureAwait(false);
        _slot = srv;
        for (int attempt = 0; ; attempt++)
        {
            if (srv is null)
            {
                // No usable server, or the queue timed out: counted on the backend only, like HAProxy's econ
                // "not associated with a server".
                ProxyCounters.Increment(ref be.Counters.econ);
                SetLogCause('S', 'C');
                return false;
            }
            if (attempt == 0) _logConnectStart = Environment.TickCount64;
            var socket = new Socket(srv.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.NoDelay = true;
            Volatile.Write(ref _server, socket);
            long timeout = _fe.ConnectTimeoutMs;
            Volatile.Write(ref _connectTimedOut, 0);   // the log's sC / SC is about the last attempt
            Volatile.Write(ref _connectDeadline, timeout > 0 ? Environment.TickCount64 + timeout : 0);
            if (Volatile.Read(ref _aborted) != 0) { socket.Dispose(); return false; }

            _serverSend ??= new SocketOperation();
            SocketError error = await _serverSend.ConnectAsync(socket, srv.EndPoint).ConfigureAwait(false);
            Volatile.Write(ref _connectDeadline, 0);
            if (error == SocketError.Success && Volatile.Read(ref _aborted) == 0)
            {
                srv.Passive.Report(Health.PassiveEvent.L4Ok);   // `observe layer4`
                _logConnectMs = (int)(Environment.TickCount64 - _logConnectStart);
                _srv = srv;
                srv.Counters.OpenSession();
                long now = Environment.TickCount64;
                _clientActivity = now;
                _serverActivity = now;
                Volatile.Write(ref _state, StateForwarding);
                return true;
            }
            socket.Dispose();
            if (error != SocketError.Success) srv.Passive.Report(Health.PassiveEvent.L4Error);   // each failed attempt, as HAProxy
            if (attempt >= retries || Volatile.Read(ref _aborted) != 0)
            {
                ProxyCounters.Increment(ref srv.Counters.econ);
                ProxyCounters.Increment(ref be.Counters.econ);
                _logServer = srv;
                SetLogCause(Volatile.Read(ref _connectTimedOut) != 0 ? 's' : 'S', 'C');   // 8.5: sC connect timeout, SC refused
                return false;
            }
            _logRetries++;
            ProxyCounters.Increment(ref srv.Counters.wretr);
            ProxyCounters.Increment(ref be.Counters.wretr);
            // `option redispatch` without interval redispatches on the last retry only (HAProxy's default -1).
            // The slot moves with it; with no other server free, the retry stays on this one.
            if (be.Config.Redispatch && attempt + 1 == retries && be.Queue.TryAcquireOther(_client, null, srv) is { } other)
            {
                be.Queue.Release(srv);
                _slot = other;
                ProxyCounters.Increment(ref other.Counters.wredis);
                ProxyCounters.Increment(ref be.Counters.wredis);
                srv = other;
                _logRedispatched = true;
            }
        }
    }

    /// <summary>
    /// Moves bytes from <paramref name="source"/> to <paramref name="destination"/> until FIN, which it relays as a
    /// half-close (shutdown of sending on the destination), or an error, which aborts the session. Reads and sends
    /// alternate through one buffer, as HAProxy's one buffer per direction: while a send waits for the destination,
    /// the kernel's receive buffer keeps accepting from the source, and a slow destination slows the source down
    /// through TCP's window. The buffer is rented only while data moves: an idle direction waits with a zero-byte
    /// receive and holds none (Kestrel's WaitForDataBeforeAllocatingBuffer).
    /// </summary>
    /// <remarks>
    /// Measured against the previous design (two System.IO.Pipelines pipes and four loops per session, a receive
    /// could run ahead of a pending send): see perf/results for the figures; a pipe per direction cost memory per
    /// session and a pipe hand-off per buffer, and bought no throughput that the kernel's socket buffers do not give.
    /// </remarks>
    /// <param name="splice">
    /// `option splice-*` for this direction: once a read fills the buffer (bulk data, HAProxy's splice-auto
    /// heuristic), the bytes move in the kernel (<see cref="SpliceRelay"/>) until a short read says the source is drained.
    /// </param>
    private async Task RelayAsync(Socket source, Socket destination, SocketOperation op, bool fromClient, bool splice)
    {
        int bufferSize = _engine.BufferSize;
        byte[] buffer = [];
        bool waitFirst = true, eof = false;
        try
        {
            while (true)
            {
                SocketError error;
                if (waitFirst)
                {
                    if (buffer.Length > 0)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = [];
                    }
                    error = await op.ReceiveAsync(source, Memory<byte>.Empty).ConfigureAwait(false);
                    if (error != SocketError.Success) { OnIoError(fromClient, receiving: true); break; }
                }
                int n;
                if (splice && !waitFirst)
                {
                    n = SpliceRelay.Move(source, destination, ref buffer, out int spilled);
                    if (n == SpliceRelay.WouldBlock) { waitFirst = true; continue; }
                    if (n == SpliceRelay.Failed) { OnIoError(fromClient, receiving: true); break; }
                    if (n == 0) { eof = true; break; }
                    waitFirst = n < bufferSize;
                    CountReceived(n, fromClient);
                    if (spilled > 0 && !await SendAllAsync(destination, op, buffer.AsMemory(0, spilled)).ConfigureAwait(false))
                    {
                        OnIoError(!fromClient, receiving: false);
                        break;
                    }
                    if (fromClient) _serverActivity = Environment.TickCount64;
                    else _clientActivity = Environment.TickCount64;
                    continue;
                }
                if (buffer.Length == 0) buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
                error = await op.ReceiveAsync(source, buffer).ConfigureAwait(false);
                if (error != SocketError.Success) { OnIoError(fromClient, receiving: true); break; }
                n = op.BytesTransferred;
                if (n == 0) { eof = true; break; }   // FIN from this side
                // A read that filled the buffer means more is probably queued: skip the zero-byte wait (one syscall
                // fewer per buffer in bulk transfers); a short read means the socket is drained, so wait first again.
                waitFirst = n < buffer.Length;
                CountReceived(n, fromClient);
                if (!await SendAllAsync(destination, op, buffer.AsMemory(0, n)).ConfigureAwait(false))
                {
                    OnIoError(!fromClient, receiving: false);
                    break;
                }
                if (fromClient) _serverActivity = Environment.TickCount64;
                else _clientActivity = Environment.TickCount64;
            }
            if (eof && Volatile.Read(ref _aborted) == 0) ShutdownSend(destination);
        }
        finally
        {
            // No operation of this direction is pending any more (each await above has completed).
            if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Counts bytes received from one side (bin from the client, bout from the server) and its activity.</summary>
    private void CountReceived(int n, bool fromClient)
    {
        var fe = _fe;
        var be = fe.Backend!;
        var srv = _srv!;
        long now = Environment.TickCount64;
        if (fromClient)
        {
            _clientActivity = now;
            _logBytesIn += n;
            ProxyCounters.Add(ref fe.Counters.bin, n);
            ProxyCounters.Add(ref be.Counters.bin, n);
            ProxyCounters.Add(ref srv.Counters.bin, n);
        }
        else
        {
            _serverActivity = now;
            _logBytesOut += n;
            ProxyCounters.Add(ref fe.Counters.bout, n);
            ProxyCounters.Add(ref be.Counters.bout, n);
            ProxyCounters.Add(ref srv.Counters.bout, n);
        }
    }

    /// <summary>Sends all of <paramref name="data"/>; false on any socket error.</summary>
    private static async ValueTask<bool> SendAllAsync(Socket destination, SocketOperation op, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (await op.SendAsync(destination, data).ConfigureAwait(false) != SocketError.Success) return false;
            data = data.Slice(op.BytesTransferred);
        }
        return true;
    }

    /// <summary>Relays a FIN: shuts down sending on <paramref name="socket"/>; a peer already gone is not an error here.</summary>
    private static void ShutdownSend(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // reset or aborted meanwhile: the receive side reports it
        }
    }

    /// <summary>Counts an I/O failure on one side (cli_abrt / srv_abrt, eresp for a broken server read) and aborts.</summary>
    private void OnIoError(bool clientSide, bool receiving)
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0) return;   // consequence of an earlier abort
        var fe = _fe;
        var be = fe.Backend!;
        var srv = _srv!;
        SetLogCause(clientSide ? 'C' : 'S', 'D');   // 8.5: CD / SD, a side aborted while data flowed
        if (clientSide)
        {
            ProxyCounters.Increment(ref fe.Counters.cliAbrt);
            ProxyCounters.Increment(ref be.Counters.cliAbrt);
            ProxyCounters.Increment(ref srv.Counters.cliAbrt);
        }
        else
        {
            ProxyCounters.Increment(ref be.Counters.srvAbrt);
            ProxyCounters.Increment(ref srv.Counters.srvAbrt);
            if (receiving)
            {
                ProxyCounters.Increment(ref be.Counters.eresp);
                ProxyCounters.Increment(ref srv.Counters.eresp);
            }
        }
        CloseSockets();
    }

    /// <summary>Closes both sides now; pending operations complete with errors and every loop ends. Idempotent.</summary>
    internal override void Abort()
    {
        Interlocked.Exchange(ref _aborted, 1);
        CancelQueued();
        CloseSockets();
    }

    internal override bool IsAborted => Volatile.Read(ref _aborted) != 0;

    private void CloseSockets()
    {
        _client.Dispose();
        Volatile.Read(ref _server)?.Dispose();
    }

    /// <summary>
    /// Called by the engine's timer: enforces `timeout connect` on a connect in progress, and the inactivity
    /// timeouts (`timeout client`, `timeout server`, or `timeout tunnel`) once forwarding; expiry closes both sides.
    /// </summary>
    internal override void CheckTimeouts(long now)
    {
        CheckQueue(now);   // `timeout queue` while waiting for a server slot
        int state = Volatile.Read(ref _state);
        if (state == StateConnecting)
        {
            long deadline = Volatile.Read(ref _connectDeadline);
            if (deadline != 0 && now >= deadline)
            {
                Volatile.Write(ref _connectTimedOut, 1);
                Volatile.Read(ref _server)?.Dispose();   // fails this attempt only
            }
        }
        else if (state == StateForwarding)
        {
            long client = _fe.ClientTimeoutMs, server = _fe.ServerTimeoutMs;
            if (client > 0 && now - Volatile.Read(ref _clientActivity) >= client)
            {
                SetLogCause('c', 'D');   // 8.5: cD, `timeout client` while forwarding
                Abort();
            }
            else if (server > 0 && now - Volatile.Read(ref _serverActivity) >= server)
            {
                SetLogCause('s', 'D');   // sD, `timeout server`
                Abort();
            }
        }
    }
}
