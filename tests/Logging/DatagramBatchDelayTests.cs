using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Logging;

namespace Proxy.Tests.Logging;

/// <summary>
/// Datagram log lines under back-pressure and at low volume (review finding 7): a full socket buffer keeps the unsent
/// lines for the next flush instead of dropping the rest of the batch, a stuck reader costs them after
/// TrafficLogSink.MaxKeepMs, and a lone line goes out within TrafficLogSink.MaxDelayMs though its batch never fills.
/// </summary>
public class DatagramBatchDelayTests
{
    private const int LineLength = 2000;   // large lines fill the sender's buffer (or the reader's queue) in a few dozen

    private static string TempSocketPath(out string dir)
    {
        dir = Directory.CreateTempSubdirectory("dgram-test-").FullName;
        return Path.Combine(dir, "log");
    }

    private static Socket UnixReader(string path)
    {
        var reader = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        reader.Bind(new UnixDomainSocketEndPoint(path));
        return reader;
    }

    private static byte[] Line(int i) => Encoding.ASCII.GetBytes($"<134>{i} ".PadRight(LineLength, 'x'));

    /// <summary>What the reader has, without waiting: each line's number.</summary>
    private static void Drain(Socket reader, List<int> into)
    {
        var buf = new byte[LineLength + 16];
        while (reader.Available > 0)
        {
            string text = Encoding.ASCII.GetString(buf, 0, reader.Receive(buf));
            into.Add(int.Parse(text[5..text.IndexOf(' ')]));
        }
    }

    /// <summary>Queues full batches to a reader that reads nothing until one flush keeps lines (EAGAIN); returns the lines queued.</summary>
    private static int FillUntilKept(TrafficLogSink sink, long nowMs)
    {
        for (int i = 0; i < 64 * 32; i++)
        {
            sink.Queue(Line(i), nowMs);
            if (i % 32 == 31 && sink.HasQueued) return i + 1;   // the full batch went out in part: the buffer is full
        }
        Assert.Fail("the reader's queue never filled");
        return 0;
    }

    [Test]
    public void AFullSocketBuffer_KeepsTheUnsentLines_ForTheNextFlush()
    {
        string path = TempSocketPath(out string dir);
        try
        {
            using var reader = UnixReader(path);
            using var sink = new TrafficLogSink(new LogTarget(path, "local0", null, "local") { MaxLength = LineLength + 16 });
            int queued = FillUntilKept(sink, 1_000);
            Assert.That(sink.Failed, Is.Zero, "the lines a full buffer refused wait in the batch");
            var received = new List<int>();
            // The reader catches up; each flush sends what now fits.
            for (int round = 0; round < 200 && (sink.HasQueued || reader.Available > 0); round++)
            {
                Drain(reader, received);
                sink.Flush(1_000 + round);
            }
            Drain(reader, received);
            Assert.That(received, Is.EqualTo(Enumerable.Range(0, queued)), "every line, once, in order");
            Assert.That(sink.Failed, Is.Zero);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void AStuckReader_CostsTheKeptLines_AfterMaxKeep_AndANewLineFindingTheBatchFull()
    {
        string path = TempSocketPath(out string dir);
        try
        {
            using var reader = UnixReader(path);
            using var sink = new TrafficLogSink(new LogTarget(path, "local0", null, "local") { MaxLength = LineLength + 16 });
            const long t = 1_000;
            FillUntilKept(sink, t);
            // The batch fills up again with lines nobody takes; the next line finds it full, tried again too soon.
            for (int i = 0; i < 64 && sink.Failed == 0; i++) sink.Queue(Line(-1), t);
            Assert.That(sink.Failed, Is.EqualTo(1), "a line finding the batch full of refused lines is lost");
            // Tried again every MaxDelayMs, the reader taking nothing: lost after MaxKeepMs.
            for (long at = t + TrafficLogSink.MaxDelayMs; sink.HasQueued && at <= t + 2 * TrafficLogSink.MaxKeepMs; at += TrafficLogSink.MaxDelayMs)
            {
                sink.FlushIfDue(at);
                if (at < t + TrafficLogSink.MaxKeepMs) Assert.That(sink.Failed, Is.EqualTo(1), $"{at - t} ms: still kept");
            }
            Assert.That(sink.HasQueued, Is.False, "dropped once the reader was stuck for MaxKeepMs");
            Assert.That(sink.Failed, Is.EqualTo(33), "the 32 kept lines and the one refused, counted");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void ALoneLine_GoesOutOnceItWaitedMaxDelay()
    {
        using var reader = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        reader.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        reader.ReceiveTimeout = 5000;
        int port = ((IPEndPoint)reader.LocalEndPoint!).Port;
        using var sink = new TrafficLogSink(new LogTarget($"127.0.0.1:{port}", "local0", null, "rfc3164"));
        sink.Queue("<134>lone"u8, 5_000);
        sink.FlushIfDue(5_000 + TrafficLogSink.MaxDelayMs - 1);
        Assert.That(sink.HasQueued, Is.True, "younger than MaxDelayMs: it waits for company");
        sink.FlushIfDue(5_000 + TrafficLogSink.MaxDelayMs);
        Assert.That(sink.HasQueued, Is.False);
        var buf = new byte[64];
        Assert.That(Encoding.ASCII.GetString(buf, 0, reader.Receive(buf)), Is.EqualTo("<134>lone"));
    }
}
