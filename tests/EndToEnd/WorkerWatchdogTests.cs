using System.Diagnostics;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>`worker-watchdog`: a worker that stops beating on the board is reported, then killed and replaced.</summary>
[NonParallelizable]
[TestFixture]
public sealed class WorkerWatchdogTests
{
    private const int SIGCONT = 18, SIGSTOP = 19;

    private static async Task<bool> EchoesAsync(int port)
    {
        try
        {
            var back = await TcpClientHelper.RoundTripAsync(port, [42], TimeSpan.FromSeconds(5));
            return back.Length == 1 && back[0] == 42;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    [Test]
    public async Task StoppedWorker_ReportedStalled_ThenKilledAndReplaced()
    {
        using var echo = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port), "    nbproc 2\n    worker-watchdog 1s\n").Start();
        var victim = proxy.Workers().Single(w => w.Slot == 1);
        var stopped = Stopwatch.StartNew();
        Posix.Signal(victim.Pid, SIGSTOP);
        try
        {
            // Stalled after 1 s without a heartbeat: `show proc` and `status` say so while the process still exists.
            string proc = await Poll.UntilAsync(
                () => ControlClient.SendAsync(proxy.SocketPath, "show proc", TimeSpan.FromSeconds(5)).GetAwaiter().GetResult(),
                reply => reply.Contains($" {victim.Pid} ") && reply.Contains("stalled"), "show proc reports the stopped worker stalled");
            double reportedAfter = stopped.Elapsed.TotalSeconds;
            Assert.That(proc, Does.Match($@"\n1\s+{victim.Pid}\s+\S+\s+\d+\s+stalled"));

            // Killed at 2 s and respawned into its slot; the other worker was never touched.
            await Poll.UntilAsync(() => proxy.Workers().Any(w => w.Slot == 1 && w.Pid != victim.Pid && w.State == "running"),
                "slot 1 served by a new worker");
            double replacedAfter = stopped.Elapsed.TotalSeconds;
            await Poll.UntilAsync(() => !Posix.ProcessExists(victim.Pid), "the stopped worker is gone");
            TestContext.Out.WriteLine($"stalled reported {reportedAfter:0.00} s, replaced {replacedAfter:0.00} s after SIGSTOP (worker-watchdog 1s)");
            // The age counts from the last beat, up to one interval (500 ms) before the SIGSTOP.
            Assert.That(reportedAfter, Is.GreaterThanOrEqualTo(0.45), "not before the watchdog's time");
            Assert.That(replacedAfter, Is.LessThan(6.0), "killed at about twice the watchdog's time, then respawned");
            Assert.That(proxy.Workers().Select(w => w.State), Is.All.EqualTo("running"));

            // New connections are all served again (the stopped worker's share of them hung before).
            var attempts = new List<Task<bool>>();
            for (int i = 0; i < 20; i++) attempts.Add(EchoesAsync(port));
            Assert.That((await Task.WhenAll(attempts)).Count(ok => !ok), Is.EqualTo(0));
        }
        finally
        {
            if (Posix.ProcessExists(victim.Pid)) Posix.Signal(victim.Pid, SIGCONT);
        }
    }

    [Test]
    public async Task BusyWorkers_WithDefaultWatchdog_NeverReportedStalled()
    {
        // The default (2 s) leaves a healthy worker alone: a burst of traffic and 3 s of watching see no `stalled`.
        using var echo = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port)).Start();
        var before = proxy.Workers();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(3))
        {
            var attempts = new List<Task<bool>>();
            for (int i = 0; i < 10; i++) attempts.Add(EchoesAsync(port));
            await Task.WhenAll(attempts);
            string reply = await ControlClient.SendAsync(proxy.SocketPath, "show proc", TimeSpan.FromSeconds(5));
            Assert.That(reply, Does.Not.Contain("stalled"));
        }
        Assert.That(proxy.Workers().Select(w => w.Pid), Is.EquivalentTo(before.Select(w => w.Pid)));
    }
}
