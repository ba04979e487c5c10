using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Logging;

/// <summary>
/// Per-request (`option httplog`) and per-connection (`option tcplog`) logs of one engine. Sessions claim a record
/// of the lock-free ring (<see cref="TrafficLogRing"/>), fill it and commit it; one background thread formats each
/// record once, frames it per target (syslog header, `len`) and sends it (datagrams in batches, DatagramBatch). The
/// request path therefore never formats, never does I/O and never waits: a full ring drops the line and counts it.
///
/// Why not an NLog target: NLog's logger call renders layouts and builds a LogEventInfo (allocations) on the
/// calling thread, and its async wrapper queues behind a lock; the process log (rare events) keeps NLog, traffic
/// logs (one per request) take this path. A worker without traffic logs creates no logger at all.
/// </summary>
internal sealed class TrafficLogger : IDisposable
{
    private const int Capacity = 512;                  // lines in flight; at 1 KiB of request line each: ~0.6 MiB
    private const string DefaultTag = "proxy";          // the syslog TAG when the global section sets no `log-tag`

    private readonly TrafficLogRing _ring = new(Capacity);
    private readonly TrafficLogSink[] _sinks;
    private readonly NLog.ILogger _log;
    private readonly Thread _thread;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly byte[] _message = new byte[65536];
    private readonly byte[] _line = new byte[65536 + 256];
    private readonly byte[] _hostname;
    private readonly byte[] _tagPid;
    private int _sleeping;
    private volatile bool _stopping;
    private long _reportedDrops;

    /// <param name="tag">global `log-tag`; null: "proxy"</param>
    /// <param name="hostname">global `log-send-hostname`; null: the machine's name</param>
    public TrafficLogger(IReadOnlyList<TrafficLogSink> sinks, NLog.ILogger log, string? tag = null, string? hostname = null)
    {
        _sinks = [.. sinks];
        _log = log;
        _hostname = Encoding.UTF8.GetBytes(hostname ?? Environment.MachineName);
        _tagPid = Encoding.UTF8.GetBytes($"{tag ?? DefaultTag}[{Environment.ProcessId}]");
        _thread = new Thread(Run) { IsBackground = true, Name = "traffic-log" };
        _thread.Start();
    }

    /// <summary>Lines dropped because the queue was full.</summary>
    public long Dropped => _ring.Dropped;

    /// <summary>A record to fill and <see cref="Commit"/>, or null when the queue is full (the line is dropped).</summary>
    public TrafficLogRecord? TryBegin() => _ring.TryClaim();

    /// <summary>Queues a filled record; wakes the logger thread only when it sleeps (one semaphore release per burst).</summary>
    public void Commit(TrafficLogRecord record)
    {
        TrafficLogRing.Publish(record);
        if (Volatile.Read(ref _sleeping) != 0 && Interlocked.Exchange(ref _sleeping, 0) != 0) _wake.Release();
    }

    /// <summary>
    /// Queues HAProxy's line for a connection closed before its session started (`%ci:%cp [date] FE/ID: MESSAGE`, the
    /// accept date being now); dropped and counted when the queue is full.
    /// </summary>
    public void LogConnectionError(FrontendRuntime fe, System.Net.IPEndPoint? client, int listenerId, string message)
    {
        if (TryBegin() is not { } r) return;
        r.Format = fe.Config.LogFormat;
        r.Frontend = fe.Config.Name;
        r.Tls = false;   // the prefix of a connection error names the frontend alone
        r.Sinks = fe.LogSinks;
        r.TagPid = fe.LogTagPid;
        r.ClientAddress = client?.Address;
        r.ClientPort = client?.Port ?? 0;
        r.DateUtcTicks = DateTime.UtcNow.Ticks;
        r.ListenerId = listenerId;
        r.ConnectionError = message;
        r.StructuredDataLength = 0;
        Commit(r);
    }

    private void Run()
    {
        while (true)
        {
            if (_ring.TryPeek() is { } record)
            {
                long nowMs = Environment.TickCount64;
                Write(record, nowMs);
                record.ConnectionError = null;
                record.Level = -1;
                _ring.Release(record);
                // While lines keep coming, a target's batch may not fill (its frontends are quiet, or it keeps lines
                // a full buffer refused): what waited TrafficLogSink.MaxDelayMs goes out now.
                foreach (var sink in _sinks) sink.FlushIfDue(nowMs);
                continue;
            }
            // No more lines at hand: what the datagram targets queued goes out now, in one system call each.
            bool queued = false;
            foreach (var sink in _sinks)
            {
                sink.Flush();
                queued |= sink.HasQueued;
            }
            if (_stopping) break;
            ReportDrops();
            Volatile.Write(ref _sleeping, 1);
            // A commit between the peek above and this flag would not wake us: look once more.
            if (_ring.TryPeek() is not null)
            {
                Volatile.Write(ref _sleeping, 0);
                continue;
            }
            // Lines a full buffer kept are tried again soon (TrafficLogSink drops them once the reader is stuck).
            _wake.Wait(queued ? (int)TrafficLogSink.MaxDelayMs : 250);
            Volatile.Write(ref _sleeping, 0);
        }
        foreach (var s in _sinks) s.Dispose();
    }

    /// <summary>Formats <paramref name="record"/> once, then sends it to each of its frontend's targets.</summary>
    private void Write(TrafficLogRecord record, long nowMs)
    {
        int length = TrafficLogFormatter.Format(record, _message);
        var message = _message.AsSpan(0, length);
        var now = LocalDateCache.Current.ToLocal(DateTime.UtcNow.Ticks);   // DateTimeOffset.Now, without its time-zone lookup
        foreach (var sink in record.Sinks)
        {
            // A target's `LEVEL` lets through what is at least that important (4.2 "log").
            if (!sink.Accepts(record.Level)) continue;
            int n = Frame(sink, message, _line, _hostname, record.TagPid ?? _tagPid, now, record.Level,
                record.StructuredData.AsSpan(0, record.StructuredDataLength));
            sink.Queue(_line.AsSpan(0, n), nowMs);
        }
    }

    /// <summary>
    /// One line for <paramref name="sink"/>: the header of its `format` (4.2 "log"), the message, cut at its `len`;
    /// a newline after it on stdout/stderr. rfc3164 carries the host name (HAProxy sends it with `log-send-hostname`),
    /// local is rfc3164 without it. rfc5424 writes <paramref name="structuredData"/> (`log-format-sd`) after the MSGID,
    /// `-` when there is none (RFC 5424 6.3, NILVALUE), as HAProxy's __send_log.
    /// </summary>
    internal static int Frame(TrafficLogSink sink, ReadOnlySpan<byte> message, Span<byte> dest, ReadOnlySpan<byte> hostname,
        ReadOnlySpan<byte> tagPid, DateTimeOffset now, int level = -1, ReadOnlySpan<byte> structuredData = default)
    {
        int max = Math.Min(sink.MaxLength, dest.Length - 1);
        var w = new LogLineWriter(dest[..max]);
        int severity = sink.SeverityOf(level);
        int pri = sink.Facility * 8 + severity;
        switch (sink.Format)
        {
            case "rfc3164":
            case "local":
                w.Append('<');
                w.Append(pri);
                w.Append('>');
                TrafficLogFormatter.AppendRfc3164Date(ref w, now.DateTime);
                w.Append(' ');
                if (sink.Format == "rfc3164")
                {
                    w.Append(hostname);
                    w.Append(' ');
                }
                w.Append(tagPid);
                w.Append(": "u8);
                break;
            case "rfc5424":
                w.Append('<');
                w.Append(pri);
                w.Append(">1 "u8);
                TrafficLogFormatter.AppendIsoDate(ref w, now);
                w.Append(' ');
                w.Append(hostname);
                w.Append(' ');
                int open = tagPid.IndexOf((byte)'[');
                w.Append(open < 0 ? tagPid : tagPid[..open]);   // APP-NAME: the tag (`log-tag`), without "[pid]"
                w.Append(' ');
                w.Append(Environment.ProcessId);
                w.Append(" - "u8);   // MSGID
                if (structuredData.IsEmpty) w.Append('-');
                else w.Append(structuredData);
                w.Append(' ');
                break;
            case "priority":
                w.Append('<');
                w.Append(pri);
                w.Append('>');
                break;
            case "short":
                w.Append('<');
                w.Append(severity);
                w.Append('>');
                break;
            case "timed":
                w.Append('<');
                w.Append(severity);
                w.Append('>');
                TrafficLogFormatter.AppendIsoDate(ref w, now);
                w.Append(' ');
                break;
            case "iso":
                TrafficLogFormatter.AppendIsoDate(ref w, now);
                w.Append(' ');
                break;
            default:   // raw
                break;
        }
        w.Append(message);
        int n = w.Length;
        if (sink.IsStream) dest[n++] = (byte)'\n';
        return n;
    }

    /// <summary>Says in the process log, at most once per quiet moment, how many lines a full queue cost.</summary>
    private void ReportDrops()
    {
        long dropped = _ring.Dropped;
        if (dropped == _reportedDrops) return;
        _log.Warn($"traffic log: {dropped - _reportedDrops} lines dropped (queue of {Capacity} full; log targets too slow)");
        _reportedDrops = dropped;
    }

    /// <summary>Sends what is queued, then stops the thread and closes the targets.</summary>
    public void Dispose()
    {
        _stopping = true;
        _wake.Release();
        _thread.Join(TimeSpan.FromSeconds(2));
    }
}
