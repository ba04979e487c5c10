using System.Net.Sockets;
using Proxy.Worker.Runtime;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// Http session objects (HttpSession with its ServerConnector, HttpServerConnection and sample context, ~1 KB) kept
/// per thread for the next connection, as HAProxy's pools keep its streams: a `Connection: close` load makes one
/// session per request, and what a new connection allocates is memory the CPU has not touched since the last
/// collection, for the kernel's work on the same request to find its own data evicted. Measured with 1.7 KB more per
/// connection: +8-12 µs of CPU per `Connection: close` request (perf/README.md, "issue 15, twelfth session: pooled sessions").
/// A session comes back only after a normal end (<see cref="HttpSession.Retire"/>), and serves again only when no
/// thread reading the engine's session table can still hold it (SessionTableReaders); a top of the stack that is not
/// yet is dropped and a new session made. Kept per thread (ThreadCachedPool), at most <see cref="MaxPerThread"/>:
/// about the connections a worker opens and closes at once under load; a burst beyond that is left to the GC.
/// </summary>
internal static class HttpSessionPool
{
    private const int MaxPerThread = 64;

    public static HttpSession Rent(ProxyEngine engine, FrontendRuntime fe, Socket client)
    {
        if (ThreadCachedPool<HttpSession>.TryRent() is { } session)
        {
            if (session.MayBeReused)
            {
                session.Reuse(engine, fe, client);
                return session;
            }
            // A reader may still hold it: left to the GC (rare: the timer's pass is short), so the stack never stalls.
        }
        return new HttpSession(engine, fe, client);
    }

    /// <summary>
    /// Keeps <paramref name="session"/> when it ended on the worker's loop thread, where plain and `ssl` http listeners
    /// accept; one that ended on another thread (a continuation of .NET's engine) would wait there for an accept that
    /// never comes, and is left to the GC.
    /// </summary>
    public static void Return(HttpSession session)
    {
        if (Io.IoLoop.OnLoopThread) ThreadCachedPool<HttpSession>.TryReturn(session, MaxPerThread);
    }
}
