namespace Proxy.Worker.Forwarding;

/// <summary>
/// The per-request parts of http sessions (an <see cref="HttpTransaction"/> with its request and response heads, its
/// persistence state and body framers, ~700 B) lent for one request at a time: a session rents one when a request's
/// first bytes arrive and gives it back when the response has ended, so 4,000 idle keep-alive sessions hold none and
/// the pool only as many as requests run at once. Kept per thread (ThreadCachedPool), at most
/// <see cref="MaxPerThread"/>: about what one worker serves at once under load (wrk -c50 in perf/bench.sh); beyond
/// that a returned one is left to the GC and a rent makes a new one.
/// </summary>
internal static class HttpTransactionPool
{
    private const int MaxPerThread = 128;

    /// <summary>A transaction for <paramref name="owner"/>'s next request, its heads sized as the engine says.</summary>
    public static HttpTransaction Rent(HttpSession owner, FrontendRuntime fe, ServerConnector connector, int maxHeadSize, int maxHeaders)
    {
        // A transaction made for other sizes (another engine in the same process: the tests' in-process workers) is dropped.
        while (ThreadCachedPool<HttpTransaction>.TryRent() is { } tx)
        {
            if (tx.Request.MaxHeadSize != maxHeadSize || tx.Request.MaxHeaders != maxHeaders) continue;
            tx.Bind(owner, fe, connector);
            return tx;
        }
        return new HttpTransaction(owner, fe, connector, maxHeadSize, maxHeaders);
    }

    /// <summary>Takes back a transaction whose request has ended (<see cref="HttpTransaction.End"/>, buffers released).</summary>
    public static void Return(HttpTransaction tx)
    {
        tx.Unbind();
        ThreadCachedPool<HttpTransaction>.TryReturn(tx, MaxPerThread);
    }
}
