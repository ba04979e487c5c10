using System.Net;
using Proxy.Shared.Config;
using Proxy.Worker.Balancing;

namespace Proxy.Worker.Forwarding;

// `option httplog` (doc/configuration.txt 8.2.3): what an HTTP session records per request for its log line. The
// fields are plain stores (no allocation, no lock); the line itself is queued by WriteLog when the request ends and
// formatted on the logger's thread.
internal sealed partial class HttpSession
{
    private IPEndPoint? _clientEndPoint;
    private long _logStartMs, _logStartUtc;    // first byte of the request (%tr), TickCount64 and UTC ticks
    private bool _logRequestSeen;              // a byte of this request arrived
    private long _logHeadMs;                   // head complete (TR); 0: not yet
    private long _logConnectStart, _logReadyMs, _logResponseMs;
    private int _logConnectMs;                 // Tc, -1 until a connection is attached
    private int _logStatus;                    // status sent to the client, -1 when none
    private long _logBytes;                    // bytes sent to the client (%B)
    private ServerRuntime? _logServer;         // the last server tried when no connection succeeded
    private int _connectTimedOut;

    /// <summary>Resets the per-request fields when the session starts waiting for a request.</summary>
    private void BeginRequestLog()
    {
        _logStartMs = Environment.TickCount64;
        _logStartUtc = 0;
        _logRequestSeen = false;
        _logHeadMs = 0;
        _logConnectStart = 0;
        _logReadyMs = 0;
        _logResponseMs = 0;
        _logConnectMs = -1;
        _logStatus = -1;
        _logBytes = 0;
        _logRetries = 0;
        _logRedispatched = false;
        _logServer = null;
        _connectTimedOut = 0;
        Volatile.Write(ref _logCause, 0);
    }

    /// <summary>The request's first byte: the date logged and the start of TR and Ta.</summary>
    private void MarkRequestStart()
    {
        _logRequestSeen = true;
        _logStartMs = Environment.TickCount64;
        if (_fe.TrafficLog is not null) _logStartUtc = DateTime.UtcNow.Ticks;
    }

    /// <summary>The phase of an exchange for the termination state: waiting for the response head (H), or its data (D).</summary>
    private char ExchangePhase => Volatile.Read(ref _logResponseMs) != 0 ? 'D' : 'H';

    /// <summary>ctime, rtime and ttime of the request's server (sums and a count on the stats board; its backend's are the servers' summed).</summary>
    private void CountTimes()
    {
        if (_srv is not { } srv) return;
        int response = _logResponseMs != 0 && _logReadyMs != 0 ? (int)(_logResponseMs - _logReadyMs) : -1;
        srv.Counters.CountTimes(_logConnectMs, response, Environment.TickCount64 - _logStartMs);
    }

    /// <summary>Queues the request's httplog line when the frontend logs traffic (a full queue drops it, counted).</summary>
    private void WriteLog()
    {
        var fe = _fe;
        if (fe.TrafficLog is not { } log || log.TryBegin() is not { } r) return;
        long now = Environment.TickCount64;
        var be = _be;
        var srv = _srv ?? _logServer;
        r.Format = TrafficLogFormat.Http;
        r.Frontend = fe.Config.Name;
        r.Sinks = fe.LogSinks;
        r.Backend = be?.Name;
        r.Server = _srv?.Name ?? _logServer?.Name;
        r.ClientAddress = _clientEndPoint?.Address;
        r.ClientPort = _clientEndPoint?.Port ?? 0;
        r.DateUtcTicks = _logStartUtc != 0 ? _logStartUtc : DateTime.UtcNow.Ticks - (now - _logStartMs) * TimeSpan.TicksPerMillisecond;
        r.TimeRequest = _logHeadMs != 0 ? (int)(_logHeadMs - _logStartMs) : -1;
        // Tw: nothing queues here, so 0 once a server was chosen (HAProxy: -1 when the queue was never reached).
        r.TimeQueue = srv is not null ? 0 : -1;
        r.TimeConnect = _logConnectMs;
        r.TimeResponse = _logResponseMs != 0 && _logReadyMs != 0 ? (int)(_logResponseMs - _logReadyMs) : -1;
        r.TimeTotal = (int)(now - _logStartMs);
        r.Status = _logStatus;
        r.Bytes = _logBytes;
        FillEndOfSession(r, _engine.ActiveConnections, be, _srv);
        if (_logHeadMs != 0)
        {
            var line = _req.StartLine;
            int n = Math.Min(line.Length, r.RequestLine.Length);
            line[..n].CopyTo(r.RequestLine);
            r.RequestLineLength = n;
        }
        else
        {
            r.RequestLineLength = -1;   // <BADREQ>
        }
        log.Commit(r);
    }
}
