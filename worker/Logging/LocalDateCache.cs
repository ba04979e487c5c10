namespace Proxy.Worker.Logging;

/// <summary>
/// The local time of the current second and its log text (`dd/Mmm/yyyy:HH:mm:ss`), worked out once per second and
/// per thread (the session's thread renders `%tr`/`%t`, the logger's thread the default lines and the syslog header),
/// as HAProxy keeps its date once per second (its `date`/`now` tick) rather than converting it for each line: a
/// conversion to local time looks up the time zone's rules and costs more than the rest of the date (issue 18).
/// </summary>
internal sealed class LocalDateCache
{
    [ThreadStatic] private static LocalDateCache? t_current;

    private long _second = long.MinValue;   // UTC ticks / TicksPerSecond of the second cached
    private long _offsetTicks;              // the local offset during that second
    private readonly byte[] _dayAndTime = new byte[20];

    /// <summary>This thread's cache.</summary>
    public static LocalDateCache Current => t_current ??= new LocalDateCache();

    /// <summary>The local time of <paramref name="utcTicks"/>, with its offset.</summary>
    public DateTimeOffset ToLocal(long utcTicks)
    {
        Refresh(utcTicks);
        return new DateTimeOffset(utcTicks + _offsetTicks, new TimeSpan(_offsetTicks));
    }

    /// <summary>`dd/Mmm/yyyy:HH:mm:ss.fff` of <paramref name="utcTicks"/> in local time, HAProxy's log date (`%tr`, `%t`).</summary>
    public void AppendLogDate(ref LogLineWriter w, long utcTicks)
    {
        Refresh(utcTicks);
        w.Append(_dayAndTime);
        w.Append('.');
        // The offset is whole minutes, so the local milliseconds are the UTC ones.
        w.AppendPadded((int)(utcTicks / TimeSpan.TicksPerMillisecond % 1000), 3);
    }

    private void Refresh(long utcTicks)
    {
        long second = utcTicks / TimeSpan.TicksPerSecond;
        if (second == _second) return;
        var utc = new DateTime(second * TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var local = utc.ToLocalTime();
        _offsetTicks = local.Ticks - utc.Ticks;
        var w = new LogLineWriter(_dayAndTime);
        TrafficLogFormatter.AppendDayAndTime(ref w, local);
        _second = second;
    }
}
