namespace Proxy.Worker.Io;

/// <summary>
/// The worker's millisecond clock (Environment.TickCount64's), read once per wake of the <see cref="IoLoop"/> on its
/// thread, as HAProxy reads its now_ms once per poll loop: a `Connection: close` request stamped its phases, its
/// socket activity and its log times about 15 times, each a clock_gettime (1.3% of the worker's user time in libc
/// and the vDSO, perf/README.md, "sixteenth session"). On the loop thread it is the time of the last wake, or of the
/// last 32 events of a long one (IoLoop.Run), so it lags by the time the loop has spent on them: little under a plain
/// load, more when TLS handshakes run inline. Environment.TickCount64 itself moves in steps of the kernel's tick
/// (CLOCK_MONOTONIC_COARSE). Any other thread reads the clock itself. Stamps only: a deadline that must hold (the
/// connect's) and the stick tables' counters, shared with other threads and workers, read the clock itself.
/// </summary>
internal static class LoopClock
{
    [ThreadStatic] private static long t_wakeMs;   // the loop thread's time of its last wake; 0 on any other thread

    /// <summary>Environment.TickCount64, or on the loop thread its value at the loop's last wake.</summary>
    public static long Milliseconds
    {
        get
        {
            long wake = t_wakeMs;
            return wake != 0 ? wake : Environment.TickCount64;
        }
    }

    /// <summary>The loop thread woke (IoLoop.Run, after each epoll_wait).</summary>
    internal static void Tick() => t_wakeMs = Environment.TickCount64;
}
