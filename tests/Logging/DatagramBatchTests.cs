using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Logging;

namespace Proxy.Tests.Logging;

/// <summary>The logger queues datagram lines and sends them with one sendmmsg (issue 18): still one datagram per line.</summary>
public class DatagramBatchTests
{
    private static (Socket Server, int Port) UdpServer()
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.ReceiveTimeout = 5000;
        return (server, ((IPEndPoint)server.LocalEndPoint!).Port);
    }

    private static string Receive(Socket server)
    {
        var buf = new byte[2048];
        return Encoding.ASCII.GetString(buf, 0, server.Receive(buf));
    }

    [Test]
    public void Queue_ThenFlush_SendsEachLineAsItsOwnDatagram_InOrder()
    {
        var (server, port) = UdpServer();
        using var _ = server;
        using var sink = new TrafficLogSink(new LogTarget($"127.0.0.1:{port}", "local0", null, "rfc3164"));
        sink.Queue("<134>one"u8);
        sink.Queue("<134>two"u8);
        sink.Queue("<134>three"u8);
        Assert.That(server.Available, Is.Zero, "queued, not sent yet");
        sink.Flush();
        Assert.That(Receive(server), Is.EqualTo("<134>one"));
        Assert.That(Receive(server), Is.EqualTo("<134>two"));
        Assert.That(Receive(server), Is.EqualTo("<134>three"));
        Assert.That(sink.Failed, Is.Zero);
    }

    [Test]
    public void Queue_AFullBatch_GoesOutWithoutWaitingForFlush()
    {
        var (server, port) = UdpServer();
        using var _ = server;
        using var sink = new TrafficLogSink(new LogTarget($"127.0.0.1:{port}", "local0", null, "rfc3164"));
        for (int i = 0; i < 33; i++) sink.Queue(Encoding.ASCII.GetBytes($"<134>line {i}"));
        for (int i = 0; i < 32; i++) Assert.That(Receive(server), Is.EqualTo($"<134>line {i}"));
        Assert.That(server.Available, Is.Zero, "the 33rd waits for the next batch");
        sink.Flush();
        Assert.That(Receive(server), Is.EqualTo("<134>line 32"));
    }

    [Test]
    public void Queue_ALineLongerThanLen_IsCutToIt()
    {
        var (server, port) = UdpServer();
        using var _ = server;
        using var sink = new TrafficLogSink(new LogTarget($"127.0.0.1:{port}", "local0", null, "rfc3164") { MaxLength = 8 });
        sink.Queue("<134>abcdefgh"u8);
        sink.Flush();
        Assert.That(Receive(server), Is.EqualTo("<134>abc"));
    }

    [Test]
    public void PathTarget_NobodyListening_CountsEachQueuedLineLost()
    {
        using var sink = new TrafficLogSink(new LogTarget("/nonexistent/dir/log", "local0", null, "local"));
        sink.Queue("x"u8);
        sink.Queue("y"u8);
        sink.Flush();
        Assert.That(sink.Failed, Is.EqualTo(2));
    }
}
