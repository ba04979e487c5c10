namespace Proxy.Supervisor;

/// <summary>
/// .NET runtime settings for a worker pinned to one CPU, passed as environment variables (read by the
/// runtime at start-up). A pinned worker should behave like one event loop: workstation GC without a
/// background GC thread competing for its CPU, socket continuations run inline on the epoll thread
/// instead of hopping to the thread pool, and one epoll thread.
/// Measured (2-core box, one worker pinned to CPU 1, nginx and wrk on CPU 0, mode tcp, wrk -c50, two rounds):
///   these settings            keep-alive 51.4k / 35.3k req/s, Connection: close 10.1k / 10.9k req/s
///   inline completions off    keep-alive 34.1k / 44.1k req/s, Connection: close  7.8k /  8.7k req/s
///   runtime defaults          keep-alive 24.9k / 29.3k req/s, Connection: close  7.3k /  6.9k req/s
///   (runtime defaults: concurrent GC, no inline completions, one epoll thread per CPU)
/// </summary>
public static class WorkerRuntimeSettings
{
    public static void Apply(IDictionary<string, string?> env)
    {
        env.TryAdd("DOTNET_gcServer", "0");
        env.TryAdd("DOTNET_gcConcurrent", "0");
        env.TryAdd("DOTNET_TieredPGO", "1");
        env.TryAdd("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        env.TryAdd("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", "1");
        // No spinning in idle thread-pool threads: the engine's timer (a .NET timer then) woke one every 100 ms, and it
        // spun in sched_yield on the worker's one CPU, preempting the epoll thread. Measured with strace and /proc (http
        // keep-alive, wrk -c50): 1,635 involuntary context switches per 1,000 requests before (HAProxy 3), the pool
        // threads' switches from ~4,000 to ~110 in 5 s, no sched_yield left (perf/README.md, "CPU per request").
        env.TryAdd("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", "0");
    }
}
