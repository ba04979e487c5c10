using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>`mode tcp` through the real supervisor and workers: bytes in, same bytes out.</summary>
[TestFixture]
public sealed class TcpForwardingTests
{
    [Test]
    public async Task Forwarding_ThousandSequentialConnections_BytesComeBackIdentical()
    {
        using var echo1 = new EchoServer();
        using var echo2 = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo1.Port, echo2.Port)).Start();
        var rng = new Random(1);
        for (int i = 0; i < 1000; i++)
        {
            // Mostly small payloads, with every 50th up to 1 MiB, to keep the run short on 2 cores.
            int size = i % 50 == 0 ? rng.Next(1, 1 << 20) : rng.Next(1, 16 * 1024);
            var payload = new byte[size];
            rng.NextBytes(payload);
            var back = await TcpClientHelper.RoundTripAsync(port, payload, TimeSpan.FromSeconds(20));
            Assert.That(back.Length, Is.EqualTo(payload.Length), $"connection {i}");
            Assert.That(SHA256.HashData(back), Is.EqualTo(SHA256.HashData(payload)), $"connection {i}");
        }
        Assert.That(echo1.Connections + echo2.Connections, Is.EqualTo(1000));
        Assert.That(echo1.Connections, Is.GreaterThan(300), "round robin should reach both servers");
        Assert.That(echo2.Connections, Is.GreaterThan(300), "round robin should reach both servers");
    }

    [Test]
    public async Task Forwarding_TwoHundredConcurrentConnections_AllByteForByte()
    {
        using var echo = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port)).Start();
        var tasks = new Task[200];
        for (int i = 0; i < tasks.Length; i++)
        {
            int seed = i;
            tasks[i] = Task.Run(async () =>
            {
                var rng = new Random(seed);
                var payload = new byte[rng.Next(1, 1 << 20)];
                rng.NextBytes(payload);
                var back = await TcpClientHelper.RoundTripAsync(port, payload, TimeSpan.FromSeconds(60));
                Assert.That(SHA256.HashData(back), Is.EqualTo(SHA256.HashData(payload)), $"connection {seed} ({payload.Length} bytes)");
            });
        }
        await Task.WhenAll(tasks);
        Assert.That(echo.Connections, Is.EqualTo(200));
    }

    [Test]
    public async Task Forwarding_DeadServer_ClientIsClosedPromptly()
    {
        int dead = Ports.Free(); // nothing listens there
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, dead)).Start();
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        var started = DateTime.UtcNow;
        var buffer = new byte[16];
        int n;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            n = await s.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        }
        catch (SocketException)
        {
            n = 0; // a reset is a prompt close too
        }
        Assert.That(n, Is.EqualTo(0));
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public async Task Stop_AfterTraffic_FreesThePort()
    {
        using var echo = new EchoServer();
        int port = Ports.Free();
        var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port)).Start();
        using (proxy)
        {
            var back = await TcpClientHelper.RoundTripAsync(port, [1, 2, 3], TimeSpan.FromSeconds(5));
            Assert.That(back, Is.EqualTo(new byte[] { 1, 2, 3 }));
            Assert.That(Ports.CanBind(port), Is.False, "the proxy should hold the port while running");
            var r = proxy.Ctl("stop");
            Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
            Assert.That(Ports.CanBind(port), Is.True, "stop must free the port");
            Assert.That(proxy.Ctl("status").ExitCode, Is.EqualTo(3), "status after stop says not running");
        }
    }
}
