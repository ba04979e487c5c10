using System.Net.Sockets;
using Proxy.Shared.Config;
using Proxy.Shared.Limits;
using Proxy.Worker.Forwarding;
using Proxy.Worker.Io;
using Proxy.Worker.Runtime;
using Tmds.Linux;

namespace Proxy.Worker;

// The accept path: one loop per listener, gated by the frontend's and the global `maxconn` (connection permits) and by
// the accept rate limits (ProxyEngine.RateLimits.cs).
public sealed partial class ProxyEngine
{
    /// <summary>Accepts on one listener until <see cref="StopAccepting"/>, respecting frontend and global maxconn.</summary>
    private async Task AcceptLoopAsync(BoundListener listener, FrontendRuntime fe)
    {
        var stop = _stop.Token;
        var socket = listener.Socket;
        int acceptedInTurn = 0;
        int listenerId = fe.Config.Binds is var binds && binds.Count > 0 ? IndexOfBind(binds, listener.Bind) + 1 : 0;
        // A listener whose sessions live on the worker's loop is accepted there too (worker/Io/LoopAcceptor.cs); the
        // others (mode tcp, `accept-proxy`, UNIX sockets), or every one with PROXY_IO_LOOP=0, through .NET's engine.
        var onLoop = AcceptsOnLoop(listener, fe) ? LoopAcceptor.TryCreate(socket) : null;
        if (onLoop is null && LoopAcceptor.AcceptSocketsMissing && AcceptsOnLoop(listener, fe))
            Log.Warn($"frontend {fe.Config.Name}: {listener.Bind.Key} accepted through .NET's engine: this runtime lacks Socket.CreateAcceptSocket");
        var stopRegistration = onLoop is null ? default : stop.UnsafeRegister(static a => ((LoopAcceptor)a!).Stop(), onLoop);
        // No ExecutionContext flows from here (see IoLoop.Run): this loop, started on the thread pool, would capture
        // the default context at its first await and resume on the loop thread under it, and so would every session it
        // starts and every await beneath, each resume paying ExecutionContext.Run. Never undone: the thread pool's
        // thread gets its own context back when this method first suspends (AsyncMethodBuilderCore.Start).
        if (onLoop is not null && !ExecutionContext.IsFlowSuppressed()) ExecutionContext.SuppressFlow();
        var failures = new AcceptFailures();
        // TCP_QUICKACK (`option tcp-smart-accept`) and TCP_NODELAY, set on the listener for its connections to inherit.
        var tcpOptions = listener.Bind.UnixPath is null ? ListenerTcpOptions.Apply(socket, fe.Config.SmartAccept) : default;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                // HAProxy's tune.maxaccept: while the backlog is full every accept completes at once and this loop
                // (which starts each session inline) would hold the epoll thread, so after 64 it lets the others run.
                if (++acceptedInTurn > MaxAcceptPerTurn)
                {
                    acceptedInTurn = 0;
                    await Task.Yield();
                }
                // HAProxy stops accepting while a frontend (or the process) is full: connections wait in the kernel's
                // backlog and are accepted when one closes. Looking is not reserving: an accept loop idle in accept()
                // holds nothing, so it cannot keep the last place from another worker's clients.
                if (!HasConnectionRoom(fe))
                {
                    await WaitForConnectionRoomAsync(fe, stop).ConfigureAwait(false);
                    continue;
                }
                if (listener.Tls is not null && !Tls.TlsCounters.HasRoom)
                {
                    // `maxsslconn`: this TLS listener waits (its backlog holds the connections) until one closes.
                    await Task.Delay(MaxSslConnPollMs, stop).ConfigureAwait(false);
                    continue;
                }
                if (AcceptRateWait(LoopClock.Milliseconds) is > 0 and var rateWait)
                {
                    await Task.Delay(rateWait, stop).ConfigureAwait(false);   // over `maxconnrate`/`maxsessrate`: the queue waits
                    continue;
                }
                Socket client;
                if (onLoop is not null)
                {
                    int seen = onLoop.Sequence;
                    if (onLoop.TryAccept(out int error) is { } accepted)
                    {
                        client = accepted;
                    }
                    else
                    {
                        if (error == LibC.EAGAIN)
                        {
                            acceptedInTurn = 0;   // the backlog is empty: a new turn starts with the wake-up
                            // Success: look again (room, rate, accept); OperationAborted: stopping, the loop's test ends it.
                            if (await onLoop.WaitAsync(seen).ConfigureAwait(false) is SocketError.Success or SocketError.OperationAborted) continue;
                            error = LibC.ENOSPC;   // the epoll set refused the listener (the kernel's limits)
                        }
                        if (error == LibC.ECONNABORTED) continue;   // reset while queued: the client's business
                        await Task.Delay(AcceptFailed(fe, listener, ref failures, $"errno {error}"), stop).ConfigureAwait(false);
                        continue;
                    }
                }
                else try
                {
                    var accept = socket.AcceptAsync(stop);
                    if (!accept.IsCompleted) acceptedInTurn = 0;   // the backlog was empty: a new turn starts with the wake-up
                    client = await accept.ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    // A connection reset while queued (ECONNABORTED) is the client's business, as in HAProxy;
                    // EMFILE/ENFILE/ENOBUFS are logged and retried after a short pause so the loop does not spin.
                    if (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset) continue;
                    await Task.Delay(AcceptFailed(fe, listener, ref failures, e.SocketErrorCode.ToString()), stop).ConfigureAwait(false);
                    continue;
                }
                failures.Succeeded();
                if (listener.Tls is not null)
                {
                    try
                    {
                        await WaitForSslRateAsync(stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        client.Dispose();   // stopping while it waited for `maxsslrate`: never a session
                        throw;
                    }
                }
                // A UNIX listener's connections have neither TCP option (setting one fails with EOPNOTSUPP).
                if (listener.Bind.UnixPath is null && !tcpOptions.Prepare(client, fe.Config.ClientTcpKeepAlive))
                {
                    client.Dispose();   // reset before we could touch it
                    continue;
                }
                if (!TryTakeConnectionPermit(fe) && !await WaitForConnectionPermitAsync(fe, client, stop).ConfigureAwait(false)) break;
                Interlocked.Increment(ref _active);
                Interlocked.Increment(ref _total);
                ProxySession session = fe.Config.Mode == ProxyMode.Http ? HttpSessionPool.Rent(this, fe, client) : new TcpSession(this, fe, client);
                session.Listener = listener;
                session.ListenerId = listenerId;
                // Started here, on the accept loop's thread (with inline socket completions, the epoll thread): it runs
                // until its first wait (usually the request or the server connect) and the loop goes on, as an event
                // loop does. Queued to the thread pool instead, every connection woke a pool thread on the worker's
                // one CPU, which then spun looking for more work: measured with strace, 27 sched_yield calls per
                // `Connection: close` request (53 syscalls per request in all, HAProxy 27).
                // Without an ExecutionContext on the loop (IoLoop.Run): after a wait that resumed this loop on the
                // thread pool (a yield after 64 accepts, a maxconn or rate-limit pause), its awaits captured the
                // default context again, and it resumes on the loop thread under it: suppressed again here, for this
                // session and the loop's next awaits (ExecutionContext.Run restores the loop thread's own afterwards).
                if (IoLoop.OnLoopThread && !ExecutionContext.IsFlowSuppressed()) ExecutionContext.SuppressFlow();
                session.Execute();
            }
        }
        catch (OperationCanceledException)
        {
            // StopAccepting
        }
        catch (ObjectDisposedException)
        {
            // listener disposed under us
        }
        catch (Exception e)
        {
            // Not expected (e.g. the socket engine refusing to register the descriptor): this listener stops, the
            // others go on, and the supervisor's copy keeps its queue.
            Log.Error(e, $"frontend {fe.Config.Name}: accept loop on {listener.Bind.Key} stopped");
        }
        finally
        {
            stopRegistration.Dispose();
            onLoop?.Dispose();   // out of the loop's epoll set before the descriptor closes
            // Only now, with no accept pending on it, close the worker's descriptor (never the supervisor's).
            SharedListener.ReleaseWorkerCopy(socket, Log);
        }
    }

    /// <summary>How often a TLS listener held at `maxsslconn` looks again (a TLS connection that closes wakes nothing).</summary>
    private const int MaxSslConnPollMs = 10;

    /// <summary>
    /// Counts a failed accept on <paramref name="listener"/> and returns the pause before the next try; logs it when
    /// <see cref="AcceptFailures"/> says so (the first, then at most one a minute with the count of those left out).
    /// </summary>
    private int AcceptFailed(FrontendRuntime fe, BoundListener listener, ref AcceptFailures failures, string error)
    {
        if (!failures.Fail(Environment.TickCount64, out int pauseMs, out long leftOut)) return pauseMs;
        string line = $"frontend {fe.Config.Name}: accept on {listener.Bind.Key} failed: {error}";
        Log.Warn(leftOut == 0 ? line : $"{line} ({leftOut} more failures since the last such line)");
        return pauseMs;
    }

    /// <summary>
    /// Whether <paramref name="listener"/>'s connections start on the worker's loop: `mode http` (plain or `ssl`) without
    /// `accept-proxy` (HttpSession then moves the client socket to the loop, unless a `tcp-request connection
    /// expect-proxy` rule reads a PROXY header through .NET's engine first).
    /// </summary>
    private static bool AcceptsOnLoop(BoundListener listener, FrontendRuntime fe)
        => fe.Config.Mode == ProxyMode.Http && !listener.Bind.AcceptProxy && listener.Bind.UnixPath is null;

    /// <summary>Whether the instance has room for one more connection, globally and on <paramref name="fe"/> (nothing reserved).</summary>
    private bool HasConnectionRoom(FrontendRuntime fe) => !fe.Paused && _globalConnections.HasRoom && fe.Connections.HasRoom;

    /// <summary>Takes one global and one frontend connection permit (HAProxy `maxconn`), instance-wide; false when either is full.</summary>
    private bool TryTakeConnectionPermit(FrontendRuntime fe)
    {
        // A connection accepted just as its frontend was disabled waits, established and silent, as in the backlog.
        if (fe.Paused || !_globalConnections.TryReserve()) return false;
        if (fe.Connections.TryReserve()) return true;
        _globalConnections.Release();
        return false;
    }

    private void ReleaseConnectionPermit(FrontendRuntime fe)
    {
        fe.Connections.Release();
        _globalConnections.Release();
        WakePermitWaiter();
    }

    /// <summary>Wakes the accept loops parked at a limit: they look again (a session ended here, or the timer polls for other workers).</summary>
    private void WakePermitWaiter()
    {
        var waiter = Volatile.Read(ref _permitWaiter);
        if (waiter is not null && Interlocked.CompareExchange(ref _permitWaiter, null, waiter) == waiter) waiter.TrySetResult();
    }

    /// <summary>
    /// Parks an accept loop while the instance is full (allocates only at the limit). A session ending in this worker
    /// wakes it at once; one ending in another worker is seen by the engine's timer, which wakes parked loops on every
    /// tick (every 10-100 ms): other workers' releases are polled, not signalled, so resuming can lag by one tick.
    /// </summary>
    private async Task WaitForConnectionRoomAsync(FrontendRuntime fe, CancellationToken stop)
    {
        var waiter = Volatile.Read(ref _permitWaiter);
        if (waiter is null)
        {
            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiter = Interlocked.CompareExchange(ref _permitWaiter, fresh, null) ?? fresh;
        }
        // Re-check after publishing the waiter: a release in between would otherwise be missed.
        if (HasConnectionRoom(fe)) return;
        await waiter.Task.WaitAsync(stop).ConfigureAwait(false);
    }

    /// <summary>
    /// Another worker took the last place between our look and our accept: <paramref name="client"/> is accepted but
    /// not served until a permit is ours. Established and silent, as it was in the backlog (no timeout applies to it,
    /// as none does in HAProxy's backlog); at most one per accept loop. False when stopping: the client is closed.
    /// </summary>
    private async Task<bool> WaitForConnectionPermitAsync(FrontendRuntime fe, Socket client, CancellationToken stop)
    {
        try
        {
            do await WaitForConnectionRoomAsync(fe, stop).ConfigureAwait(false);
            while (!TryTakeConnectionPermit(fe));
            return true;
        }
        catch (OperationCanceledException)
        {
            client.Dispose();
            return false;
        }
    }
}
