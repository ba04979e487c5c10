using System.Net;
using Proxy.Shared.Config;

namespace Proxy.Worker.Logging;

/// <summary>
/// The fields of one traffic log line (doc/configuration.txt 8.2.2 "TCP log format", 8.2.3 "HTTP log format"),
/// filled by a session when its connection (tcp) or request (http) ends. Records are the entries of
/// <see cref="TrafficLogRing"/>: allocated once with their request-line buffer and reused, so a session only copies
/// numbers, references and the request line into one; all formatting happens on the logger's thread.
/// </summary>
internal sealed class TrafficLogRecord
{
    /// <summary>HAProxy's default line length (`log ... len`, 1024): a longer request line could never be shown whole.</summary>
    public const int MaxRequestLine = 1024;

    internal long Sequence;          // ring protocol (TrafficLogRing), not a log field
    internal long Position;          // ring position this entry was claimed at

    public TrafficLogFormat Format;
    /// <summary>`set-log-level` (4.2): the line's syslog severity, 0..7; -1: info, as every traffic line.</summary>
    public int Level = -1;
    public string Frontend = "";
    /// <summary>The client connection is TLS: `%ft` prints the frontend's name with a '~' (8.2.3).</summary>
    public bool Tls;
    public TrafficLogSink[] Sinks = [];
    /// <summary>The frontend's `log-tag` and the pid, as the line's TAG (FrontendRuntime.LogTagPid); null: the global one.</summary>
    public byte[]? TagPid;
    /// <summary>Backend name; HAProxy prints the frontend's name when no backend was chosen yet.</summary>
    public string? Backend;
    /// <summary>Server name; null prints `&lt;NOSRV&gt;` (no server reached).</summary>
    public string? Server;
    public IPAddress? ClientAddress;
    public int ClientPort;
    /// <summary>DateTime.UtcNow.Ticks of the accept (tcp, %t) or of the request's first byte (http, %tr).</summary>
    public long DateUtcTicks;
    // Timers in milliseconds, -1 when the step was never reached (8.4 "Timing events").
    public int TimeRequest;          // TR (http): first byte to complete head
    public int TimeQueue;            // Tw: time in queues (no queue here: 0 once a server is being reached)
    public int TimeConnect;          // Tc: connect, retries included (0 for a reused connection)
    public int TimeResponse;         // Tr (http): server's response head
    public int TimeTotal;            // Ta (http, request active time) or Tt (tcp, whole session)
    public int Status;               // http status sent to the client, -1 when none
    public long Bytes;               // bytes sent to the client (headers included)
    /// <summary>Termination state (8.5): who or what ended the session, and in which phase.</summary>
    public char Cause, Phase;
    public int ActConn, FeConn, BeConn, SrvConn, Retries;
    public bool Redispatched;        // printed as a '+' before the retry count
    public readonly byte[] RequestLine = new byte[MaxRequestLine];
    /// <summary>Bytes of <see cref="RequestLine"/> in use; -1 prints `&lt;BADREQ&gt;` (no valid request line).</summary>
    public int RequestLineLength;
    /// <summary>
    /// Set for a connection closed before its session started (a failed PROXY header): the line is then HAProxy's
    /// session_kill_embryonic one, `%ci:%cp [date] FRONTEND/LISTENER-ID: MESSAGE`, and the fields above but the client,
    /// date and frontend are unused. Cleared by the logger once written, since records are reused.
    /// </summary>
    public string? ConnectionError;
    public int ListenerId;
    /// <summary>Bytes received from the client for the request (%U).</summary>
    public long BytesUploaded;
    /// <summary>The server's address (%si, %sp); null when none was reached.</summary>
    public IPEndPoint? ServerEndPoint;
    /// <summary>
    /// The frontend's `log-format` line as the session rendered it (expressions are evaluated on the request's
    /// side); -1 when the line is one of the built-in formats, written by the logger.
    /// </summary>
    public int MessageLength = -1;
    public readonly byte[] Message = new byte[MaxRequestLine];

    /// <summary>
    /// `log-format-sd` (4.2) as the session rendered it: RFC 5424's STRUCTURED-DATA (6.3), written by rfc5424 targets
    /// after the MSGID; 0 when the frontend has none (`-` is written). The buffer is made the first time a record
    /// carries one, then reused with the record.
    /// </summary>
    public int StructuredDataLength;
    public byte[] StructuredData = [];

    /// <summary>Renders <paramref name="format"/> (the frontend's `log-format-sd`, null for none) for this record.</summary>
    public void RenderStructuredData(CompiledLogFormat? format, Samples.SampleContext ctx)
    {
        StructuredDataLength = 0;
        if (format is null) return;
        if (StructuredData.Length == 0) StructuredData = new byte[MaxRequestLine];
        StructuredDataLength = Math.Max(0, format.Render(ctx, this, StructuredData, cut: true));
    }
}
