namespace Proxy.Worker.Forwarding;

/// <summary>
/// Socket operations lent to `mode http` connections for one receive or send at a time (Kestrel's SocketSenderPool
/// does the same for sends). A connection that is not moving bytes then holds no operation: an idle keep-alive
/// client holds only the one its zero-byte wait uses, and an idle server connection none. Measured with 5,000 idle
/// keep-alive sessions (dotnet-gcdump), two operations per connection (send and receive, each a SocketAsyncEventArgs
/// with its completion delegate, ~340 B) were about 1 KB per session.
/// One stack per thread, without locks (ThreadCachedPool): with inline socket completions a worker's I/O continuations
/// run on its one epoll thread, so rent and return almost always meet on the same stack.
/// </summary>
internal static class SocketOperationPool
{
    /// <summary>Spare operations kept per thread; one returned beyond that is disposed.</summary>
    private const int MaxPerThread = 256;

    public static SocketOperation Rent() => ThreadCachedPool<SocketOperation>.TryRent() ?? new SocketOperation();

    /// <summary>Takes back an operation that has completed; it forgets the buffer and end point it last used.</summary>
    public static void Return(SocketOperation op)
    {
        op.Clear();
        if (!ThreadCachedPool<SocketOperation>.TryReturn(op, MaxPerThread)) op.Dispose();
    }
}
