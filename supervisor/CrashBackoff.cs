namespace Proxy.Supervisor;

/// <summary>
/// Delay before respawning a crashed worker: immediate after a worker that ran a while, doubling
/// (up to 30 s) while workers keep crashing soon after start, so a crash loop cannot burn a CPU.
/// </summary>
public sealed class CrashBackoff
{
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(30);
    private int _quickCrashes;

    public TimeSpan NextDelay(DateTimeOffset startedAt)
    {
        if (DateTimeOffset.UtcNow - startedAt >= StableAfter)
        {
            _quickCrashes = 0;
            return TimeSpan.Zero;
        }
        _quickCrashes++;
        double ms = 100 * Math.Pow(2, Math.Min(_quickCrashes - 1, 10));
        return TimeSpan.FromMilliseconds(Math.Min(ms, Max.TotalMilliseconds));
    }
}
