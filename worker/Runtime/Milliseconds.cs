namespace Proxy.Worker.Runtime;

/// <summary>Configured durations as the timer compares them: whole milliseconds, 0 meaning none.</summary>
internal static class Milliseconds
{
    /// <summary>A positive duration in milliseconds (at least 1); 0 for none or zero.</summary>
    public static long From(TimeSpan? t) => t is { } v && v > TimeSpan.Zero ? Math.Max(1, (long)v.TotalMilliseconds) : 0;
}
