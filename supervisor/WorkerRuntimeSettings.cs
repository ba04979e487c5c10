namespace Proxy.Supervisor;

/// <summary>
/// .NET runtime settings for a worker pinned to one CPU, passed as environment variables (read by the
/// runtime at start-up). A pinned worker should behave like one event loop: workstation GC without a
/// background GC thread competing for its CPU, socket continuations run inline on the epoll thread
/// instead of hopping to the thread pool, and one epoll thread.
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
    }
}
