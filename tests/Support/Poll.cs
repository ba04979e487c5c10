using NUnit.Framework;

namespace Proxy.Tests.Support;

/// <summary>
/// Waiting for something to happen: the condition is checked every few milliseconds until it holds or a
/// deadline passes, so a test waits as long as the system needs and no longer (no fixed sleep guessing how
/// long that is), and fails saying what it waited for instead of asserting on a state that was not ready yet.
/// </summary>
public static class Poll
{
    /// <summary>Long enough for anything a test waits for on a loaded 2-core box; well under the per-test limit.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private const int IntervalMs = 20;

    /// <summary>Waits until <paramref name="condition"/> holds; fails the test naming <paramref name="what"/> when it did not in time.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        if (!await TryUntilAsync(condition, timeout))
            Assert.Fail($"{what}: not seen within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s");
    }

    /// <summary>Reads a value until it satisfies <paramref name="done"/>, and returns it; fails the test when it did not in time.</summary>
    public static async Task<T> UntilAsync<T>(Func<T> read, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        long deadline = Environment.TickCount64 + (long)(timeout ?? DefaultTimeout).TotalMilliseconds;
        while (true)
        {
            T value = read();
            if (done(value)) return value;
            if (Environment.TickCount64 >= deadline)
                Assert.Fail($"{what}: not seen within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s (last value: {value})");
            await Task.Delay(IntervalMs);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds or the deadline passes; returns whether it held (the caller asserts).</summary>
    public static async Task<bool> TryUntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        long deadline = Environment.TickCount64 + (long)(timeout ?? DefaultTimeout).TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 >= deadline) return false;
            await Task.Delay(IntervalMs);
        }
        return true;
    }
}
