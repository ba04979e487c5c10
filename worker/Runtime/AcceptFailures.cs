namespace Proxy.Worker.Runtime;

/// <summary>
/// One listener's failed accepts (EMFILE, ENFILE, ENOBUFS, an epoll set refusing the listener): how long to pause
/// before the next try and whether to say so in the process log. The pause doubles from 10 ms up to 100 ms while
/// the failures follow each other (HAProxy's listener_accept pauses a listener up to 100 ms on such a transient
/// error) and starts over after an accept succeeds. The log gets the first failure, then at most one line a minute
/// with the count of those it left out: a lasting refusal (fs.epoll.max_user_watches, `ulimit -n`) wrote a warning
/// every 10 ms. The minute is the listener's, not the run's, so failures alternating with accepts (connections
/// still come in while the epoll set refuses the listener) cannot flood it either. Used by one accept loop only.
/// </summary>
internal struct AcceptFailures
{
    public const int FirstPauseMs = 10;
    public const int MaxPauseMs = 100;
    public const long LogIntervalMs = 60_000;

    private int _pauseMs;          // the last pause; 0: the last accept succeeded
    private long _unlogged;        // failures since the last line
    private long _nextLogMs;       // Environment.TickCount64 from which a failure is logged again
    private bool _logged;          // a line was written (before that, the first failure is logged whatever the time)

    /// <summary>
    /// Counts a failure at <paramref name="nowMs"/>: <paramref name="pauseMs"/> is the pause before the next try;
    /// true when it is to be logged, with <paramref name="leftOut"/> failures not logged since the last line.
    /// </summary>
    public bool Fail(long nowMs, out int pauseMs, out long leftOut)
    {
        _pauseMs = pauseMs = _pauseMs == 0 ? FirstPauseMs : Math.Min(MaxPauseMs, _pauseMs * 2);
        leftOut = _unlogged;
        if (_logged && nowMs < _nextLogMs)
        {
            _unlogged++;
            return false;
        }
        _logged = true;
        _unlogged = 0;
        _nextLogMs = nowMs + LogIntervalMs;
        return true;
    }

    /// <summary>An accept succeeded: the next failure pauses the shortest time again (the log's minute still runs).</summary>
    public void Succeeded() => _pauseMs = 0;
}
