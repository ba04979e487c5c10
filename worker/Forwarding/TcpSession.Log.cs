using System.Net;
using Proxy.Shared.Config;
using Proxy.Worker.Logging;

namespace Proxy.Worker.Forwarding;

// `option tcplog` (doc/configuration.txt 8.2.2): the tcp session's log line, written when it ends (fields in TcpSession.cs).
internal sealed partial class TcpSession
{
    /// <summary>Notes the accept date and the client address (the session's: the PROXY header's on an `accept-proxy` listener).</summary>
    private void BeginLog(long nowMs)
    {
        _logStartMs = nowMs;
        _logStartUtc = DateTime.UtcNow.Ticks;
        _logClient = ClientEndPoint;
        Samples.Local = FrontendEndPoint;
    }

    /// <summary>ctime and ttime of the session's server (rtime 0 in mode tcp, as HAProxy's); sums and a count on the stats board, its backend's are the servers' summed.</summary>
    private void CountTimes()
    {
        if (_tx.Server is { } srv) srv.Counters.CountTimes(_logConnectMs, 0, Environment.TickCount64 - _logStartMs);
    }

    /// <summary>
    /// Queues the session's tcplog line, unless `option dontlognull` and the client sent nothing. HAProxy reads what
    /// a client sends while it connects, this session only once connected: a session the server side failed (S, s)
    /// is therefore always logged, as HAProxy logs it whenever the client had sent anything.
    /// </summary>
    private void WriteLog(TrafficLogger log)
    {
        var fe = _fe;
        if (fe.Config.DontLogNull && _logBytesIn == 0 && _tx.Cause is not ('S' or 's')) return;
        if (log.TryBegin() is not { } r) return;   // queue full: dropped and counted
        var be = _be;
        var srv = _tx.Server ?? _tx.Connector.Server;
        r.Format = TrafficLogFormat.Tcp;
        r.Frontend = fe.Config.Name;
        r.Tls = Samples.Tls is not null;
        r.Sinks = fe.LogSinks;
        r.TagPid = fe.LogTagPid;
        r.Backend = be?.Name;
        r.Server = srv?.Name;
        r.ClientAddress = _logClient?.Address;
        r.ClientPort = _logClient?.Port ?? 0;
        r.DateUtcTicks = _logStartUtc;
        r.TimeRequest = -1;
        // Tw: nothing queues here, so 0 once a server was chosen (HAProxy: -1 when the queue was never reached).
        r.TimeQueue = srv is null ? -1 : 0;
        r.TimeConnect = _logConnectMs;
        r.TimeResponse = -1;
        r.TimeTotal = (int)(Environment.TickCount64 - _logStartMs);
        r.Status = -1;
        r.Bytes = _logBytesOut;
        _tx.FillEndOfSession(r, _engine.ActiveConnections, fe, be);
        r.RequestLineLength = -1;
        r.BytesUploaded = _logBytesIn;
        r.ServerEndPoint = srv?.EndPoint;
        // `log-format` (8.2.4): rendered on the session's side, where its expressions can read the connection.
        r.MessageLength = fe.CustomLogFormat?.Render(Samples, r, r.Message, cut: true) ?? -1;
        r.RenderStructuredData(fe.StructuredDataFormat, Samples);
        log.Commit(r);
    }
}
