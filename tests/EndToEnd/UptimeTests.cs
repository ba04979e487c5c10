using System.Diagnostics;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>`show info` Uptime is the supervisor process's age; the totals carried over from a previous run are not.</summary>
[TestFixture]
public sealed class UptimeTests
{
    private static long InfoValue(string info, string name) =>
        long.Parse(Regex.Match(info, $@"(?m)^{name}: (\d+)$").Groups[1].Value);

    [Test]
    public async Task ShowInfo_AfterKill9AndRestart_UptimeIsTheNewProcessAge_TotalsCarryOver()
    {
        using var echo = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port)).Start();
        Assert.That(await TcpClientHelper.RoundTripAsync(port, [1], TimeSpan.FromSeconds(5)), Has.Length.EqualTo(1));
        await Poll.UntilAsync(() => ControlClient.SendAsync(proxy.SocketPath, "show info", TimeSpan.FromSeconds(5)).GetAwaiter().GetResult(),
            info => InfoValue(info, "Uptime_sec") >= 3 && InfoValue(info, "CumConns") >= 1, "first run: Uptime_sec 3 and the connection counted");

        var workers = proxy.Workers();
        Posix.Signal(proxy.SupervisorPid, Posix.SIGKILL);
        await Poll.UntilAsync(() => workers.All(w => !Posix.ProcessExists(w.Pid)), "the orphaned workers exit", TimeSpan.FromSeconds(20));

        var age = Stopwatch.StartNew();
        proxy.Start();
        string again = await ControlClient.SendAsync(proxy.SocketPath, "show info", TimeSpan.FromSeconds(5));
        long uptime = InfoValue(again, "Uptime_sec");
        TestContext.Out.WriteLine($"after restart: Uptime_sec {uptime}, process at most {age.Elapsed.TotalSeconds:0.0} s old, CumConns {InfoValue(again, "CumConns")}");
        Assert.That(uptime, Is.LessThanOrEqualTo((long)Math.Ceiling(age.Elapsed.TotalSeconds)), "Uptime is the new process's age (issue 14: 277 s for a 96 s old process)");
        Assert.That(InfoValue(again, "CumConns"), Is.GreaterThanOrEqualTo(1), "totals survive the restart");
    }
}
