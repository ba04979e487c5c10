using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Worker.ProxyProtocol;
using Proxy.Worker.Io;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// What the engine needs from a client connection, whatever its mode: a place in the session table the
/// coarse timer scans (<see cref="CheckTimeouts"/>), its frontend (for its connection permit) and a way to abort it.
/// It also holds the client's addresses as every part of a session sees them (logs, `src` ACLs, `option forwardfor`,
/// `balance source`, `send-proxy`): the socket's, or on an `accept-proxy` listener the PROXY header's.
/// </summary>
internal abstract partial class ProxySession : IThreadPoolWorkItem
{
    internal int SessionIndex = -1;   // index in the engine's session table

    private Socket _clientSocket;
    private IPEndPoint? _frontendEndPoint;
    private long _handshakeDeadline;      // `timeout client` for the PROXY header (TickCount64); 0: none pending
    private int _handshakeTimedOut;

    protected ProxySession(Socket client)
    {
        _clientSocket = client;
    }

    /// <summary>
    /// Makes a session that served a connection (HttpSessionPool) the session of <paramref name="client"/>, accepted now;
    /// the caller resets the rest with <see cref="ClearConnection"/>.
    /// </summary>
    protected void BeginConnection(Socket client)
    {
        _clientSocket = client;
        AcceptedMs = LoopClock.Milliseconds;
    }

    /// <summary>Every per-connection field back to the constructor's value, but the client's socket and accept time (<see cref="BeginConnection"/>), the sample context reset.</summary>
    protected void ClearConnection()
    {
        SessionIndex = -1;
        _frontendEndPoint = null;
        _handshakeDeadline = 0;
        _handshakeTimedOut = 0;
        Listener = null;
        ListenerId = 0;
        ClientEndPoint = null;
        ProxyAuthority = null;
        ClientOnDotNetEngine = false;
        Tls = null;
        Samples.BeginSession();
    }

    internal abstract FrontendRuntime Frontend { get; }

    /// <summary>
    /// What sample expressions (ACLs, rules, log formats) read on this connection, and their scratch space: one per
    /// session, reused by every request on it (Proxy.Worker.Samples).
    /// </summary>
    internal Samples.SampleContext Samples { get; } = new();

    /// <summary>The listener the connection came in on (set by the engine before <see cref="Execute"/>).</summary>
    internal BoundListener? Listener { get; set; }

    /// <summary>HAProxy's listener id within its frontend (1-based, in `bind` order), for the log of a failed PROXY header.</summary>
    internal int ListenerId { get; set; }

    /// <summary>The client: the socket's peer, or the PROXY header's source (read once, when the session starts).</summary>
    internal IPEndPoint? ClientEndPoint { get; private set; }

    /// <summary>The address the client connected to: the PROXY header's destination, else the socket's own (read when first asked).</summary>
    /// `set-dst|set-dst-port` (4.2) rewrite it for the rest of the session: rules, logs and the server connection see theirs.
    /// A `tcp-request connection` one runs before the PROXY header is read, so the header's destination replaces it
    /// (<see cref="AcceptClientAsync"/>); a later one (session, content, http-request) wins over the header.
    internal IPEndPoint? FrontendEndPoint => Samples.Destination ?? (_frontendEndPoint ??= Listener?.FixedLocalEndPoint ?? LocalEndPointOf(_clientSocket));

    /// <summary>The client's PROXY v2 authority TLV, passed on by `proxy-v2-options authority`; null when it sent none.</summary>
    internal byte[]? ProxyAuthority { get; private set; }

    /// <summary>Closes everything now; pending operations complete with errors. Idempotent.</summary>
    internal abstract void Abort();

    /// <summary>True once <see cref="Abort"/> (or an I/O failure) has started closing the session.</summary>
    internal abstract bool IsAborted { get; }

    /// <summary>Called by the engine's timer with Environment.TickCount64; never blocks, never does I/O but closing.</summary>
    internal abstract void CheckTimeouts(long now);

    public abstract void Execute();

    /// <summary>
    /// The client socket went through .NET's socket engine (the `accept-proxy` header): it may not move to the
    /// worker's own loop (worker/Io), a socket lives in exactly one engine.
    /// </summary>
    protected bool ClientOnDotNetEngine { get; private set; }

    /// <summary>
    /// Learns the client's address: on an `accept-proxy` listener from the PROXY header, read before anything else under
    /// `timeout client` (HAProxy's embryonic session, whose task expires at the frontend's client timeout); else from
    /// the socket. Returns false when the header failed: the failure is counted (the frontend's ereq, the column HAProxy's
    /// stats have for errors on the client's side) and logged as HAProxy logs it; the caller then only closes.
    /// </summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    protected async ValueTask<bool> AcceptClientAsync(ProxyEngine engine)
    {
        var fe = Frontend;
        var peer = RemoteEndPointOf(_clientSocket);
        // `accept-proxy` on the bind, or a `tcp-request connection expect-proxy layer4 if|unless COND` holding for the
        // connection's own source address (4.2), evaluated before any byte is read.
        var samples = Samples;
        samples.Client = peer;
        samples.Tls = null;   // set once the handshake is done (`bind ... ssl`)
        samples.FrontendName = fe.NameBytes;
        samples.Local = FrontendEndPoint;
        if (fe.RejectsConnection(samples, out bool silentDrop))
        {
            // `tcp-request connection reject`: closed, not logged. `silent-drop`: closed without FIN, a denied
            // request for HAProxy's counters (tcp_exec_action_silent_drop counts denied_req).
            if (silentDrop)
            {
                Stats.ProxyCounters.Increment(ref fe.Counters.dreq);
                SilentDrop.Close(_clientSocket);
            }
            return false;
        }
        bool expectProxy = Listener?.Bind.AcceptProxy == true || fe.ExpectsProxyHeader(samples);
        samples.ResetScratch();
        if (!expectProxy)
        {
            ClientEndPoint = peer;
            fe.RunSessionRules(samples);
            return true;
        }
        long timeout = fe.HttpClientTimeoutMs;   // `timeout client` itself (not tunnel)
        // No `timeout client`: the header may take forever, as in HAProxy; the deadline still marks the wait.
        Volatile.Write(ref _handshakeDeadline, timeout > 0 ? Environment.TickCount64 + timeout : long.MaxValue);
        ProxyHandshake result;
        ClientOnDotNetEngine = true;   // the header is read through .NET's socket engine: the socket stays there
        try
        {
            result = await ProxyHeaderReceiver.ReceiveAsync(_clientSocket, engine.BufferSize).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _handshakeDeadline, 0);
        }
        var error = result.Error;
        if (error != ProxyHandshakeError.None && Volatile.Read(ref _handshakeTimedOut) != 0) error = ProxyHandshakeError.Timeout;
        if (error == ProxyHandshakeError.None)
        {
            if (result.Local)
            {
                ClientEndPoint = peer;   // LOCAL / UNKNOWN: the connection's own addresses
            }
            else
            {
                ClientEndPoint = result.Source;
                _frontendEndPoint = result.Destination;
                samples.ForgetDestination();   // a connection-level set-dst ran before the header: the header wins
                samples.Local = FrontendEndPoint;
            }
            ProxyAuthority = result.Authority;
            samples.Client = ClientEndPoint;
            samples.ResetScratch();
            fe.RunSessionRules(samples);
            return true;
        }
        Stats.ProxyCounters.Increment(ref fe.Counters.ereq);
        if (fe.TrafficLog is { } log
            && !(fe.Config.DontLogNull && error is ProxyHandshakeError.Empty or ProxyHandshakeError.Abort))   // as HAProxy's session_kill_embryonic
        {
            log.LogConnectionError(fe, peer, ListenerId, ProxyHeaderReceiver.Message(error));
        }
        return false;
    }

    /// <summary>Part of <see cref="CheckTimeouts"/>: true while the PROXY header is awaited (then nothing else is timed), closing the client when `timeout client` is past.</summary>
    protected bool CheckHandshakeTimeout(long now)
    {
        long deadline = Volatile.Read(ref _handshakeDeadline);
        if (deadline == 0) return false;
        if (now >= deadline)
        {
            Volatile.Write(ref _handshakeTimedOut, 1);
            Abort();
        }
        return true;
    }

    private static IPEndPoint? RemoteEndPointOf(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint as IPEndPoint;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;   // reset already
        }
    }

    private static IPEndPoint? LocalEndPointOf(Socket socket)
    {
        try
        {
            return socket.LocalEndPoint as IPEndPoint;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }
}
