using System.Net;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Counted means kept: workers count straight into the stats board, so every answered request is in `proxyctl stats`
/// and `show stat` the moment its answer arrives, and stays there when every worker is killed with SIGKILL.
/// </summary>
[TestFixture]
public sealed class StatsLiveTests
{
    private static string Config(int port, OriginProcess origin) => $"""
        defaults
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
        frontend web
            bind 127.0.0.1:{port}
            default_backend app
        backend app
            server o1 127.0.0.1:{origin.Port}
        """;

    private static Dictionary<string, string> TotalRow(string csv, string px, string sv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var names = lines[0].TrimStart('#', ' ').Split(',');
        // Totals come first (pid 0), then one block per worker.
        var cells = lines.Skip(1).Select(l => l.Split(','))
            .First(c => c[0] == px && c[1] == sv && c[Array.IndexOf(names, "pid")] == "0");
        return names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => cells[x.i]);
    }

    private static Dictionary<string, string> ProxyctlTotal(ProxyInstance proxy, string px, string sv)
    {
        var r = proxy.Ctl("stats", "--csv");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        return TotalRow(r.Stdout, px, sv);
    }

    private static async Task<Dictionary<string, string>> ShowStatTotal(ProxyInstance proxy, string px, string sv) =>
        TotalRow(await ControlClient.SendAsync(proxy.SocketPath, "show stat", TimeSpan.FromSeconds(5)), px, sv);

    /// <summary>Sends <paramref name="count"/> requests over 4 keep-alive connections and checks every answer.</summary>
    private static async Task<int> SendRequestsAsync(int port, int count)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 4 })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromSeconds(20),
        };
        int answered = 0;
        var lanes = Enumerable.Range(0, 4).Select(async lane =>
        {
            for (int i = lane; i < count; i += 4)
            {
                using var resp = await http.GetAsync("/");
                Assert.That(resp.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                await resp.Content.ReadAsByteArrayAsync();
                Interlocked.Increment(ref answered);
            }
        });
        await Task.WhenAll(lanes);
        return answered;
    }

    [Test]
    public async Task Stats_RightAfterABurst_ShowEveryAnsweredRequest()
    {
        using var origin = new OriginProcess("o1");
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, origin)).Start();

        int answered = await SendRequestsAsync(port, 400);

        // No wait: the counts are on the board before the answers left the proxy.
        var fe = ProxyctlTotal(proxy, "web", "FRONTEND");
        var be = ProxyctlTotal(proxy, "app", "BACKEND");
        var srv = ProxyctlTotal(proxy, "app", "o1");
        var viaSocket = await ShowStatTotal(proxy, "web", "FRONTEND");
        Assert.Multiple(() =>
        {
            Assert.That(fe["req_tot"], Is.EqualTo(answered.ToString()), "frontend req_tot");
            Assert.That(fe["hrsp_2xx"], Is.EqualTo(answered.ToString()), "frontend hrsp_2xx");
            Assert.That(be["hrsp_2xx"], Is.EqualTo(answered.ToString()), "backend hrsp_2xx");
            Assert.That(srv["hrsp_2xx"], Is.EqualTo(answered.ToString()), "server hrsp_2xx");
            Assert.That(long.Parse(srv["lbtot"]), Is.EqualTo(answered), "server lbtot");
            Assert.That(viaSocket["hrsp_2xx"], Is.EqualTo(answered.ToString()), "show stat");
            Assert.That(long.Parse(srv["ttime"]), Is.GreaterThanOrEqualTo(0));
            Assert.That((fe["dresp"], be["dresp"], srv["dresp"]), Is.EqualTo(("0", "0", "0")), "no response denied: dresp counted, at 0");
        });
        var info = await ControlClient.SendAsync(proxy.SocketPath, "show info", TimeSpan.FromSeconds(5));
        Assert.That(info, Does.Contain($"CumReq: {answered}\n"));
    }

    [Test]
    public async Task Stats_EveryWorkerKilled_NoAnsweredRequestMissing()
    {
        using var origin = new OriginProcess("o1");
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, origin)).Start();
        var workers = proxy.Workers();
        Assert.That(workers, Has.Count.EqualTo(2));

        int answered = await SendRequestsAsync(port, 300);
        foreach (var w in workers) Posix.Signal(w.Pid, Posix.SIGKILL);

        // At once, whether or not the supervisor has reaped and folded them yet.
        var fe = ProxyctlTotal(proxy, "web", "FRONTEND");
        Assert.That(long.Parse(fe["hrsp_2xx"]), Is.GreaterThanOrEqualTo(answered), "right after SIGKILL");
        Assert.That(long.Parse(fe["req_tot"]), Is.GreaterThanOrEqualTo(answered));

        // And once both slots are replaced (the dead workers' counts folded into the retired totals).
        var dead = workers.Select(w => w.Pid).ToHashSet();
        long deadline = Environment.TickCount64 + 20_000;
        while (proxy.Workers().Count(w => !dead.Contains(w.Pid) && w.State == "running") < 2)
        {
            Assert.That(Environment.TickCount64, Is.LessThan(deadline), "the supervisor respawned both workers");
            await Task.Delay(100);
        }
        var after = ProxyctlTotal(proxy, "web", "FRONTEND");
        var viaSocket = await ShowStatTotal(proxy, "web", "FRONTEND");
        var srv = await ShowStatTotal(proxy, "app", "o1");
        Assert.Multiple(() =>
        {
            Assert.That(long.Parse(after["hrsp_2xx"]), Is.GreaterThanOrEqualTo(answered), "proxyctl stats after respawn");
            Assert.That(long.Parse(viaSocket["hrsp_2xx"]), Is.GreaterThanOrEqualTo(answered), "show stat after respawn");
            Assert.That(long.Parse(srv["hrsp_2xx"]), Is.GreaterThanOrEqualTo(answered), "server row");
            Assert.That(long.Parse(srv["lbtot"]), Is.GreaterThanOrEqualTo(answered), "server lbtot");
        });
    }

    [Test]
    public async Task Stats_Timers_CarryHaproxysMeaning_ResponseTimeOfASlowServer()
    {
        using var origin = new OriginProcess("o1");
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, origin)).Start();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
        for (int i = 0; i < 3; i++)
        {
            using var resp = await http.GetAsync("/delay/200");
            Assert.That(resp.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var srv = ProxyctlTotal(proxy, "app", "o1");
        var be = ProxyctlTotal(proxy, "app", "BACKEND");
        var fe = ProxyctlTotal(proxy, "web", "FRONTEND");
        Assert.Multiple(() =>
        {
            // rtime: connect to response head (Tr), averaged over the 3 requests; ttime: the whole request (Tt).
            Assert.That(long.Parse(srv["rtime"]), Is.InRange(190, 2000), "rtime");
            Assert.That(long.Parse(srv["ttime"]), Is.GreaterThanOrEqualTo(long.Parse(srv["rtime"])), "ttime");
            Assert.That(long.Parse(srv["ctime"]), Is.InRange(0, 1000), "ctime");
            Assert.That(long.Parse(srv["qtime"]), Is.EqualTo(0), "nothing queued");
            Assert.That((be["rtime"], be["ttime"]), Is.EqualTo((srv["rtime"], srv["ttime"])), "the backend's are its only server's");
            Assert.That(fe["rtime"], Is.Empty, "HAProxy: ..BS");
            Assert.That((fe["mode"], srv["mode"]), Is.EqualTo(("http", "http")));
        });
    }
}
