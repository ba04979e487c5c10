using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// A reusable awaitable socket operation (Kestrel's SocketAwaitableEventArgs): receive, send or connect, awaited
/// as a ValueTask that yields the SocketError instead of throwing, so resets and refusals on the per-connection
/// path cost no exception. One operation in flight at a time; the byte count is <see cref="SocketAsyncEventArgs.BytesTransferred"/>.
/// </summary>
internal sealed class SocketOperation : SocketAsyncEventArgs, IValueTaskSource<SocketError>
{
    private const int Receive = 0, Send = 1, Connect = 2;

    // Continuations run inline on the socket engine's completion thread, as Kestrel's do.
    private ManualResetValueTaskSourceCore<SocketError> _core;

    public SocketOperation() : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>Receives into <paramref name="buffer"/> (empty: wait for data without holding a buffer).</summary>
    public ValueTask<SocketError> ReceiveAsync(Socket socket, Memory<byte> buffer)
    {
        SetBuffer(buffer);
        if (SocketFlags != SocketFlags.None) SocketFlags = SocketFlags.None;
        return Start(socket, Receive);
    }

    /// <summary>
    /// Copies what is queued into <paramref name="buffer"/> and leaves it queued (MSG_PEEK): the PROXY header is parsed
    /// in place and only its own bytes are then consumed, as HAProxy's conn_recv_proxy does.
    /// </summary>
    public ValueTask<SocketError> PeekAsync(Socket socket, Memory<byte> buffer)
    {
        SetBuffer(buffer);
        SocketFlags = SocketFlags.Peek;
        return Start(socket, Receive);
    }

    /// <summary>Sends <paramref name="buffer"/>; may send less, see BytesTransferred.</summary>
    public ValueTask<SocketError> SendAsync(Socket socket, ReadOnlyMemory<byte> buffer)
    {
        SetBuffer(MemoryMarshal.AsMemory(buffer));
        if (SocketFlags != SocketFlags.None) SocketFlags = SocketFlags.None;
        return Start(socket, Send);
    }

    /// <summary>Connects <paramref name="socket"/> to <paramref name="endPoint"/>.</summary>
    public ValueTask<SocketError> ConnectAsync(Socket socket, EndPoint endPoint)
    {
        SetBuffer(Memory<byte>.Empty);
        RemoteEndPoint = endPoint;
        return Start(socket, Connect);
    }

    /// <summary>
    /// Drops the references to the last buffer and end point used. The args keep them after the operation completes,
    /// so a pooled array given back stays reachable from whatever holds the operation: measured with 5,000 idle http
    /// keep-alive sessions (dotnet-gcdump), 2,172 orphaned 16 KB arrays, 7 KB per session. Only between operations.
    /// </summary>
    public void Clear()
    {
        if (!MemoryBuffer.IsEmpty) SetBuffer(Memory<byte>.Empty);
        if (RemoteEndPoint is not null) RemoteEndPoint = null;
        if (SocketFlags != SocketFlags.None) SocketFlags = SocketFlags.None;
    }

    private ValueTask<SocketError> Start(Socket socket, int kind)
    {
        _core.Reset();
        bool pending;
        try
        {
            pending = kind switch
            {
                Receive => socket.ReceiveAsync(this),
                Send => socket.SendAsync(this),
                _ => socket.ConnectAsync(this),
            };
        }
        catch (ObjectDisposedException)
        {
            return new ValueTask<SocketError>(SocketError.OperationAborted);   // closed by an abort or a timeout
        }
        return pending ? new ValueTask<SocketError>(this, _core.Version) : new ValueTask<SocketError>(SocketError);
    }

    protected override void OnCompleted(SocketAsyncEventArgs e) => _core.SetResult(e.SocketError);

    SocketError IValueTaskSource<SocketError>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<SocketError>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<SocketError>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
