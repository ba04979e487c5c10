using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Proxy.Shared.Config;
using Proxy.Worker.Stats;

using Proxy.Worker.Tls;

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
    private readonly ProxyTransaction _tx;   // the way to the server (permit, connect, retries), the counted server, the log's cause
    private Socket? _server;
    private int _state;
    private int _aborted;
    private int _serverSentFin;                // the server's FIN was read: its connection closes normally (ServerCloseReset)
    // Environment.TickCount64 of the last byte moved on each side, received from it or accepted by it: HAProxy's
    // `timeout client`/`timeout server` apply "when the client [server] is expected to acknowledge or send data".
    private long _clientActivity;
    private long _serverActivity;
    // The backend: the frontend's default, or the one `use_backend` chose (4.2), with its timeouts.
    private BackendRuntime? _be;
    private long _clientTimeoutMs, _serverTimeoutMs;
    // `tcp-request inspect-delay`: the client's first bytes, read before the backend was chosen, sent to the server first.
    private byte[] _inspected = [];
    private int _inspectedLength;

    // :: `option tcplog` (doc/configuration.txt 8.2.2): what the line records, written when the session ends.
    private IPEndPoint? _logClient;
    private long _logStartMs, _logStartUtc;
    private int _logConnectMs = -1;            // Tc: -1 until connected
    private long _logBytesIn, _logBytesOut;    // client to server (dontlognull), server to client (%B)

    internal override FrontendRuntime Frontend => _fe;

    public TcpSession(ProxyEngine engine, FrontendRuntime fe, Socket client) : base(client)
    {
        _engine = engine;
        _fe = fe;
        _client = client;
        _tx = new ProxyTransaction(new ServerConnector(this));
        _be = fe.Backend;
        _clientTimeoutMs = fe.ClientTimeoutMs;
        _serverTimeoutMs = fe.ServerTimeoutMs;
    }

    public override void Execute() => _ = RunAsync();

    /// <summary>Runs the whole session; never throws. Gives the session's place in the engine back at the end.</summary>
    private async Task RunAsync()
    {
        var fe = _fe;
        var be = fe.Backend;
        _engine.RegisterSession(this);
        // :: Step 0: the client's address (an `accept-proxy` listener's PROXY header first); a failed header closes only this connection.
        if (!await AcceptClientAsync(_engine).ConfigureAwait(false) || !await AcceptTlsAsync().ConfigureAwait(false))
        {
            Abort();
            _engine.UnregisterSession(this);
            return;
        }
        long now = Environment.TickCount64;
        _clientActivity = now;
        _serverActivity = now;
        fe.Counters.OpenSession();
        BackendRuntime? opened = null;
        if (fe.TrafficLog is not null) BeginLog(now);
        Samples.ConfigureCaptures(fe.Config);   // `tcp-request content capture` slots (%hr in a log-format)
        try
        {
            // :: Step 0b: `tcp-request content` (4.2) on the client's first bytes, then `use_backend` (4.2): the
            // first rule whose condition holds names the backend, else `default_backend`.
            if (fe.TcpContent is { } content && !await InspectAsync(content).ConfigureAwait(false)) return;
            be = fe.ChooseBackend(Samples, resetScratch: true);
            if (!ReferenceEquals(be, fe.Backend)) (_clientTimeoutMs, _serverTimeoutMs) = fe.TcpTimeoutsFor(be);
            _be = be;
            opened = be;
            be?.Enter();
            // :: Step 0c: the backend's own `tcp-request content` rules (4.2), on the same bytes and more if they wait
            // (under the backend's inspect-delay); a listen section's ran above, as its frontend's.
            if (be is not null && !be.IsSectionOf(fe) && be.TcpContent is { } beContent && !await InspectAsync(beContent, be).ConfigureAwait(false)) return;

            // :: Step 1: choose a server and connect, retrying on failure (`retries`, `option redispatch`).
            if (be is null || !await ConnectAsync(be)) return;
            // The inspected bytes were the client's first: they reach the server before anything relayed.
            if (_inspectedLength > 0)
            {
                if (_serverTls is { } serverTls)
                {
                    if (!await SendInspectedAsync(serverTls).ConfigureAwait(false)) return;
                }
                else
                {
                    using var first = new SocketOperation();
                    if (!await SendAllAsync(_server!, first, _inspected.AsMemory(0, _inspectedLength)).ConfigureAwait(false)) return;
                }
                CountReceived(_inspectedLength, fromClient: true);
            }
            ReleaseInspected();

            // :: Step 2: relay both ways until both directions have ended (FIN) or something aborts. One loop and
            // one reusable operation per direction; the connect's operation carries the client-to-server direction.
            var server = _server!;
            var toServer = new SocketOperation();
            var toClient = new SocketOperation();
            var splice = _engine.Config.Global.NoSplice ? SpliceDirections.None : fe.Config.Splice | be.Config.Splice;
            var tls = Tls;
            // TLS on either side (TcpSession.Tls.cs): streams both ways, the plain side's through a NetworkStream.
            bool streams = tls is not null || _serverTls is not null;
            Stream? clientStream = null, serverStream = null;
            if (streams && !TryOpenStreams(tls, server, out clientStream, out serverStream)) return;
            Task up = streams ? RelayStreamsAsync(clientStream!, serverStream!, server, fromClient: true)
                : RelayAsync(_client, server, toServer, fromClient: true, (splice & SpliceDirections.Request) != 0);
            // :: Step 1b: `tcp-response content` (TcpSession.ResponseInspection.cs) on the server's first bytes.
            if (be.TcpResponse is { } responseRules && !await InspectResponseAsync(responseRules, server, toClient, tls).ConfigureAwait(false))
            {
                Abort();
                await up.ConfigureAwait(false);
                toClient.Dispose();
                toServer.Dispose();
                return;
            }
            Task down = streams ? RelayStreamsAsync(serverStream!, clientStream!, _client, fromClient: false)
                : RelayAsync(server, _client, toClient, fromClient: false, (splice & SpliceDirections.Response) != 0);
            await up.ConfigureAwait(false);
            await down.ConfigureAwait(false);
            // Both operations have completed: safe to release them (a plain side's NetworkStream owns no socket).
            toClient.Dispose();
            toServer.Dispose();
            if (clientStream is NetworkStream plainClient) plainClient.Dispose();
            if (serverStream is NetworkStream plainServer) plainServer.Dispose();
        }
        catch (Exception e)
        {
            _engine.Log.Error(e, "tcp session on frontend {0} failed unexpectedly", fe.Config.Name);
        }
        finally
        {
            Abort();
            if (Tls is { } tls)
            {
                tls.Dispose();   // every operation on it has completed
                TlsCounters.Closed(fe);
            }
            DisposeServerTls();
            // Logged before the counters drop, so the line's connection counts include this session (as HAProxy's).
            if (fe.TrafficLog is { } traffic) WriteLog(traffic);
            CountTimes();
            if (_tx.Server is { } srv && Volatile.Read(ref _state) == StateForwarding) srv.Counters.CloseSession();
            Volatile.Write(ref _state, StateClosed);
            _tx.Connector.ReleasePermit();
            ReleaseInspected();
            opened?.Leave();
            fe.Counters.CloseSession();
            _engine.UnregisterSession(this);
        }
    }

    /// <summary>
    /// `tcp-request content` rules (4.2): run on what the client has sent, reading more while a rule needs bytes that
    /// have not come, until the buffer (tune.bufsize) is full, the client shuts its side, or `tcp-request inspect-delay`
    /// has passed since the connection was accepted; then the rules decide on what is there, as HAProxy's. The bytes
    /// are kept for the server. False: a rule rejected the connection (closed, logged PR), or the client's socket failed.
    /// A TLS client connection (`bind ... ssl`) is not read here: its rules see no payload. <paramref name="be"/>: the
    /// rules are that backend's, their delay counted from when it was chosen, a rejection counted denied there too.
    /// </summary>
    private async ValueTask<bool> InspectAsync(TcpContentRuntime rules, BackendRuntime? be = null)
    {
        var samples = Samples;
        int next = 0;
        bool final = rules.InspectDelayMs <= 0 || Tls is not null;
        long deadline = Environment.TickCount64 + rules.InspectDelayMs;
        // The backend's rules go on with what the frontend's already read (the buffer is rented once).
        if (!final && _inspected.Length == 0) _inspected = ArrayPool<byte>.Shared.Rent(_engine.BufferSize);
        while (true)
        {
            final |= _inspectedLength == _inspected.Length;
            samples.SetPayload(_inspected, _inspectedLength, final);
            var verdict = rules.Run(samples, ref next);
            if (verdict == TcpContentVerdict.Accept) return true;
            if (verdict == TcpContentVerdict.Reject)
            {
                // 4.2 "tcp-request content reject": closed at once; HAProxy counts it denied and logs PR.
                ProxyCounters.Increment(ref _fe.Counters.dreq);
                if (be is not null) ProxyCounters.Increment(ref be.Counters.dreq);
                _tx.SetCause('P', 'R');
                return false;
            }
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                final = true;
                continue;
            }
            // The wait is bounded by the delay itself; a cancelled receive leaves the socket usable.
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(left));
            try
            {
                int n = await _client.ReceiveAsync(_inspected.AsMemory(_inspectedLength), SocketFlags.None, cts.Token).ConfigureAwait(false);
                if (n == 0) final = true;   // the client shut its side: nothing more will come
                _inspectedLength += n;
                _clientActivity = Environment.TickCount64;
            }
            catch (OperationCanceledException)
            {
                final = true;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _tx.SetCause('C', 'R');
                return false;
            }
        }
    }

    private void ReleaseInspected()
    {
        Samples.SetPayload([], 0, final: true);
        if (_inspected.Length > 0) ArrayPool<byte>.Shared.Return(_inspected);
        _inspected = [];
        _inspectedLength = 0;
    }

    /// <summary>
    /// Connects to a server of <paramref name="be"/> (ServerConnector: a `maxconn` permit, waiting in the backend queue
    /// when every server is full, then `retries` and `option redispatch`); false when every attempt failed, none is
    /// usable, or `timeout queue` expired (closed, sQ).
    /// </summary>
    private async ValueTask<bool> ConnectAsync(BackendRuntime be)
    {
        var connector = _tx.Connector;
        // `use-server`, `force-persist` / `ignore-persist` (4.2) work in mode tcp too, on layer-4 facts (worker/Persistence).
        ServerRuntime? assigned = null;
        bool forced = false;
        if (be.Persistence is { } persistence)
        {
            forced = persistence.EvaluatePersistRules(Samples) > 0;
            assigned = persistence.EvaluateUseServer(Samples, forced || persistence.Persist);
        }
        // `persist rdp-cookie` (4.2) then `stick match` (HAProxy's analyser order), when `use-server` chose nothing.
        var payload = _inspected.AsSpan(0, _inspectedLength);
        if (be.RdpPersistence is { } rdp && assigned is null) assigned = rdp.Find(payload);
        if (be.StickRules is { } stick && assigned is null) assigned = stick.Match(Samples, forced);
        var srv = await connector.AcquirePermitAsync(be, ClientEndPoint, null, assigned, _inspected.AsSpan(0, _inspectedLength)).ConfigureAwait(false);
        var result = await connector.ConnectAsync(be, srv, ClientEndPoint, null, forced).ConfigureAwait(false);
        if (result == ServerConnector.Result.NoServer) _tx.SetCause('S', 'C');
        else if (result == ServerConnector.Result.Failed) _tx.SetCause(connector.ConnectTimedOut ? 's' : 'S', 'C');   // 8.5: sC connect timeout, SC refused
        if (result != ServerConnector.Result.Connected) return false;
        // Published to Abort before the connector lets go of it, so an abort in between still closes it.
        Volatile.Write(ref _server, connector.TakeConnection());
        connector.ForgetConnection();
        srv = connector.Server!;
        // `server ... ssl`: the handshake completes the connect (Tc includes it, as HAProxy's; a failure is SC).
        if (srv.Config.Tls is not null && !await ServerHandshakeAsync(be, srv, _server!).ConfigureAwait(false)) return false;
        _logConnectMs = (int)(Environment.TickCount64 - connector.StartedMs);
        _tx.Server = srv;
        srv.Counters.OpenSession();
        // `stick on|store-request|store-response` (4.2): the server connected to (after any redispatch); a response
        // rule sees what a tcp connection has then (its layer-4 samples; no response payload yet).
        if (be.StickRules is { } stickStore)
        {
            stickStore.Store(Samples, srv, response: false);
            stickStore.Store(Samples, srv, response: true);
        }
        long now = Environment.TickCount64;
        _clientActivity = now;
        _serverActivity = now;
        Volatile.Write(ref _state, StateForwarding);
        return true;
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
                    if (n == 0)
                    {
                        eof = true;
                        if (!fromClient) Volatile.Write(ref _serverSentFin, 1);
                        break;
                    }
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
                if (n == 0)   // FIN from this side
                {
                    eof = true;
                    if (!fromClient) Volatile.Write(ref _serverSentFin, 1);
                    break;
                }
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
        var be = _be!;
        var srv = _tx.Server!;
        long now = Environment.TickCount64;
        if (fromClient)
        {
            _clientActivity = now;
            _logBytesIn += n;
            Samples.Tracker?.CountBytes(n, 0, now);   // the tracked entries' bytes_in_cnt|rate
            ProxyCounters.Add(ref fe.Counters.bin, n);
            ProxyCounters.Add(ref be.Counters.bin, n);
            ProxyCounters.Add(ref srv.Counters.bin, n);
        }
        else
        {
            _serverActivity = now;
            _logBytesOut += n;
            Samples.Tracker?.CountBytes(0, n, now);
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
        var be = _be!;
        var srv = _tx.Server!;
        _tx.SetCause(clientSide ? 'C' : 'S', 'D');   // 8.5: CD / SD, a side aborted while data flowed
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
        _tx.Connector.Abort();
        CloseSockets();
    }

    internal override bool IsAborted => Volatile.Read(ref _aborted) != 0;

    private void CloseSockets()
    {
        _client.Dispose();
        if (Volatile.Read(ref _server) is { } server)
        {
            // Closed before the server's FIN: a reset, as HAProxy's server connections (ServerCloseReset).
            if (Volatile.Read(ref _serverSentFin) == 0 && server.ProtocolType == ProtocolType.Tcp) ServerCloseReset.Arm(server);
            server.Dispose();
        }
    }

    /// <summary>
    /// Called by the engine's timer: enforces `timeout connect` on a connect in progress, and the inactivity
    /// timeouts (`timeout client`, `timeout server`, or `timeout tunnel`) once forwarding; expiry closes both sides.
    /// </summary>
    internal override void CheckTimeouts(long now)
    {
        if (CheckHandshakeTimeout(now)) return;   // `timeout client` for an `accept-proxy` header
        _tx.Connector.CheckTimeouts(now);   // `timeout queue` while waiting for a permit, `timeout connect` while connecting
        if (Volatile.Read(ref _state) == StateForwarding)
        {
            long client = _clientTimeoutMs, server = _serverTimeoutMs;
            if (client > 0 && now - Volatile.Read(ref _clientActivity) >= client)
            {
                _tx.SetCause('c', 'D');   // 8.5: cD, `timeout client` while forwarding
                Abort();
            }
            else if (server > 0 && now - Volatile.Read(ref _serverActivity) >= server)
            {
                _tx.SetCause('s', 'D');   // sD, `timeout server`
                Abort();
            }
        }
        // `option abortonclose` (4.2): a client that closed while the backend's queue or connect held it (CQ, CC).
        else if (Volatile.Read(ref _state) == StateConnecting && _be is { Config.AbortOnClose: true } && Volatile.Read(ref _aborted) == 0
                 && ClientCloseWatch.HasClosed(_client))
        {
            _tx.SetCause('C', ClientCloseWatch.Phase(_tx.Connector));
            Abort();
        }
    }
}
