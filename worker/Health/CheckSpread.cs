namespace Proxy.Worker.Health;

/// <summary>
/// Global `spread-checks N` (doc/configuration.txt 3.2): HAProxy moves each check's next run by a random share of up to
/// N% of the interval, either way (src/check.c: rv = inter * N / 100; rv -= 2 * rv * random), against "resonance"
/// when many servers share a host.
/// </summary>
internal static class CheckSpread
{
    public static TimeSpan Apply(TimeSpan interval, int percent)
    {
        if (percent <= 0) return interval;
        double rv = interval.TotalMilliseconds * percent / 100;
        rv -= 2 * rv * Random.Shared.NextDouble();
        return TimeSpan.FromMilliseconds(Math.Max(1, interval.TotalMilliseconds + rv));
    }
}
