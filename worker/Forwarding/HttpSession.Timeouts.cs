namespace Proxy.Worker.Forwarding;

// The session's timeouts, as the engine's coarse timer applies them (HAProxy's `timeout` kinds, 4.2): what each phase
// waits for and what expiring does to it.
internal sealed partial class HttpSession
{
    /// <summary>
    /// Called by the engine's timer. Waiting for a request: `timeout http-keep-alive` / `http-request` shut the
    /// client's receive side down, so the session sees the end and answers 408 itself. Queued or connecting: the
    /// connector's `timeout queue` / `timeout connect`. Exchanging: `timeout server` closes the server side (504 if
    /// nothing was answered yet), `timeout client` (only while client I/O is pending) closes everything. Tunnel:
    /// `timeout tunnel`.
    /// </summary>
    internal override void CheckTimeouts(long now)
    {
        if (CheckHandshakeTimeout(now)) return;   // `timeout client` for an `accept-proxy` header
        _connector.CheckTimeouts(now);   // `timeout queue` while waiting for a permit, `timeout connect` while connecting
        int phase = Volatile.Read(ref _phase);
        long since = now - Volatile.Read(ref _phaseStart);
        switch (phase)
        {
            case PhaseIdle:
                long stoppingSince = _engine.StoppingSinceMs;
                bool drained = stoppingSince != 0 && now - Math.Max(stoppingSince, now - since) >= ProxyEngine.DrainIdleGraceMs;
                if (drained || Expired(since, _fe.HttpKeepAliveTimeoutMs)) ExpireClient();
                break;
            case PhaseRequestHead:
                if (Expired(since, RequestTimeoutMs(CurrentBackend))) ExpireClient();
                break;
            case PhaseConnecting:
                // `option abortonclose` (4.2): a client that closed while its request waits for a server drops it (CQ, CC).
                if (CurrentBackend is { Config.AbortOnClose: true } && Volatile.Read(ref _aborted) == 0 && ClientCloseWatch.HasClosed(_client.Socket))
                {
                    SetLogCause('C', ClientCloseWatch.Phase(_connector));
                    Abort();
                }
                break;
            case PhaseExchange:
                if (Transaction is not { } tx) break;   // the request ended meanwhile
                int lease = Volatile.Read(ref tx.Lease);
                bool serverBusy = Volatile.Read(ref tx.ServerBusy) > 0;
                long serverWaitSince = Volatile.Read(ref tx.ServerWaitSince), serverTimeoutMs = Volatile.Read(ref tx.ServerTimeoutMs);
                char exchangePhase = tx.ExchangePhase;
                if (!StillHolds(tx, lease)) break;   // given back meanwhile: what was read may be another session's
                if (serverBusy && _server.Connection is { } server
                    && Expired(now - Math.Max(server.LastActivity, serverWaitSince), serverTimeoutMs))
                {
                    Interlocked.Exchange(ref _serverTimedOut, 1);
                    server.Close();
                }
                if (Volatile.Read(ref _clientBusy) > 0
                    && Expired(now - Math.Max(_client.LastActivity, Volatile.Read(ref _clientWaitSince)), _fe.HttpClientTimeoutMs))
                {
                    SetLogCause('c', exchangePhase);   // 8.5: cD (cH before the response head), `timeout client`
                    Abort();
                }
                break;
            case PhaseTunnel:
                if (Transaction is not { } tunnelTx) break;
                int tunnelLease = Volatile.Read(ref tunnelTx.Lease);
                long tunnel = Volatile.Read(ref tunnelTx.TunnelTimeoutMs);
                if (!StillHolds(tunnelTx, tunnelLease)) break;
                long last = Math.Max(_client.LastActivity, _server.Connection?.LastActivity ?? 0);
                if (Expired(now - Math.Max(last, Volatile.Read(ref _phaseStart)), tunnel)) Abort();
                break;
            case PhaseClosing:
                if (since >= LingerMs) Abort();
                break;
            case PhaseTarpit:
                // The tarpit's end: the client's receive side is shut, so the session's wait returns and it answers.
                if (since >= Volatile.Read(ref _tarpitMs) && Interlocked.Exchange(ref _tarpitExpired, 1) == 0) _client.ShutdownReceive();
                break;
        }
        // A response the proxy generates itself (an error page, `http-request return|redirect|deny`) is sent outside
        // the exchange: `timeout client` bounds that send too, or a client that stops reading would hold the session.
        if (phase is PhaseIdle or PhaseRequestHead or PhaseConnecting or PhaseTarpit && Volatile.Read(ref _clientBusy) > 0
            && Expired(now - Math.Max(_client.LastActivity, Volatile.Read(ref _clientWaitSince)), _fe.HttpClientTimeoutMs))
        {
            SetLogCause('c', 'R');
            Abort();
        }
    }

    /// <summary>
    /// `timeout http-request` while the request (head, then a buffered body) is awaited: the frontend's until a backend
    /// is chosen, then the backend's (HAProxy's s->be->timeout.httpreq, which is the frontend until stream_set_backend);
    /// a backend without one leaves only `timeout client`, as HAProxy's unset httpreq leaves the channel's read timeout.
    /// </summary>
    private long RequestTimeoutMs(BackendRuntime? be) =>
        be is null ? _fe.HttpRequestTimeoutMs : be.HttpRequestTimeoutMs > 0 ? be.HttpRequestTimeoutMs : _fe.HttpClientTimeoutMs;

    private static bool Expired(long elapsed, long timeoutMs) => timeoutMs > 0 && elapsed >= timeoutMs;

    private void ExpireClient()
    {
        Interlocked.Exchange(ref _clientTimedOut, 1);
        _client.ShutdownReceive();
    }
}
