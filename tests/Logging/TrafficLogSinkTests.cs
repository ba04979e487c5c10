using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Logging;

namespace Proxy.Tests.Logging;

/// <summary>The destinations of traffic logs: a path is a Unix datagram socket (like /dev/log), an address is UDP.</summary>
public class TrafficLogSinkTests
{
    [Test]
    public void PathTarget_SendsOneDatagramPerLine_OverAUnixSocket()
    {
        string dir = Directory.CreateTempSubdirectory("sink-test-").FullName;
        string path = Path.Combine(dir, "log");
        try
        {
            using var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            server.Bind(new UnixDomainSocketEndPoint(path));
            server.ReceiveTimeout = 5000;
            using var sink = new TrafficLogSink(new LogTarget(path, "local0", null, "local"));
            sink.Send("<134>one"u8);
            sink.Send("<134>two"u8);
            var buf = new byte[1024];
            Assert.That(Encoding.ASCII.GetString(buf, 0, server.Receive(buf)), Is.EqualTo("<134>one"));
            Assert.That(Encoding.ASCII.GetString(buf, 0, server.Receive(buf)), Is.EqualTo("<134>two"));
            Assert.That(sink.Failed, Is.Zero);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void PathTarget_NobodyListening_CountsFailuresAndNeverThrows()
    {
        using var sink = new TrafficLogSink(new LogTarget("/nonexistent/dir/log", "local0", null, "local"));
        sink.Send("x"u8);
        sink.Send("y"u8);
        Assert.That(sink.Failed, Is.EqualTo(2));
    }

    [Test]
    public void AddressTarget_SendsUdpDatagrams()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.ReceiveTimeout = 5000;
        int port = ((IPEndPoint)server.LocalEndPoint!).Port;
        using var sink = new TrafficLogSink(new LogTarget($"127.0.0.1:{port}", "local0", null, "rfc3164"));
        sink.Send("<134>line"u8);
        var buf = new byte[1024];
        Assert.That(Encoding.ASCII.GetString(buf, 0, server.Receive(buf)), Is.EqualTo("<134>line"));
    }
}
