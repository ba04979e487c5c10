namespace Proxy.Worker.Runtime;

/// <summary>
/// `maxconnrate` / `maxsessrate` (doc/configuration.txt 3.2) and the runtime API's `set rate-limit connections|sessions
/// global`: at most this worker's share of the instance's rate is accepted per second. The instance's rate is divided
/// among the workers (each takes ceil(N / workers)), as SO_REUSEPORT spreads connections evenly; sharing one counter
/// would cost a write to shared memory per accept. HAProxy's freq_ctr slides over the last second; this is a fixed
/// one-second window, so a burst can reach twice the share across a window's edge. Lock-free; read on the accept path.
/// </summary>
internal sealed class AcceptRateLimit
{
    private long _share;          // per second, this worker's; 0: no limit
    private long _instanceRate;   // per second, the whole instance's, as `show info` ConnRateLimit/SessRateLimit print it
    private long _windowStart;    // Environment.TickCount64 at the window's start
    private long _taken;          // accepts counted in the window

    /// <summary>The instance's rate (0: none) and the number of workers sharing it.</summary>
    public void Set(long instanceRate, int workers)
    {
        long share = instanceRate <= 0 ? 0 : (instanceRate + Math.Max(1, workers) - 1) / Math.Max(1, workers);
        Volatile.Write(ref _share, share);
        Volatile.Write(ref _instanceRate, Math.Max(0, instanceRate));
    }

    /// <summary>The instance's rate this share was taken from (0: none).</summary>
    public long InstanceRate => Volatile.Read(ref _instanceRate);

    /// <summary>Counts one accept and returns 0, or returns the milliseconds until the window ends (nothing counted).</summary>
    public int TryTake(long now)
    {
        long share = Volatile.Read(ref _share);
        if (share == 0) return 0;
        long start = Volatile.Read(ref _windowStart);
        if (now - start >= 1000 && Interlocked.CompareExchange(ref _windowStart, now, start) == start)
        {
            Interlocked.Exchange(ref _taken, 0);
            start = now;
        }
        if (Interlocked.Increment(ref _taken) <= share) return 0;
        Interlocked.Decrement(ref _taken);
        return (int)Math.Clamp(1000 - (now - start), 1, 1000);
    }
}
