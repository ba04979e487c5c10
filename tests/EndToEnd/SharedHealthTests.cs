using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>Health checks run in one worker; the supervisor relays the verdicts, so every worker agrees.</summary>
[TestFixture]
public sealed class SharedHealthTests
{
    private static string Config(int port, int s1) => $"""
        defaults
            mode tcp
            timeout connect 1s
            timeout client 10s
            timeout server 10s
        frontend fe
            bind 127.0.0.1:{port}
            default_backend be
        backend be
            server s1 127.0.0.1:{s1} check inter 100ms rise 1 fall 1
        """;

    [Test]
    public async Task Checks_RunInOneWorker_ServerProbedOncePerInterval()
    {
        using var server = new EchoServer();
        using var proxy = new ProxyInstance(Config(Ports.Free(), server.Port)).Start();
        int before = server.Connections;
        await Task.Delay(3000);
        int probes = server.Connections - before;
        // One checker: about 30 probes in 3 s at inter 100ms; two workers checking would make about 60.
        Assert.That(probes, Is.InRange(10, 45), $"{probes} health probes in 3 s with 2 workers");
    }

    [Test]
    public async Task ServerGoesDown_EveryWorkerSeesItDown()
    {
        var server = new EchoServer();
        using var proxy = new ProxyInstance(Config(Ports.Free(), server.Port)).Start();
        server.Dispose(); // nothing listens any more: the checking worker sees it DOWN, the others are told
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<string> rows;
        do
        {
            await Task.Delay(300);
            var r = proxy.Ctl("stats", "--csv");
            rows = r.Stdout.Split('\n').Where(l => l.StartsWith("be,s1,")).ToList();
        } while (DateTime.UtcNow < deadline && !rows.All(l => l.Contains(",DOWN,")));
        Assert.That(rows, Has.Count.EqualTo(3), "a total row and one row per worker");
        Assert.That(rows, Has.All.Contain(",DOWN,"), string.Join("\n", rows));
    }
}
