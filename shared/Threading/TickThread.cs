namespace Proxy.Shared.Threading;

/// <summary>
/// A background thread of its own that runs one action every period until disposed: the supervisor's housekeeping
/// and the worker engine's timer. Each tick of a System.Threading.Timer costs several wake-ups on Linux: its timer
/// thread sleeps on the kernel's precise clock but decides on Environment.TickCount64's coarse one (the kernel's
/// tick), so it wakes early and sleeps again two or three times before each tick, then hands the tick to a pool thread,
/// which wakes another pool thread to look for more work (strace and the threads' schedstat: perf/README.md,
/// "nineteenth session"). Here a tick is one wake-up, and ticks never overlap. The period is a delay between the end
/// of one tick and the start of the next, not a rate: a long tick delays the next rather than bunching them.
/// </summary>
public sealed class TickThread : IAsyncDisposable
{
    private readonly Action _tick;
    private readonly int _periodMs;
    private readonly object _gate = new();   // a Monitor, not a Lock: Monitor.Wait needs one
    private readonly Thread _thread;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;

    /// <summary>Starts thread <paramref name="name"/>, which runs <paramref name="tick"/> every <paramref name="period"/>, the first after one period.</summary>
    public TickThread(string name, TimeSpan period, Action tick)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, TimeSpan.FromMilliseconds(1));
        _tick = tick;
        _periodMs = (int)Math.Min(period.TotalMilliseconds, int.MaxValue);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.UnsafeStart();   // no ExecutionContext: the tick needs none of its creator's
    }

    private void Run()
    {
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    if (!_stopping) Monitor.Wait(_gate, _periodMs);
                    if (_stopping) return;
                }
                _tick();   // an exception ends the process, as one thrown by a Timer's callback does
            }
        }
        finally
        {
            _ended.TrySetResult();
        }
    }

    /// <summary>Stops the ticks; completes once a tick in progress has ended (at once when called from a tick).</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        if (Thread.CurrentThread != _thread) await _ended.Task.ConfigureAwait(false);
    }
}
