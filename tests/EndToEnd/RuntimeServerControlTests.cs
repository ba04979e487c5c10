using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>`proxyctl server ...` and the runtime API's `set server` / `set weight`: every worker obeys, reloads keep it.</summary>
[TestFixture]
public sealed class RuntimeServerControlTests
{
    private static async Task SendAsync(int port, int count)
    {
        for (int i = 0; i < count; i++)
            Assert.That(await TcpClientHelper.RoundTripAsync(port, [1], TimeSpan.FromSeconds(5)), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task Disable_Then_Enable_TrafficLeavesAndReturnsInEveryWorker()
    {
        using var e1 = new EchoServer();
        using var e2 = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, e1.Port, e2.Port)).Start();

        var r = proxy.Ctl("server", "disable", "be/s1");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        int before = e1.Connections;
        await SendAsync(port, 60); // spread over both workers by the kernel
        Assert.That(e1.Connections, Is.EqualTo(before), "a server in maintenance gets no new connection from any worker");

        await Poll.UntilAsync(
            () => ProcessRunner.Run(Artifacts.Proxyctl, ["stats", "-f", proxy.ConfigPath, "--csv"]).Stdout.Split('\n').First(l => l.StartsWith("be,s1,")),
            row => row.Contains(",MAINT,"), "be/s1 in MAINT on the board");

        // A reload keeps the setting for a server that still exists.
        Assert.That(proxy.Ctl("reload").ExitCode, Is.EqualTo(0));
        await SendAsync(port, 30);
        Assert.That(e1.Connections, Is.EqualTo(before), "the setting survives a reload");

        Assert.That(proxy.Ctl("server", "enable", "be/s1").ExitCode, Is.EqualTo(0));
        await SendAsync(port, 60);
        Assert.That(e1.Connections, Is.GreaterThan(before + 10), "back in service");
    }

    [Test]
    public async Task WeightZeroAndDrain_TakeNoNewTraffic()
    {
        using var e1 = new EchoServer();
        using var e2 = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, e1.Port, e2.Port)).Start();

        var r = proxy.Ctl("server", "weight", "be/s2", "0");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout, Does.Contain("0 (initial 1)"));
        int before = e2.Connections;
        await SendAsync(port, 40);
        Assert.That(e2.Connections, Is.EqualTo(before));

        Assert.That(proxy.Ctl("server", "weight", "be/s2", "1").ExitCode, Is.EqualTo(0));
        Assert.That(proxy.Ctl("server", "drain", "be/s2").ExitCode, Is.EqualTo(0));
        before = e2.Connections;
        await SendAsync(port, 40);
        Assert.That(e2.Connections, Is.EqualTo(before), "a draining server gets no new connection");
    }

    [Test]
    public void ChangingAServer_NeedsLevelAdmin()
    {
        using var proxy = new ProxyInstance(TestConfigs.Tcp(Ports.Free(), Ports.Free(), Ports.Free()));
        File.WriteAllText(proxy.ConfigPath, File.ReadAllText(proxy.ConfigPath).Replace("level admin", "level operator"));
        proxy.Start();
        var r = proxy.Ctl("server", "disable", "be/s1");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Stderr, Does.Contain("Permission denied"));
        Assert.That(proxy.Ctl("status").ExitCode, Is.EqualTo(0), "reading needs no level");
    }

    [Test]
    public void UnknownServer_IsAnErrorInHaproxyWords()
    {
        using var proxy = new ProxyInstance(TestConfigs.Tcp(Ports.Free(), Ports.Free(), Ports.Free())).Start();
        var r = proxy.Ctl("server", "disable", "be/nope");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Stderr, Does.Contain("No such server."));
        r = proxy.Ctl("server", "weight", "be/s1", "300");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Stderr, Does.Contain("between 0 and 256"));
    }
}
