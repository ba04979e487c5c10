using System.Net;
using System.Runtime.CompilerServices;
using Proxy.Worker.Http;
using Proxy.Worker.Stats;
using Proxy.Worker.Tls;
using Proxy.Worker.Io;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// The server side of an http session: the connection of the request in progress, or the idle one the session keeps
/// for its next request, and the server it goes to. A request gets one from <see cref="AcquireAsync"/>: its own idle
/// connection when the balancer picked that server again, else (as the backend's `http-reuse` allows: by default not
/// for a session's first request) an idle one from the server's pool (ServerConnectionPool), else a new one through the
/// transaction's <see cref="ServerConnector"/>. The session's timer and abort read <see cref="Connection"/>.
/// </summary>
internal sealed class HttpServerConnection(int bufferSize) : IDisposable
{
    private int _bufferSize = bufferSize;   // tune.bufsize, each connection's receive buffer
    private BufferedSocket? _connection;
    private ServerRuntime? _owner;   // the server _connection goes to

    /// <summary>The current connection (in use, or idle and kept), or null.</summary>
    public BufferedSocket? Connection => Volatile.Read(ref _connection);

    /// <summary>The connection is idle, its last response fully read: it may serve the session's next request.</summary>
    public bool Idle;

    private bool _unshared;   // `http-reuse never`: the idle connection is closed, never given to the pool

    /// <summary>
    /// Makes <see cref="Connection"/> a connection to a server of <paramref name="be"/> for the request of
    /// <paramref name="tx"/>. The request first takes a `maxconn` permit (waiting in the backend queue when every
    /// server is full). <paramref name="fresh"/> forces a new connection to <paramref name="fresh"/>, keeping its
    /// permit (a reused one failed before any response byte). Returns whether the connection was reused, or null
    /// when no server could be reached (after `timeout queue` too: 503), the termination state recorded.
    /// <paramref name="firstRequest"/>: the session's first request, which `http-reuse` (4.2) may keep from the pool.
    /// </summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    public async ValueTask<bool?> AcquireAsync(HttpTransaction tx, BackendRuntime be, ServerRuntime? fresh, IPEndPoint? client,
        HttpHead request, bool firstRequest)
    {
        var reuse = be.Config.HttpReuse;
        _unshared = reuse == Shared.Config.HttpReuseMode.Never;
        var connector = tx.Connector;
        var srv = fresh;
        if (fresh is null)
        {
            // A connection that offered NTLM/Negotiate keeps its session on its server while that server is usable
            // (HAProxy's SESS_FL_PREFER_LAST in assign_server); persistence still comes first.
            var assigned = tx.Persistence.Assigned
                ?? (Connection is { Private: true } && _owner is { IsUsable: true } last && last.Backend == be ? last : null);
            srv = await connector.AcquirePermitAsync(be, client, request, assigned).ConfigureAwait(false);
            if (srv is not null)
            {
                if (Connection is { } own)
                {
                    // A request without a body is retried once on a new connection when a reused one fails before any
                    // response byte (HttpSession.Exchange.cs), so the session's own connection needs no poll(2) for it:
                    // one syscall per keep-alive request fewer (strace, perf/README.md; HAProxy polls none).
                    bool mustPoll = request.BodyFraming != HttpBodyFraming.None;
                    if (_owner == srv && own.IsIdleAlive(poll: mustPoll)) return Attach(tx, srv, reused: true);
                    ReleaseIdle();
                }
                // A connection that began with a PROXY header carries its client's address: it is the session's alone,
                // never pooled nor taken from the pool (HAProxy marks such server connections private).
                if (MayTake(reuse, firstRequest, out bool provenOnly) && !IsPrivate(srv) && srv.Pool.TryTake(provenOnly) is { } pooled)
                {
                    Volatile.Write(ref _connection, pooled);
                    _owner = srv;
                    return Attach(tx, srv, reused: true);
                }
            }
        }
        Drop();
        var result = await connector.ConnectAsync(be, srv, client, request, tx.Persistence.Forced, loopBufferSize: _bufferSize).ConfigureAwait(false);
        switch (result)
        {
            case ServerConnector.Result.Connected:
                // Published to the session's abort before the connector lets go of it, so an abort in between still closes it.
                var connection = connector.TakeConnection(_bufferSize);   // plain servers: on the worker's loop (worker/Io)
                Volatile.Write(ref _connection, connection);
                connector.ForgetConnection();
                _owner = connector.Server;
                // `server ... ssl` (5.2): the TLS handshake completes the connect, under `timeout connect`; a failure
                // is a failed connect (econ, 503 as HAProxy's SC).
                if (connector.Server!.Config.Tls is not null
                    && await TlsServerContext.For(connector.Server.Config).HandshakeAsync(connection, request, be.ConnectTimeoutMs).ConfigureAwait(false) is var outcome
                    && outcome != TlsServerContext.HandshakeOutcome.Done)
                {
                    ProxyCounters.Increment(ref connector.Server.Counters.econ);
                    ProxyCounters.Increment(ref be.Counters.econ);
                    Drop();
                    tx.SetCause(outcome == TlsServerContext.HandshakeOutcome.TimedOut ? 's' : 'S', 'C');   // sC: the handshake outlived `timeout connect`
                    return null;
                }
                return Attach(tx, connector.Server!, reused: false);
            case ServerConnector.Result.NoServer:
                tx.SetCause('S', 'C');   // no usable server (or `timeout queue`): HAProxy's 503
                return null;
            case ServerConnector.Result.Failed:
                tx.SetCause(connector.ConnectTimedOut ? 's' : 'S', 'C');   // 8.5: sC connect timeout, SC refused
                return null;
            default:
                return null;
        }
    }

    /// <summary>
    /// Whether a request may take an idle connection of the server's pool (4.2 "http-reuse"): never, no; safe, not
    /// the session's first request; aggressive, a first request only one already reused (<paramref name="provenOnly"/>);
    /// always, yes.
    /// </summary>
    private static bool MayTake(Shared.Config.HttpReuseMode reuse, bool firstRequest, out bool provenOnly)
    {
        provenOnly = firstRequest && reuse == Shared.Config.HttpReuseMode.Aggressive;
        return reuse switch
        {
            Shared.Config.HttpReuseMode.Never => false,
            Shared.Config.HttpReuseMode.Safe => !firstRequest,
            _ => true,
        };
    }

    /// <summary>Counts the request on <paramref name="srv"/> (HttpTransaction.Attach) and returns <paramref name="reused"/>.</summary>
    private bool Attach(HttpTransaction tx, ServerRuntime srv, bool reused)
    {
        long now = LoopClock.Milliseconds;
        _connection!.LastActivity = now;
        if (reused) _connection.Reused = true;   // `http-reuse aggressive`: the server kept it for a second request
        tx.Attach(srv, reused, now);
        return reused;
    }

    /// <summary>Gives the idle connection to its server's pool (its previous response was fully read).</summary>
    public void ReleaseIdle()
    {
        if (Connection is not { } own || _owner is not { } owner) return;
        Volatile.Write(ref _connection, null);
        _owner = null;
        // private: `http-reuse never`, or it carries this client's PROXY header or SNI, or its NTLM/Negotiate authentication
        if (_unshared || own.Private || IsPrivate(owner)) own.Dispose();
        else owner.Pool.Return(own);
    }

    /// <summary>
    /// A connection to <paramref name="srv"/> belongs to its session only (HAProxy marks it private): it began with this
    /// client's PROXY header, or its TLS SNI came from this request's Host (`sni req.hdr(host)`), or its port is the one
    /// this client connected to (a server without a port: another client may have come in on another port).
    /// </summary>
    private static bool IsPrivate(ServerRuntime srv) => srv.Config.ProxyProtocol.Sends || srv.Config.Tls?.SniFromHost == true || srv.Config.ClientPort;

    /// <summary>Closes the current connection (failed, not reusable, or `http-server-close`).</summary>
    public void Drop()
    {
        if (Connection is not { } conn) return;
        Volatile.Write(ref _connection, null);
        _owner = null;
        conn.Dispose();
    }

    /// <summary>At the session's end, every operation completed: closes what is left and returns its buffer.</summary>
    public void Dispose() => Connection?.Dispose();

    /// <summary>As new, for the next connection of its pooled session (HttpSessionPool), after <see cref="Dispose"/>.</summary>
    public void Reuse(int bufferSize)
    {
        _bufferSize = bufferSize;
        Volatile.Write(ref _connection, null);
        _owner = null;
        Idle = false;
        _unshared = false;
    }
}
