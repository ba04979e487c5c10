using System.Net;
using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;

namespace Proxy.Tests.EndToEnd;

/// <summary>Server `maxconn` and the backend queue through the real supervisor and workers: the stats board and per-worker shares.</summary>
[TestFixture]
public sealed class QueueEndToEndTests
{
    private static string Config(int port, int originPort, int maxConn) => $"""
        defaults
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
            timeout queue 20s
        frontend fe
            bind 127.0.0.1:{port}
            default_backend be
        backend be
            server s 127.0.0.1:{originPort} maxconn {maxConn}
        """;

    /// <summary>The first row (the totals come first) of `proxyctl stats --csv` for pxname/svname, as column name to value.</summary>
    private static Dictionary<string, string>? CsvRow(ProxyInstance proxy, string pxname, string svname)
    {
        var r = proxy.Ctl("stats", "--csv");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var names = lines[0].TrimStart('#', ' ').Split(',');
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells[0] == pxname && cells[1] == svname)
                return names.Zip(cells).Where(p => p.First.Length > 0).ToDictionary(p => p.First, p => p.Second);
        }
        return null;
    }

    private static HttpClient Client(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };

    [Test]
    public async Task QueuedRequests_ShowInQcurWhileWaiting_AndInQmaxAfter()
    {
        // The server holds its one request until the test has seen the other two queued (each look is a proxyctl
        // start, slow on a loaded 2-core box: a fixed 2 s window failed twice under the whole suite), and for at least
        // 2 s, so that qtime has something to average.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = new SlowOrigin(500, release.Task);
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, origin.Port, 1), global: "    nbproc 1\n").Start();
        var clients = Enumerable.Range(0, 3).Select(_ => Client(port)).ToList();
        try
        {
            long sent = Environment.TickCount64;
            var requests = clients.Select(c => c.GetAsync("/")).ToList();
            // One request at the server, two in the queue; the worker publishes every 500 ms.
            Dictionary<string, string>? be;
            try
            {
                be = await Poll.UntilAsync(() => CsvRow(proxy, "be", "BACKEND")!, row => row["qcur"] == "2",
                    "two requests wait for the server's only slot");
                var server = CsvRow(proxy, "be", "s")!;
                Assert.That((server["scur"], server["slim"]), Is.EqualTo(("1", "1")));
                await Poll.UntilAsync(() => Environment.TickCount64 - sent >= 2000, "2 s since the requests were sent");
            }
            finally
            {
                release.TrySetResult();
            }

            foreach (var resp in await Task.WhenAll(requests)) Assert.That(resp.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(origin.MaxBusy, Is.EqualTo(1));
            be = await Poll.UntilAsync(() => CsvRow(proxy, "be", "BACKEND")!, row => row["qcur"] == "0", "the queue empty on the board");
            Assert.That((be["qcur"], be["qmax"]), Is.EqualTo(("0", "2")));
            Assert.That(long.Parse(be["qtime"]), Is.GreaterThan(1000), "the two queued waited 2.5 and 3 s at least");
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    [Test]
    public async Task TwoWorkers_ServerMaxConn2_EachWorkerTakesOne_ServerNeverSeesMoreThanTwo()
    {
        await using var origin = new SlowOrigin(300);
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, origin.Port, 2)).Start();   // nbproc 2
        var clients = Enumerable.Range(0, 8).Select(_ => Client(port)).ToList();
        try
        {
            var responses = await Task.WhenAll(clients.Select(c => c.GetAsync("/")));
            Assert.That(responses.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
            Assert.That(origin.Requests, Is.EqualTo(8));
            Assert.That(origin.MaxBusy, Is.InRange(1, 2), "ceil(2 / 2 workers) = 1 slot per worker");
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }
}
