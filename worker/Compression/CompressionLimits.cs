using Proxy.Shared.Config;
using Proxy.Shared.Stats;

namespace Proxy.Worker.Compression;

/// <summary>
/// The global compression limits of doc/configuration.txt 3.2, as this worker applies them: `maxcomprate` (input
/// kB/s), `maxcompcpuusage` (%), `maxzlibmem` (MB), and `tune.comp.maxlevel`. A response that arrives while a limit is
/// reached is sent uncompressed (its body counted in comp_byp); nothing fails. Each worker takes its share of the
/// instance-wide figures (the limit divided by the worker count), as it shares a server's `maxconn`: the workers
/// together stay within the configured value without talking to each other per request.
/// </summary>
/// <remarks>
/// HAProxy also lowers the level of a response already being compressed when the output rate passes the limit; here
/// the decision is taken once per response, at its head. The input rate counts as HAProxy's comp_bps_in does.
/// </remarks>
internal sealed class CompressionLimits
{
    /// <summary>
    /// What one compressing response is counted for against `maxzlibmem`: zlib's deflate state at windowBits 15 and
    /// memLevel 8 (window 64 KB, prev 64 KB, head 128 KB, pending 64 KB) and the 64 KB output buffer rented with it.
    /// </summary>
    public const long CodecBytes = 384 * 1024;

    private readonly int _workers;
    private readonly long _maxCodecs;          // 0: no `maxzlibmem`
    private readonly int _minIdlePercent;      // 100 - maxcompcpuusage
    private long _rateLimit;                   // bytes/s of input for this worker; 0: none
    private int _codecs;
    private int _idlePercent = 100;
    private long _lastCpuTicks, _lastSampleMs;

    public CompressionLimits(GlobalSettings global, int workers)
    {
        _workers = Math.Max(1, workers);
        Level = Math.Clamp(global.CompMaxLevel, 1, 9);
        _minIdlePercent = 100 - Math.Clamp(global.MaxCompCpuUsage, 0, 100);
        _maxCodecs = global.MaxZlibMem > 0 ? Math.Max(1, global.MaxZlibMem * 1024L * 1024 / _workers / CodecBytes) : 0;
        SetRateLimit(global.MaxCompRate * 1024L);
    }

    /// <summary>The zlib level responses are compressed at (`tune.comp.maxlevel`).</summary>
    public int Level { get; }

    /// <summary>Input bytes compressed per second (CompressBpsIn), output bytes per second (CompressBpsOut).</summary>
    public RateCounter In { get; } = new();
    public RateCounter Out { get; } = new();

    /// <summary>This worker's share of the limit in bytes/s (CompressBpsRateLim), 0 when none.</summary>
    public long RateLimit => Volatile.Read(ref _rateLimit);

    /// <summary>Sets the instance-wide limit (bytes/s, 0: none): `maxcomprate`, or `set rate-limit http-compression global`.</summary>
    public void SetRateLimit(long bytesPerSecond) =>
        Volatile.Write(ref _rateLimit, bytesPerSecond <= 0 ? 0 : Math.Max(1, bytesPerSecond / _workers));

    /// <summary>
    /// Takes a place for one compressing response; false when a limit is reached (the response then passes as it
    /// is). A true answer must be matched by <see cref="Release"/>.
    /// </summary>
    public bool TryAcquire(long nowMs)
    {
        long limit = Volatile.Read(ref _rateLimit);
        if (limit > 0 && In.Read(nowMs) > limit) return false;
        if (Volatile.Read(ref _idlePercent) < _minIdlePercent) return false;
        if (Interlocked.Increment(ref _codecs) > _maxCodecs && _maxCodecs > 0)
        {
            Interlocked.Decrement(ref _codecs);
            return false;
        }
        return true;
    }

    public void Release() => Interlocked.Decrement(ref _codecs);

    /// <summary>
    /// Called on the worker's status timer: the process's CPU use since the last call gives the idle share that
    /// `maxcompcpuusage` is compared with (a worker is pinned to its CPU, so its process time is that CPU's load).
    /// </summary>
    public void SampleCpu(long nowMs)
    {
        long cpu = Environment.CpuUsage.TotalTime.Ticks;
        if (_lastSampleMs != 0 && nowMs > _lastSampleMs)
        {
            double busy = (cpu - _lastCpuTicks) / (double)TimeSpan.TicksPerMillisecond / (nowMs - _lastSampleMs) * 100;
            Volatile.Write(ref _idlePercent, (int)Math.Clamp(100 - busy, 0, 100));
        }
        _lastCpuTicks = cpu;
        _lastSampleMs = nowMs;
    }

    /// <summary>The show info figures of this worker.</summary>
    public void Publish(StatsSlot slot, long nowMs)
    {
        slot.SetInfo(InfoField.CompressBpsIn, In.Read(nowMs));
        slot.SetInfo(InfoField.CompressBpsOut, Out.Read(nowMs));
        slot.SetInfo(InfoField.CompressBpsRateLim, RateLimit);
    }
}
