using System.Net;
using System.Net.Sockets;
using Proxy.Shared.Config;
using Proxy.Shared.Logging;

namespace Proxy.Worker.Logging;

/// <summary>
/// One `log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]` destination of traffic logs (doc/configuration.txt
/// 4.2 "log"): `stdout` / `stderr`, a path (a Unix datagram socket such as /dev/log, as HAProxy takes it, or a plain
/// file: LogFile.IsFileTarget) or
/// `ADDRESS[:PORT]` (UDP, port 514 by default). Used by the logger's thread only. Sockets are non-blocking: a
/// syslog daemon that cannot keep up loses lines (counted) instead of stalling the logger, as in HAProxy.
/// </summary>
internal sealed class TrafficLogSink : IDisposable
{
    private const int DefaultMaxLength = 1024;        // HAProxy's default `len`
    private const long ReconnectIntervalMs = 1000;
    /// <summary>The longest a datagram line waits in its batch (and between tries while the reader is behind).</summary>
    public const long MaxDelayMs = 10;
    /// <summary>How long lines a full buffer kept are tried again, none going out, before they count as lost (the reader is stuck).</summary>
    public const long MaxKeepMs = 1000;
    private const long NotStuck = long.MinValue;
    private const int Info = 6;                       // syslog severity of traffic logs ("info")

    private static readonly string[] Facilities =
        ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp",
         "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"];
    private static readonly string[] Levels = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

    private readonly string _target;
    private readonly EndPoint? _endPoint;        // null for stdout/stderr
    private readonly Stream? _stream;            // stdout/stderr
    private readonly LogFile? _file;             // a path that is not a Unix socket
    private Socket? _socket;
    private readonly DatagramBatch? _batch;     // datagram targets: the lines the logger queued (Queue, Flush)
    private long _nextConnectMs;
    private long _queuedSinceMs;                 // when the batch's oldest line was queued (or last tried)
    private long _stuckSinceMs = NotStuck;       // the first of the tries in a row that sent nothing (a full buffer)
    private long _failed;
    private readonly int _level;       // `LEVEL`: the least important severity sent
    private readonly int _minLevel;    // `MINLEVEL`

    public TrafficLogSink(LogTarget config)
    {
        _target = config.Target;
        Key = $"{config.Target} {config.Format} {config.MaxLength} {config.Facility} {config.Level} {config.MinLevel}";
        Format = config.Format;
        MaxLength = config.MaxLength ?? DefaultMaxLength;
        Facility = Math.Max(0, Array.IndexOf(Facilities, config.Facility));
        // `LEVEL` is the least important level sent: info traffic goes only where it is info or debug.
        _level = config.Level is null ? 7 : Array.IndexOf(Levels, config.Level);
        // `MINLEVEL` raises less important messages to it (only debug is below info).
        _minLevel = config.MinLevel is null ? 0 : Array.IndexOf(Levels, config.MinLevel);
        Severity = Math.Max(Info, _minLevel);
        switch (config.Target)
        {
            case "stdout":
                _stream = Console.OpenStandardOutput();
                break;
            case "stderr":
                _stream = Console.OpenStandardError();
                break;
            case var path when LogFile.IsFileTarget(path):
                _file = new LogFile(path);
                break;
            default:
                _endPoint = config.Target.StartsWith('/') ? new UnixDomainSocketEndPoint(config.Target)
                    : IPEndPoint.TryParse(config.Target, out var ep) ? (ep.Port == 0 ? new IPEndPoint(ep.Address, 514) : ep)
                    : new IPEndPoint(IPAddress.Loopback, 514);
                _batch = new DatagramBatch(MaxLength);
                break;
        }
    }

    /// <summary>
    /// Sends one whole line, or for a datagram target queues it (sent when the batch is full, by <see cref="Flush()"/>,
    /// which the logger calls once it has no more lines at hand, or by <see cref="FlushIfDue"/> once it waited <see
    /// cref="MaxDelayMs"/>). A line that finds the batch still full of lines the reader has no room for is lost
    /// (counted), as a syslog daemon that cannot keep up loses lines in HAProxy. Never throws.
    /// </summary>
    public void Queue(ReadOnlySpan<byte> line) => Queue(line, Environment.TickCount64);

    /// <inheritdoc cref="Queue(ReadOnlySpan{byte})"/>
    /// <param name="nowMs">Environment.TickCount64</param>
    public void Queue(ReadOnlySpan<byte> line, long nowMs)
    {
        if (_batch is null)
        {
            Send(line);
            return;
        }
        if (_batch.IsFull) FlushIfDue(nowMs);   // lines kept from a full buffer: tried again at most every MaxDelayMs
        if (_batch.Count == 0) _queuedSinceMs = nowMs;
        if (!_batch.Add(line))
        {
            _failed++;
            return;
        }
        if (_batch.IsFull) Flush(nowMs);
    }

    /// <summary>Whether lines wait in the batch (the logger then wakes within <see cref="MaxDelayMs"/> to send them).</summary>
    public bool HasQueued => _batch is { Count: > 0 };

    /// <summary>Sends the queued lines when the oldest has waited <see cref="MaxDelayMs"/>: a sink with few lines
    /// does not wait for its batch to fill while the logger is busy with others' lines.</summary>
    public void FlushIfDue(long nowMs)
    {
        if (_batch is { Count: > 0 } && nowMs - _queuedSinceMs >= MaxDelayMs) Flush(nowMs);
    }

    /// <summary>Sends the queued lines, one datagram each, in one system call.</summary>
    public void Flush() => Flush(Environment.TickCount64);

    /// <inheritdoc cref="Flush()"/>
    /// <param name="nowMs">Environment.TickCount64</param>
    internal void Flush(long nowMs)
    {
        if (_batch is null || _batch.Count == 0) return;
        int before = _batch.Count;
        var socket = _socket ?? Connect();
        _failed += _batch.Flush(socket?.SafeHandle, udp: _endPoint is not UnixDomainSocketEndPoint, out int hardError);
        // A Unix socket whose reader restarted (syslogd) refuses until reconnected.
        if (hardError != 0 && socket is not null)
        {
            socket.Dispose();
            _socket = null;
        }
        if (_batch.Count == 0)
        {
            _stuckSinceMs = NotStuck;
            return;
        }
        // A full buffer kept the rest: tried again MaxDelayMs from now, lost once the reader took none for MaxKeepMs.
        _queuedSinceMs = nowMs;
        if (_batch.Count < before) _stuckSinceMs = NotStuck;   // some went out: the reader is slow, not stuck
        else if (_stuckSinceMs == NotStuck) _stuckSinceMs = nowMs;
        else if (nowMs - _stuckSinceMs >= MaxKeepMs)
        {
            _failed += _batch.Clear();
            _stuckSinceMs = NotStuck;
        }
    }

    /// <summary>Identifies equal `log` lines, so frontends sharing one (`log global`) share the socket.</summary>
    public string Key { get; }
    public string Format { get; }
    public int MaxLength { get; }
    public int Facility { get; }
    /// <summary>The syslog severity sent: info, or `MINLEVEL` when that is less important.</summary>
    public int Severity { get; }
    /// <summary>Whether the line's `LEVEL` lets messages of <paramref name="level"/> (`set-log-level`; -1: info) through.</summary>
    public bool Accepts(int level = -1) => (level < 0 ? Info : level) <= _level;

    /// <summary>The syslog severity sent for <paramref name="level"/> (-1: info), raised to `MINLEVEL`.</summary>
    public int SeverityOf(int level) => level < 0 ? Severity : Math.Max(level, _minLevel);
    /// <summary>Whether lines end with a newline (a stream or a file), rather than being one datagram each.</summary>
    public bool IsStream => _stream is not null || _file is not null;
    /// <summary>Lines that could not be sent (target down or full).</summary>
    public long Failed => Volatile.Read(ref _failed);

    /// <summary>Sends one whole line (header and message). Never throws.</summary>
    public void Send(ReadOnlySpan<byte> line)
    {
        if (_file is not null)
        {
            if (!_file.Write(line)) _failed++;
            return;
        }
        if (_stream is not null)
        {
            try
            {
                _stream.Write(line);
                _stream.Flush();
            }
            catch (IOException)
            {
                _failed++;
            }
            return;
        }
        var socket = _socket ?? Connect();
        if (socket is null)
        {
            _failed++;
            return;
        }
        socket.Send(line, SocketFlags.None, out SocketError error);
        if (error == SocketError.Success) return;
        _failed++;
        // A Unix socket whose reader restarted (syslogd) refuses until reconnected; UDP errors (ICMP unreachable
        // reported on the next send) need nothing.
        if (_endPoint is UnixDomainSocketEndPoint && error is not SocketError.WouldBlock and not SocketError.NoBufferSpaceAvailable)
        {
            socket.Dispose();
            _socket = null;
        }
    }

    /// <summary>Connects the datagram socket (which fixes its destination, so each send needs no address); at most once a second.</summary>
    private Socket? Connect()
    {
        long now = Environment.TickCount64;
        if (now < _nextConnectMs) return null;
        _nextConnectMs = now + ReconnectIntervalMs;
        var ep = _endPoint!;
        var socket = ep is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified)
            : new Socket(ep.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Connect(ep);
            socket.Blocking = false;
            _socket = socket;
            return socket;
        }
        catch (SocketException)
        {
            // /dev/log absent or refusing: retried on a later line.
            socket.Dispose();
            return null;
        }
    }

    public override string ToString() => _target;

    public void Dispose()
    {
        Flush();
        _failed += _batch?.Clear() ?? 0;   // what a full buffer still kept
        _file?.Dispose();
        _socket?.Dispose();
        _socket = null;
    }
}
