namespace Proxy.Worker;

/// <summary>
/// Periods of the worker's housekeeping, at production values unless the environment says otherwise, so that
/// tests need not wait them out. Read once per process, when the first ProxyEngine is built. proxyctl passes its environment to
/// the supervisor and the supervisor to its workers (WorkerSpawner adds to it, never clears it), so a variable
/// set for `proxyctl start` reaches every worker.
///   PROXY_POOL_PURGE_DELAY_MS  an idle server connection older than this is closed (default 5000: HAProxy's
///                              `pool-purge-delay`); the pool is swept every fifth of it
///   PROXY_TRIM_CHECK_MS        MemoryTrimmer's quiet period: how long without traffic before it trims (default 1000)
/// Anything but a positive whole number of milliseconds is refused, never ignored: building the engine throws, so the
/// worker fails at its start saying which variable is wrong. These are test knobs, not configuration: HAProxy's
/// `pool-purge-delay` server keyword is not implemented.
/// </summary>
internal static class HousekeepingIntervals
{
    public const string PoolPurgeDelayVariable = "PROXY_POOL_PURGE_DELAY_MS";
    public const string TrimCheckVariable = "PROXY_TRIM_CHECK_MS";
    public const long DefaultPoolPurgeDelayMs = 5000;
    public const long DefaultTrimCheckMs = 1000;

    public static long PoolPurgeDelayMs { get; } = Parse(PoolPurgeDelayVariable, Environment.GetEnvironmentVariable(PoolPurgeDelayVariable), DefaultPoolPurgeDelayMs);
    public static long TrimCheckMs { get; } = Parse(TrimCheckVariable, Environment.GetEnvironmentVariable(TrimCheckVariable), DefaultTrimCheckMs);

    /// <summary>The value of <paramref name="variable"/> given as <paramref name="text"/>; <paramref name="fallback"/> when unset.</summary>
    internal static long Parse(string variable, string? text, long fallback)
    {
        if (string.IsNullOrEmpty(text)) return fallback;
        if (long.TryParse(text, System.Globalization.NumberStyles.None, null, out long ms) && ms > 0) return ms;
        throw new InvalidOperationException($"{variable}={text}: not a positive whole number of milliseconds");
    }
}
