namespace Proxy.Worker;

/// <summary>
/// A diagnostic for measuring memory per session (perf/README.md): with PROXY_HEAP_REPORT=FILE in the worker's
/// environment, every trim (MemoryTrimmer) appends one line to FILE: the live managed bytes after the collection
/// and the bytes the GC keeps committed, with the bytes allocated since the process started and the gen0 collections
/// (two readings around N connections give the allocation per connection: perf/README.md, "pooled sessions"). The difference between two readings over N idle sessions is the managed
/// share of a session; the rest of the RSS growth is native (the runtime's socket layer) and page rounding.
/// The AOT worker has no diagnostics port for dotnet-gcdump, so this is what is left to split the figure. Off by default.
/// </summary>
internal static class HeapReport
{
    private static readonly string? s_path = Environment.GetEnvironmentVariable("PROXY_HEAP_REPORT");

    public static void AfterCollection()
    {
        if (s_path is null) return;
        var info = GC.GetGCMemoryInfo();
        File.AppendAllText(s_path, $"live={GC.GetTotalMemory(false)} committed={info.TotalCommittedBytes} heap={info.HeapSizeBytes} allocated={GC.GetTotalAllocatedBytes(precise: true)} gen0={GC.CollectionCount(0)}\n");
    }
}
