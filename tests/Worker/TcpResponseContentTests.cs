using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// `tcp-response inspect-delay` and `tcp-response content accept|reject|close` in a mode tcp backend (doc/configuration.txt
/// 4.2), on the server's first bytes (`res.payload`, `res.len`), before any of them reaches the client.
/// </summary>
public class TcpResponseContentTests
{
    /// <summary>A server that sends <paramref name="banner"/> in two writes 100 ms apart, then echoes what it receives.</summary>
    private static TestServer BannerServer(string banner) => new(async s =>
    {
        var bytes = Encoding.ASCII.GetBytes(banner);
        await s.SendAsync(bytes.AsMemory(0, 2), SocketFlags.None);
        await Task.Delay(100);   // pacing: the rest comes later, as from a slow server
        await s.SendAsync(bytes.AsMemory(2), SocketFlags.None);
        var buf = new byte[256];
        int n;
        while ((n = await s.ReceiveAsync(buf, SocketFlags.None)) > 0) await s.SendAsync(buf.AsMemory(0, n), SocketFlags.None);
        s.Shutdown(SocketShutdown.Send);
    });

    private static string Config(int port) => $$"""
        defaults
            mode tcp
            timeout connect 1s
            timeout client 10s
            timeout server 10s
        frontend fe
            bind BIND
            default_backend app
        backend app
            tcp-response inspect-delay 3s
            tcp-response content reject if { res.payload(0,3) -m str BAD }
            tcp-response content close if { res.payload(0,5) -m str CLOSE }
            tcp-response content accept if { res.len ge 4 }
            server a 127.0.0.1:{{port}}
        """;

    // Close: the client sends nothing, so that what the server read (and echoes) is the banner alone.
    [TestCase("GOOD\n", "ping", "GOOD\nping", TestName = "Accept_TheBannerAndTheRelayFollow")]
    [TestCase("BAD!\n", "ping", "", TestName = "Reject_NothingOfTheServersReachesTheClient")]
    [TestCase("CLOSE\n", "", "CLOSE\n", TestName = "Close_TheClientGetsWhatWasReadThenTheEnd")]
    public async Task RulesDecideOnTheServersFirstBytes(string banner, string clientSends, string expected)
    {
        await using var server = BannerServer(banner);
        string config = Config(server.EndPoint.Port);
        HaproxyCheck.AssertAccepts(config.Replace("BIND", "127.0.0.1:8080"));
        await using var proxy = StartFromText(config);
        using var c = await proxy.ConnectAsync();
        // The client's bytes go to the server while its banner is inspected (the server echoes them after it).
        if (clientSends.Length > 0)
        {
            await c.SendAsync(Encoding.ASCII.GetBytes(clientSends), SocketFlags.None);
            c.Shutdown(SocketShutdown.Send);
        }

        var got = Encoding.ASCII.GetString(await TcpTestKit.ReadToEndAsync(c));

        Assert.That(got, Is.EqualTo(expected));
    }

    [TestCase("tcp-response content drop", "'tcp-response content drop' is not supported")]
    [TestCase("tcp-response content accept foo", "unexpected 'foo'")]
    [TestCase("tcp-response inspect-delay", "tcp-response inspect-delay TIME")]
    [TestCase("tcp-response", "'tcp-response': missing argument")]
    public void InvalidLines_AreErrorsAtTheirLine(string line, string message)
    {
        var result = Proxy.Shared.Config.ConfigLoader.Parse($"defaults\n    mode tcp\nbackend be\n    {line}\n    server a 127.0.0.1:80\n", "t.cfg");
        Assert.That(result.Errors.Select(e => e.ToString()), Has.Some.Contains(message).And.Some.Contains("t.cfg:4"));
    }

    [Test]
    public void InAModeHttpBackend_AnError()
    {
        var result = Proxy.Shared.Config.ConfigLoader.Parse("backend be\n    mode http\n    tcp-response content accept\n    server a 127.0.0.1:80\n", "t.cfg");
        Assert.That(result.Errors.Select(e => e.ToString()), Has.Some.Contains("mode tcp only").And.Some.Contains("t.cfg:3"));
    }
}
