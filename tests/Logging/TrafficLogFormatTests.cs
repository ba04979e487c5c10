using System.Net;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Logging;

namespace Proxy.Tests.Logging;

/// <summary>Exact traffic log lines: HAProxy's httplog and tcplog formats (8.2.2, 8.2.3) and the syslog framings (4.2 "log").</summary>
public class TrafficLogFormatTests
{
    // 25/Nov/2026:09:10:11.123 in local time, whatever the machine's zone.
    private static readonly long Date = new DateTime(2026, 11, 25, 9, 10, 11, 123, DateTimeKind.Local).ToUniversalTime().Ticks;

    private static TrafficLogRecord HttpRecord()
    {
        var r = new TrafficLogRecord
        {
            Format = TrafficLogFormat.Http, Frontend = "fe", Backend = "be", Server = "s1",
            ClientAddress = IPAddress.Loopback, ClientPort = 39574, DateUtcTicks = Date,
            TimeRequest = 0, TimeQueue = 0, TimeConnect = 1, TimeResponse = 2, TimeTotal = 3,
            Status = 200, Bytes = 1234, Cause = '-', Phase = '-',
            ActConn = 1, FeConn = 1, BeConn = 0, SrvConn = 0, Retries = 0,
        };
        SetLine(r, "GET /path HTTP/1.1");
        return r;
    }

    private static void SetLine(TrafficLogRecord r, string line)
    {
        r.RequestLineLength = Encoding.UTF8.GetBytes(line, r.RequestLine);
    }

    private static string Format(TrafficLogRecord r)
    {
        var buffer = new byte[4096];
        return Encoding.UTF8.GetString(buffer, 0, TrafficLogFormatter.Format(r, buffer));
    }

    [Test]
    public void HttpLog_Normal_MatchesHaproxyDefaultFormat()
    {
        Assert.That(Format(HttpRecord()), Is.EqualTo(
            "127.0.0.1:39574 [25/Nov/2026:09:10:11.123] fe be/s1 0/0/1/2/3 200 1234 - - ---- 1/1/0/0/0 0/0 \"GET /path HTTP/1.1\""));
    }

    [Test]
    public void HttpLog_BadRequest_NoServerNoBackend_PrintsFrontendAndBadReq()
    {
        var r = HttpRecord();
        r.Backend = null;
        r.Server = null;
        r.TimeRequest = r.TimeQueue = r.TimeConnect = r.TimeResponse = -1;
        r.TimeTotal = 0;
        r.Status = 400;
        r.Bytes = 187;
        r.Cause = 'P';
        r.Phase = 'R';
        r.RequestLineLength = -1;
        Assert.That(Format(r), Is.EqualTo(
            "127.0.0.1:39574 [25/Nov/2026:09:10:11.123] fe fe/<NOSRV> -1/-1/-1/-1/0 400 187 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\""));
    }

    [Test]
    public void HttpLog_RedispatchedRetries_GetAPlus_AndIpv6HasNoBrackets()
    {
        var r = HttpRecord();
        r.ClientAddress = IPAddress.IPv6Loopback;
        r.Retries = 3;
        r.Redispatched = true;
        r.Status = 503;
        r.Cause = 'S';
        r.Phase = 'C';
        Assert.That(Format(r), Does.StartWith("::1:39574 [").And.Contain(" SC-- 1/1/0/0/+3 0/0 "));
    }

    [Test]
    public void HttpLog_RequestLine_EscapesQuotesHashesAndControlBytes()
    {
        var r = HttpRecord();
        SetLine(r, "GET /a\"b#c\u007f HTTP/1.1");
        Assert.That(Format(r), Does.EndWith(" \"GET /a#22b#23c#7F HTTP/1.1\""));
    }

    [Test]
    public void HttpLog_Ipv4MappedClient_PrintedAsIpv4()
    {
        var r = HttpRecord();
        r.ClientAddress = IPAddress.Parse("::ffff:10.1.2.3");
        Assert.That(Format(r), Does.StartWith("10.1.2.3:39574 ["));
    }

    [Test]
    public void TcpLog_Normal_MatchesHaproxyDefaultFormat()
    {
        var r = HttpRecord();
        r.Format = TrafficLogFormat.Tcp;
        r.TimeQueue = 0;
        r.TimeConnect = 1;
        r.TimeTotal = 2005;
        r.Bytes = 212;
        Assert.That(Format(r), Is.EqualTo("127.0.0.1:39574 [25/Nov/2026:09:10:11.123] fe be/s1 0/1/2005 212 -- 1/1/0/0/0 0/0"));
    }

    [Test]
    public void TcpLog_ConnectFailure()
    {
        var r = HttpRecord();
        r.Format = TrafficLogFormat.Tcp;
        r.TimeConnect = -1;
        r.TimeTotal = 3;
        r.Bytes = 0;
        r.Cause = 'S';
        r.Phase = 'C';
        r.Retries = 3;
        Assert.That(Format(r), Is.EqualTo("127.0.0.1:39574 [25/Nov/2026:09:10:11.123] fe be/s1 0/-1/3 0 SC 1/1/0/0/3 0/0"));
    }

    [Test]
    public void Format_DestinationTooSmall_CutsWithoutFailing()
    {
        var buffer = new byte[20];
        Assert.That(TrafficLogFormatter.Format(HttpRecord(), buffer), Is.EqualTo(20));
        Assert.That(Encoding.ASCII.GetString(buffer), Is.EqualTo("127.0.0.1:39574 [25/"));
    }

    private static readonly DateTimeOffset Now = new(2026, 11, 5, 9, 10, 11, 123, TimeSpan.Zero);

    private static string Frame(string format, string facility = "local0", string? level = null, int? len = null, string target = "127.0.0.1:514",
        string? minLevel = null)
    {
        using var sink = new TrafficLogSink(new LogTarget(target, facility, level, format) { MaxLength = len, MinLevel = minLevel });
        var dest = new byte[70000];
        int n = TrafficLogger.Frame(sink, "msg text"u8, dest, "host"u8, "proxy[42]"u8, Now);
        return Encoding.UTF8.GetString(dest, 0, n);
    }

    [TestCase("rfc3164", "<134>Nov  5 09:10:11 host proxy[42]: msg text")]
    [TestCase("local", "<134>Nov  5 09:10:11 proxy[42]: msg text")]
    [TestCase("priority", "<134>msg text")]
    [TestCase("short", "<6>msg text")]
    [TestCase("raw", "msg text")]
    [TestCase("iso", "2026-11-05T09:10:11.123000+00:00 msg text")]
    [TestCase("timed", "<6>2026-11-05T09:10:11.123000+00:00 msg text")]
    public void Frame_EachFormat_HasHaproxysHeader(string format, string expected)
    {
        Assert.That(Frame(format), Is.EqualTo(expected));
    }

    [Test]
    public void Frame_Rfc5424()
    {
        Assert.That(Frame("rfc5424"), Is.EqualTo($"<134>1 2026-11-05T09:10:11.123000+00:00 host proxy {Environment.ProcessId} - - msg text"));
    }

    [Test]
    public void Frame_Rfc5424_WithStructuredData_PutsItAfterTheMsgId()
    {
        // HAProxy 2.6.12, `log stdout format rfc5424` and `log-format-sd`: "<134>1 DATE - haproxy PID - [exampleSDID@1234 status="200"] MSG".
        using var sink = new TrafficLogSink(new LogTarget("127.0.0.1:514", "local0", null, "rfc5424"));
        var dest = new byte[1000];
        int n = TrafficLogger.Frame(sink, "msg text"u8, dest, "host"u8, "proxy[42]"u8, Now, structuredData: "[exampleSDID@1234 status=\"200\"]"u8);
        Assert.That(Encoding.UTF8.GetString(dest, 0, n),
            Is.EqualTo($"<134>1 2026-11-05T09:10:11.123000+00:00 host proxy {Environment.ProcessId} - [exampleSDID@1234 status=\"200\"] msg text"));
        using var other = new TrafficLogSink(new LogTarget("127.0.0.1:514", "local0", null, "rfc3164"));
        n = TrafficLogger.Frame(other, "msg text"u8, dest, "host"u8, "proxy[42]"u8, Now, structuredData: "[x@1]"u8);
        Assert.That(Encoding.UTF8.GetString(dest, 0, n), Does.Not.Contain("[x@1]"), "only rfc5424 targets carry it");
    }

    [Test]
    public void Frame_FacilityAndMinLevel_SetPriority()
    {
        Assert.That(Frame("priority", facility: "daemon"), Is.EqualTo("<30>msg text"));        // 3 * 8 + 6
        Assert.That(Frame("priority", minLevel: "debug"), Is.EqualTo("<135>msg text"));         // raised to debug
    }

    [Test]
    public void Frame_Len_CutsTheWholeLine()
    {
        Assert.That(Frame("local", len: 30), Is.EqualTo("<134>Nov  5 09:10:11 proxy[42]"));   // 30 bytes
    }

    [Test]
    public void Frame_Stdout_EndsWithNewline()
    {
        Assert.That(Frame("raw", target: "stdout"), Is.EqualTo("msg text\n"));
    }

    [TestCase(null, true)]
    [TestCase("info", true)]
    [TestCase("debug", true)]
    [TestCase("notice", false)]
    [TestCase("err", false)]
    public void Sink_Level_DecidesWhetherInfoTrafficGoesThere(string? level, bool accepts)
    {
        using var sink = new TrafficLogSink(new LogTarget("127.0.0.1:514", "local0", level, "rfc3164"));
        Assert.That(sink.Accepts(), Is.EqualTo(accepts));
    }

    [Test]
    public void Ring_Full_DropsAndCounts_ThenReusesSlots()
    {
        var ring = new TrafficLogRing(4);
        var claimed = new List<TrafficLogRecord>();
        for (int i = 0; i < 4; i++)
        {
            var slot = ring.TryClaim();
            Assert.That(slot, Is.Not.Null);
            slot!.Status = i;
            claimed.Add(slot);
        }
        Assert.That(ring.TryClaim(), Is.Null);
        Assert.That(ring.Dropped, Is.EqualTo(1));
        Assert.That(ring.TryPeek(), Is.Null, "nothing published yet");
        foreach (var slot in claimed) TrafficLogRing.Publish(slot);
        for (int i = 0; i < 4; i++)
        {
            var slot = ring.TryPeek();
            Assert.That(slot!.Status, Is.EqualTo(i), "in order");
            ring.Release(slot);
        }
        Assert.That(ring.TryPeek(), Is.Null);
        Assert.That(ring.TryClaim(), Is.Not.Null, "slots are reused");
    }
}
