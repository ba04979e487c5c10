using System.Text.Json;
using NUnit.Framework;
using Proxy.Shared.Interop;
using Proxy.Shared.Stats;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>The stats board with real workers and traffic: totals add up and never go back.</summary>
[TestFixture]
public sealed class StatsBoardTests
{
    private static async Task SendConnectionsAsync(int port, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var back = await TcpClientHelper.RoundTripAsync(port, [1, 2, 3, 4], TimeSpan.FromSeconds(10));
            Assert.That(back, Has.Length.EqualTo(4));
        }
    }

    private static JsonDocument StatsJson(ProxyInstance proxy)
    {
        var r = proxy.Ctl("stats", "--json");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        return JsonDocument.Parse(r.Stdout);
    }

    [Test]
    public async Task Stats_AfterKConnections_TotalIsAtLeastKAndTheSumOfPerProcessRows()
    {
        using var echo = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port)).Start();
        const int k = 150;
        await SendConnectionsAsync(port, k);   // counted on the board as they happen: no publish to wait for

        using var doc = StatsJson(proxy);
        var rows = doc.RootElement.GetProperty("stats").EnumerateArray()
            .Where(r => r.GetProperty("pxname").GetString() == "fe" && r.GetProperty("svname").GetString() == "FRONTEND").ToList();
        long total = rows.Single(r => r.GetProperty("pid").GetInt64() == 0).GetProperty("stot").GetInt64();
        long perProcess = rows.Where(r => r.GetProperty("pid").GetInt64() != 0).Sum(r => r.GetProperty("stot").GetInt64());
        Assert.That(total, Is.GreaterThanOrEqualTo(k));
        Assert.That(perProcess, Is.EqualTo(total), "no worker retired yet: the total is the sum of the live rows");
        Assert.That(doc.RootElement.GetProperty("workers").GetArrayLength(), Is.EqualTo(2));

        var csv = proxy.Ctl("stats", "--csv");
        Assert.That(csv.Stdout, Does.StartWith("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,"));
    }

    [Test]
    public async Task Stats_WorkerKilledAndReload_TotalNeverDecreasesAndRetiredCountsStay()
    {
        using var echo = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port)).Start();
        string board = Path.ChangeExtension(proxy.SocketPath, ".stats");

        // A reader in a tight loop for the whole test: a total must never go back.
        using var stop = new CancellationTokenSource();
        long reads = 0, violations = 0, last = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                long stot;
                try
                {
                    stot = StatsBoardReader.ReadSnapshot(board).Total("fe/FRONTEND", StatField.Stot);
                }
                catch (IOException)
                {
                    continue; // the file is being renamed over by a reload: read again
                }
                if (stot < last) violations++;
                last = Math.Max(last, stot);
                reads++;
            }
        });

        await SendConnectionsAsync(port, 100);
        var victim = proxy.Workers()[0];
        Posix.Signal(victim.Pid, Posix.SIGKILL);
        await SendConnectionsAsync(port, 50);
        long afterKill = StatsBoardReader.ReadSnapshot(board).Total("fe/FRONTEND", StatField.Stot);
        Assert.That(afterKill, Is.GreaterThanOrEqualTo(150), "the killed worker's counts are kept in the retired totals");

        var r = proxy.Ctl("reload");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        await SendConnectionsAsync(port, 50);
        // The old generation drains and retires: its counts move into the retired totals meanwhile.
        await Poll.UntilAsync(() => StatsBoardReader.ReadSnapshot(board) is var snap && snap.Workers.All(w => w.Generation == snap.Generation),
            "the old generation retired", TimeSpan.FromSeconds(15));
        long afterReload = StatsBoardReader.ReadSnapshot(board).Total("fe/FRONTEND", StatField.Stot);
        long serverTotal = StatsBoardReader.ReadSnapshot(board).Total("be/s1", StatField.Stot);

        stop.Cancel();
        await reader;
        Assert.That(afterReload, Is.GreaterThanOrEqualTo(200));
        Assert.That(serverTotal, Is.GreaterThanOrEqualTo(200), "a server kept across a reload keeps its totals");
        Assert.That(reads, Is.GreaterThan(100));
        Assert.That(violations, Is.EqualTo(0), $"a reader saw a total go back ({reads} reads)");
    }

    [Test]
    public void Stats_ThousandServers_BoardHoldsEveryRow()
    {
        var config = new System.Text.StringBuilder();
        int port = Ports.Free();
        config.Append($"""
            defaults
                mode tcp
                timeout connect 1s
                timeout client 5s
                timeout server 5s
            frontend fe
                bind 127.0.0.1:{port}
                default_backend big
            backend big

            """);
        for (int i = 0; i < 1000; i++) config.Append($"    server s{i} 127.0.0.{1 + i / 250}:{20000 + i}\n");
        using var proxy = new ProxyInstance(config.ToString()).Start();
        var r = proxy.Ctl("stats", "--csv");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        var totals = r.Stdout.Split('\n').Where(l => l.StartsWith("big,s")).ToList();
        // One total row plus one row per worker for each server.
        Assert.That(totals.Select(l => l.Split(',')[1]).Distinct().Count(), Is.EqualTo(1000));
    }
}
