using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Worker.Runtime;

namespace Proxy.Worker.Forwarding;

// `tcp-response content` (doc/configuration.txt 4.2): the backend's rules on what the server sends first, before any of
// it reaches the client. The client's bytes flow to the server meanwhile (the up relay has started).
internal sealed partial class TcpSession : ProxySession
{
    /// <summary>
    /// Reads the server's first bytes and runs the rules on them, reading more while a rule needs bytes that have not
    /// come, until the buffer (tune.bufsize) is full, the server shuts its side, or `tcp-response inspect-delay` has
    /// passed since the first bytes came; then the rules decide on what is there. Accept and close send what was read
    /// to the client; close then ends the session, reject ends it at once (logged PD). False: the session ends.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> InspectResponseAsync(TcpResponseRuntime rules, Socket server, SocketOperation toClient, SslStream? tls)
    {
        var samples = Samples;
        _inspected = ArrayPool<byte>.Shared.Rent(_engine.BufferSize);
        _inspectedLength = 0;
        bool final = false;
        long deadline = 0;
        TcpResponseVerdict verdict;
        while (true)
        {
            // The first read waits as the relay would (`timeout server` applies); the next ones for the delay left.
            long left = _inspectedLength == 0 ? -1 : deadline - Environment.TickCount64;
            if (!final && left != 0)
            {
                using var cts = left > 0 ? new CancellationTokenSource(TimeSpan.FromMilliseconds(left)) : null;
                try
                {
                    int n = await server.ReceiveAsync(_inspected.AsMemory(_inspectedLength), SocketFlags.None, cts?.Token ?? default).ConfigureAwait(false);
                    if (n == 0) final = true;   // the server shut its side: nothing more will come
                    if (_inspectedLength == 0) deadline = Environment.TickCount64 + rules.InspectDelayMs;
                    _inspectedLength += n;
                    _serverActivity = Environment.TickCount64;
                }
                catch (OperationCanceledException)
                {
                    final = true;
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    OnIoError(clientSide: false, receiving: true);
                    return false;
                }
            }
            final |= _inspectedLength == _inspected.Length || rules.InspectDelayMs <= 0 || deadline - Environment.TickCount64 <= 0;
            samples.SetPayload(_inspected, _inspectedLength, final);
            verdict = rules.Run(samples);
            if (verdict != TcpResponseVerdict.NeedMore) break;
        }
        samples.SetPayload([], 0, final: true);
        if (verdict == TcpResponseVerdict.Reject)
        {
            // 4.2 "tcp-response content reject": both connections closed at once, nothing of the server's sent; a
            // denied response for the frontend, the backend and the server (dresp, HAProxy's denied_resp).
            Stats.ProxyCounters.Increment(ref _fe.Counters.dresp);
            if (_be is { } be) Stats.ProxyCounters.Increment(ref be.Counters.dresp);
            if (_tx.Server is { } srv) Stats.ProxyCounters.Increment(ref srv.Counters.dresp);
            _tx.SetCause('P', 'D');
            return false;
        }
        if (_inspectedLength > 0)
        {
            bool sent;
            if (tls is null) sent = await SendAllAsync(_client, toClient, _inspected.AsMemory(0, _inspectedLength)).ConfigureAwait(false);
            else
            {
                try
                {
                    await tls.WriteAsync(_inspected.AsMemory(0, _inspectedLength)).ConfigureAwait(false);
                    sent = true;
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException)
                {
                    sent = false;
                }
            }
            if (!sent)
            {
                OnIoError(clientSide: true, receiving: false);
                return false;
            }
            CountReceived(_inspectedLength, fromClient: false);
            _clientActivity = Environment.TickCount64;
        }
        ReleaseInspected();
        if (verdict == TcpResponseVerdict.Close)
        {
            // 4.2 "tcp-response content close": the server connection ends; the client gets what was read, then the end.
            ShutdownSend(_client);
            return false;
        }
        return true;
    }
}
