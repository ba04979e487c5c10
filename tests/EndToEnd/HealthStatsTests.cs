using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Health checks through the real executables (two workers): check figures read back with `proxyctl stats --csv`
/// and `show stat`, never multiplied by the number of workers; passive errors seen by any worker reach the checker.
/// </summary>
[TestFixture]
public sealed class HealthStatsTests
{
    private static string Config(int port, string servers, string backendExtra = "") => $"""
        defaults
            mode http
            timeout connect 1s
            timeout client 10s
            timeout server 10s
            timeout check 2s
        frontend fe
            bind 127.0.0.1:{port}
            default_backend be
        backend be
            option httpchk GET /health
        {backendExtra}
        {servers}
        """;

    /// <summary>An origin whose /health answers <c>health()</c> and / answers <c>root()</c>.</summary>
    private static HttpOrigin Origin(string name, Func<int> health, Func<int>? root = null) => new(name, req =>
        req.StartLine.Split(' ')[1] == "/health"
            ? HttpOrigin.Response(health(), "hc")
            : HttpOrigin.Response(root?.Invoke() ?? 200, name, ("X-Origin", name)));

    /// <summary>The CSV rows of `pxname,svname` as column-name maps: the total first, then one per worker.</summary>
    private static List<Dictionary<string, string>> Rows(string csv, string px, string sv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var names = lines[0].TrimStart('#', ' ').Split(',');
        return lines.Skip(1).Where(l => l.StartsWith($"{px},{sv},", StringComparison.Ordinal))
            .Select(l => l.Split(',')).Select(cells => names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => cells[x.i])).ToList();
    }

    private static List<Dictionary<string, string>> Stats(ProxyInstance proxy, string px, string sv)
    {
        var r = proxy.Ctl("stats", "--csv");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        return Rows(r.Stdout, px, sv);
    }

    private static async Task<List<Dictionary<string, string>>> WaitStatsAsync(ProxyInstance proxy, string px, string sv,
        Func<List<Dictionary<string, string>>, bool> until, string what, int timeoutMs = 8000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            var rows = Stats(proxy, px, sv);
            if (until(rows)) return rows;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{what} not seen in {timeoutMs} ms:\n" + string.Join("\n", rows.Select(r => string.Join(",", r.Where(kv => kv.Value != "").Select(kv => $"{kv.Key}={kv.Value}")))));
            await Task.Delay(200);
        }
    }

    private static async Task<int> GetStatusAsync(int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync("127.0.0.1", port);
        await s.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"), SocketFlags.None);
        var response = await new HttpReader(s).ReadAsync(isResponse: true);
        return response!.Status;
    }

    [Test]
    public async Task CheckFields_ReadBack_NotMultipliedByWorkers()
    {
        int health1 = 200, health2 = 200;
        await using var o1 = Origin("s1", () => Volatile.Read(ref health1));
        await using var o2 = Origin("s2", () => Volatile.Read(ref health2));
        using var proxy = new ProxyInstance(Config(Ports.Free(),
            $"    server s1 127.0.0.1:{o1.EndPoint.Port} check inter 100ms rise 2 fall 2\n    server s2 127.0.0.1:{o2.EndPoint.Port} check inter 100ms")).Start();
        await WaitStatsAsync(proxy, "be", "s1", rows => rows[0]["check_status"] == "L7OK", "s1 L7OK");

        Volatile.Write(ref health1, 503);
        var s1 = await WaitStatsAsync(proxy, "be", "s1", rows => rows.All(r => r["status"] == "DOWN") && rows[0]["check_status"] == "L7STS", "s1 DOWN in every row");
        Assert.That(s1, Has.Count.EqualTo(3), "the total and one row per worker");
        var total = s1[0];
        Assert.That(total["chkdown"], Is.EqualTo("1"), "one transition, not one per worker");
        Assert.That(total["chkfail"], Is.EqualTo("2"), "fall 2: two failed checks");
        Assert.That(total["check_code"], Is.EqualTo("503"));
        Assert.That(total["check_desc"], Is.EqualTo("Layer7 wrong status"));
        // The checker's own figure, not a sum over workers (a check's length depends on the box's load: no bound here).
        Assert.That(int.Parse(total["check_duration"]), Is.GreaterThanOrEqualTo(0));
        Assert.That(s1.Skip(1).Select(r => r["check_duration"]).Where(d => d.Length > 0).Distinct(), Is.EquivalentTo(new[] { total["check_duration"] }));
        Assert.That(int.Parse(total["lastchg"]), Is.InRange(0, 10));
        Assert.That(int.Parse(total["downtime"]), Is.InRange(0, 10));
        Assert.That((total["check_rise"], total["check_fall"], total["check_health"]), Is.EqualTo(("2", "2", "0")));
        Assert.That(Stats(proxy, "be", "BACKEND")[0]["chkdown"], Is.EqualTo("0"), "s2 is still up: the backend is not down");

        // The control socket's `show stat` renders the same board.
        var showStat = await ControlClient.SendAsync(proxy.SocketPath, "show stat", TimeSpan.FromSeconds(5));
        var viaSocket = Rows(showStat, "be", "s1")[0];
        Assert.That((viaSocket["status"], viaSocket["check_status"], viaSocket["chkdown"]), Is.EqualTo(("DOWN", "L7STS", "1")));

        // Every server down: the backend goes DOWN once.
        Volatile.Write(ref health2, 500);
        await WaitStatsAsync(proxy, "be", "BACKEND", rows => rows[0]["status"] == "DOWN" && rows[0]["chkdown"] == "1", "backend DOWN, chkdown 1");
        Volatile.Write(ref health1, 200);
        await WaitStatsAsync(proxy, "be", "s1", rows => rows.All(r => r["status"] == "UP") && rows[0]["check_status"] == "L7OK", "s1 UP again");
        Assert.That(Stats(proxy, "be", "s1")[0]["chkdown"], Is.EqualTo("1"));
    }

    [Test]
    public async Task KestrelOrigin_HealthFile_DownThenUp_TrafficFollows()
    {
        // The real origin (Kestrel) answers /health with the status written in a file.
        var dir = Directory.CreateTempSubdirectory("health-").FullName;
        try
        {
            var file = Path.Combine(dir, "web1");
            using var web1 = new OriginProcess("web1", "--health-file", file);
            using var web2 = new OriginProcess("web2");
            int port = Ports.Free();
            using var proxy = new ProxyInstance(Config(port,
                $"    server web1 127.0.0.1:{web1.Port} check inter 100ms rise 2 fall 2\n    server web2 127.0.0.1:{web2.Port} check inter 100ms")).Start();
            await WaitStatsAsync(proxy, "be", "web1", rows => rows[0]["check_status"] == "L7OK", "web1 L7OK");
            File.WriteAllText(file, "503");
            await WaitStatsAsync(proxy, "be", "web1", rows => rows.All(r => r["status"] == "DOWN"), "web1 DOWN everywhere");
            for (int i = 0; i < 6; i++) Assert.That(await GetOriginAsync(port), Is.EqualTo("web2"));
            File.WriteAllText(file, "200");
            await WaitStatsAsync(proxy, "be", "web1", rows => rows.All(r => r["status"] == "UP"), "web1 UP everywhere");
            var seen = new HashSet<string?>();
            for (int i = 0; i < 6; i++) seen.Add(await GetOriginAsync(port));
            Assert.That(seen, Is.EquivalentTo(new[] { "web1", "web2" }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<string?> GetOriginAsync(int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync("127.0.0.1", port);
        await s.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"), SocketFlags.None);
        return (await new HttpReader(s).ReadAsync(isResponse: true))!.Header("X-Origin");
    }

    [Test]
    public async Task PassiveErrors_InAnyWorker_ReachTheChecker()
    {
        int port = Ports.Free();
        await using var a = Origin("a", () => 200, () => 500);
        await using var spare = Origin("spare", () => 200);
        // error-limit 1: every 500 is one on-error action (hanafail), taken by the checker whichever worker saw it;
        // /health answers 200, so rise 1 brings `a` back within about inter.
        using var proxy = new ProxyInstance(Config(port,
            $"    server a 127.0.0.1:{a.EndPoint.Port} check inter 100ms rise 1 fall 2 observe layer7 error-limit 1 on-error mark-down\n"
            + $"    server spare 127.0.0.1:{spare.EndPoint.Port} backup")).Start();
        await WaitStatsAsync(proxy, "be", "a", rows => rows[0]["check_status"] == "L7OK", "a checked");

        // Until the worker that does not check (its row has no check_status) has answered at least one 500.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<Dictionary<string, string>> rows;
        do
        {
            for (int i = 0; i < 4; i++)
            {
                await GetStatusAsync(port);
                await Task.Delay(250);   // a is back UP within inter (rise 1)
            }
            await Task.Delay(600);       // one board publication
            rows = Stats(proxy, "be", "a");
        } while (DateTime.UtcNow < deadline && !rows.Skip(1).Any(r => r["check_status"] == "" && int.Parse(r["hrsp_5xx"]) > 0));
        Assert.That(rows.Skip(1).Any(r => r["check_status"] == "" && int.Parse(r["hrsp_5xx"]) > 0), Is.True,
            "the non-checking worker never answered a 500 from a");
        // Every 500 (in either worker) became one action of the checker, each one taking `a` DOWN.
        rows = await WaitStatsAsync(proxy, "be", "a", r => r[0]["hanafail"] == r[0]["hrsp_5xx"], "hanafail = 500s answered");
        Assert.That(int.Parse(rows[0]["chkdown"]), Is.GreaterThanOrEqualTo(int.Parse(rows[0]["hanafail"])));
    }
}
