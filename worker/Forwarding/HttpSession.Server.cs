using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Worker.Balancing;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Forwarding;

// Server connections of an HTTP session: reuse (`http-reuse safe`), connect with `retries` and `option redispatch`.
internal sealed partial class HttpSession
{
    /// <summary>
    /// Makes <see cref="_server"/> a connection to a server of <paramref name="be"/> for the request in progress:
    /// the session's own idle connection when the balancer picks its server again, else (not for a session's first
    /// request: `http-reuse safe`) an idle one from the server's pool, else a new one. <paramref name="fresh"/>
    /// forces a new connection to <paramref name="fresh"/> (a reused one failed before any response byte).
    /// Returns whether the connection was reused, or null when no server could be reached.
    /// The request first takes a `maxconn` slot of its server, waiting in the backend queue when all are taken
    /// (null after `timeout queue`: 503, HAProxy's sQ); a retry on <paramref name="fresh"/> keeps the slot it holds.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool?> AcquireServerAsync(BackendRuntime be, ServerRuntime? fresh)
    {
        var srv = fresh;
        if (fresh is null)
        {
            ReleaseSlot();
            // Waiting for a slot is neither `timeout http-request` nor `timeout connect`: only `timeout queue` applies.
            Volatile.Write(ref _connectDeadline, 0);
            SetPhase(PhaseConnecting);
            srv = await be.Queue.AcquireAsync(_client.Socket, _req, this).ConfigureAwait(false);
            _slot = srv;
        }
        if (srv is not null && fresh is null)
        {
            if (_server is { } own)
            {
                if (_serverOwner == srv && own.IsIdleAlive()) return Attach(srv, reused: true);
                ReleaseIdleServer();
            }
            if (_requests > 1 && srv.Pool.TryTake() is { } pooled)
            {
                Volatile.Write(ref _server, pooled);
                _serverOwner = srv;
                return Attach(srv, reused: true);
            }
        }
        else
        {
            DropServer();
        }

        int retries = be.Config.Retries;
        for (int attempt = 0; ; attempt++)
        {
            if (srv is null)
            {
                ProxyCounters.Increment(ref be.Counters.econ);   // no usable server: HAProxy's 503
                SetLogCause('S', 'C');
                return null;
            }
            if (attempt == 0) _logConnectStart = Environment.TickCount64;
            var socket = new Socket(srv.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var conn = new BufferedSocket(socket, _engine.BufferSize);
            Volatile.Write(ref _server, conn);
            _serverOwner = srv;
            long timeout = be.ConnectTimeoutMs;
            Volatile.Write(ref _connectTimedOut, 0);   // the log's sC / SC is about the last attempt
            Volatile.Write(ref _connectDeadline, timeout > 0 ? Environment.TickCount64 + timeout : 0);
            SetPhase(PhaseConnecting);
            if (Volatile.Read(ref _aborted) != 0) { DropServer(); return null; }
            SocketError error = await conn.ConnectAsync(srv.EndPoint).ConfigureAwait(false);
            Volatile.Write(ref _connectDeadline, 0);
            if (error == SocketError.Success && Volatile.Read(ref _aborted) == 0)
            {
                srv.Passive.Report(Health.PassiveEvent.L4Ok);   // `observe layer4`
                return Attach(srv, reused: false);
            }
            DropServer();
            if (error != SocketError.Success) srv.Passive.Report(Health.PassiveEvent.L4Error);   // each failed attempt, as HAProxy
            if (attempt >= retries || Volatile.Read(ref _aborted) != 0)
            {
                ProxyCounters.Increment(ref srv.Counters.econ);
                ProxyCounters.Increment(ref be.Counters.econ);
                _logServer = srv;
                SetLogCause(Volatile.Read(ref _connectTimedOut) != 0 ? 's' : 'S', 'C');   // 8.5: sC connect timeout, SC refused
                return null;
            }
            _logRetries++;
            ProxyCounters.Increment(ref srv.Counters.wretr);
            ProxyCounters.Increment(ref be.Counters.wretr);
            // `option redispatch` without interval redispatches on the last retry only (HAProxy's default -1).
            // The slot moves with it; with no other server free, the retry stays on this one.
            if (be.Config.Redispatch && attempt + 1 == retries && be.Queue.TryAcquireOther(_client.Socket, _req, srv) is { } other)
            {
                ReleaseSlot();
                _slot = other;
                ProxyCounters.Increment(ref other.Counters.wredis);
                ProxyCounters.Increment(ref be.Counters.wredis);
                srv = other;
                _logRedispatched = true;
            }
        }
    }

    /// <summary>Counts the request on <paramref name="srv"/> (scur for leastconn, req_tot) and returns <paramref name="reused"/>.</summary>
    private bool Attach(ServerRuntime srv, bool reused)
    {
        if (_srv != srv)
        {
            _srv?.Counters.CloseSession();
            _srv = srv;
            srv.Counters.OpenSession();
            ProxyCounters.Increment(ref srv.Counters.reqTot);
        }
        long now = Environment.TickCount64;
        _server!.LastActivity = now;
        // Tc: the connect time, retries included; a reused connection costs none (HAProxy logs 0 then too).
        _logConnectMs = reused ? 0 : (int)(now - _logConnectStart);
        _logReadyMs = now;
        return reused;
    }

    /// <summary>
    /// Gives back the request's `maxconn` slot. A slot counts an active request, not a connection: the session's
    /// idle keep-alive connection and the pooled ones hold none (HAProxy's `served`), so idle connections can
    /// never keep a queued request waiting.
    /// </summary>
    private void ReleaseSlot()
    {
        if (_slot is not { } held) return;
        _slot = null;
        held.Backend.Queue.Release(held);
    }

    /// <summary>Gives the session's idle connection to its server's pool (its previous response was fully read).</summary>
    private void ReleaseIdleServer()
    {
        if (Volatile.Read(ref _server) is not { } own || _serverOwner is not { } owner) return;
        Volatile.Write(ref _server, null);
        _serverOwner = null;
        owner.Pool.Return(own);
    }

    /// <summary>Closes the current server connection (failed, not reusable, or `http-server-close`).</summary>
    private void DropServer()
    {
        if (Volatile.Read(ref _server) is not { } conn) return;
        Volatile.Write(ref _server, null);
        _serverOwner = null;
        conn.Dispose();
    }
}
