using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `minconn` with `fullconn` (5.2, 4.2) through the real supervisor and 2 workers, side by side with Debian's HAProxy
/// 2.6 on the same backend lines: minconn 1, maxconn 4, fullconn 8. A server's limit is srv_dynamic_maxconn():
/// max(1, beconn * 4 / 8), beconn being every request in the backend, queued ones included, across workers. With 6
/// requests held the limit is 3: the server serves at most 3 at once, the others queue; as held requests end one by
/// one, the limit falls with the load, and neither proxy ever has more at the server than the limit allows.
/// </summary>
[TestFixture]
public sealed class DynamicMaxConnEndToEndTests
{
    private const int Requests = 6;

    private static string Body(int port, int originPort) => $"""
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
            fullconn 8
            server s 127.0.0.1:{originPort} minconn 1 maxconn 4
        """;

    // srv_dynamic_maxconn() for this backend at a load of beconn requests.
    private static int Limit(int beconn) => Math.Max(1, Math.Min(4, beconn * 4 / 8));

    [Test]
    public async Task MinConnFullConn_HeldRequests_ServerServesAtMostTheDynamicLimit_OthersQueue_AsHaproxy()
    {
        await using var origin = new GatedOrigin();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Body(port, origin.Port)).Start();   // nbproc 2
        var ours = await HoldThenReleaseOneByOneAsync(origin, port, () => Queued(ShowStat(proxy.SocketPath)),
            first: s => s == (Limit(Requests), Requests - Limit(Requests)));

        // The same lines in HAProxy 2.6 (2 threads), its `show stat` read from its stats socket.
        await using var origin2 = new GatedOrigin();
        int port2 = Ports.Free();
        var dir = Directory.CreateTempSubdirectory("haproxy-minconn-").FullName;
        var socket = Path.Combine(dir, "stats.sock");
        var cfg = Path.Combine(dir, "haproxy.cfg");
        var config = $"global\n    nbthread 2\n    stats socket {socket} mode 600 level admin\n{Body(port2, origin2.Port)}\n";
        HaproxyCheck.AssertAccepts(config);
        File.WriteAllText(cfg, config);
        using var haproxy = Process.Start(new ProcessStartInfo("/usr/sbin/haproxy", ["-db", "-f", cfg])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
        List<(int Busy, int Queued)> theirs;
        try
        {
            await Poll.UntilAsync(() => File.Exists(socket) && !Ports.CanBind(port2), "haproxy listening");
            // HAProxy re-reads the limit for queued requests only when a request leaves the server: at first 1 serves.
            theirs = await HoldThenReleaseOneByOneAsync(origin2, port2, () => Queued(ShowStat(socket)),
                first: s => s.Busy is >= 1 and <= 3 && s.Busy + s.Queued == Requests);
        }
        finally
        {
            haproxy.Kill();
            await haproxy.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
        TestContext.Out.WriteLine($"(at the server, queued) after each release: ours {string.Join(' ', ours)}; HAProxy 2.6 {string.Join(' ', theirs)}");
        Assert.That((origin.MaxBusy, origin2.MaxBusy), Is.EqualTo((Limit(Requests), Limit(Requests))),
            $"at most the limit at 6 requests, 3, at once in both (ours {string.Join(' ', ours)}, HAProxy's {string.Join(' ', theirs)})");
    }

    /// <summary>
    /// `set maxconn server BE/SRV N` (management.txt 9.3): every worker takes the new limit (the server is counted
    /// across workers), `show stat`'s slim shows it, and mistakes get HAProxy 2.6's answers.
    /// </summary>
    [Test]
    public async Task SetMaxConnServer_TakesEffectInEveryWorker_SlimShowsIt_MistakesGetHaproxysAnswers()
    {
        await using var origin = new GatedOrigin();
        int port = Ports.Free();
        var body = Body(port, origin.Port).Replace("minconn 1 maxconn 4", "maxconn 1");
        using var proxy = new ProxyInstance(body).Start();   // nbproc 2
        Task<string> Cli(string command) => ControlClient.SendAsync(proxy.SocketPath, command, TimeSpan.FromSeconds(10));

        Assert.That(await Cli("set maxconn server be/s 3"), Is.EqualTo("\n"));
        await Poll.UntilAsync(() => Field(ShowStat(proxy.SocketPath), "s", "slim") == 3, "slim 3 on the board");
        var clients = Enumerable.Range(0, 5)
            .Select(_ => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(80) }).ToList();
        try
        {
            var requests = clients.Select(c => c.GetAsync("/")).ToList();
            var state = await Poll.UntilAsync(() => (origin.Busy, Queued(ShowStat(proxy.SocketPath))), st => st == (3, 2),
                "3 requests at the server (the new maxconn, over both workers), 2 queued");
            Assert.That(state, Is.EqualTo((3, 2)));
            origin.Open();
            foreach (var r in await Task.WhenAll(requests)) Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(origin.MaxBusy, Is.EqualTo(3));
        }
        finally
        {
            origin.Open();
            foreach (var c in clients) c.Dispose();
        }
        Assert.That(await Cli("set maxconn server be/nope 3"), Is.EqualTo("No such server.\n\n"));
        Assert.That(await Cli("set maxconn server be/s"), Is.EqualTo("Require <maxconn>.\n\n"));
        Assert.That(await Cli("set maxconn server be/s x"), Is.EqualTo("maxconn string empty or preceded by garbage\n\n"));
        Assert.That(await Cli("set maxconn server be/s 3x"), Is.EqualTo("Trailing garbage in maxconn string\n\n"));
    }

    /// <summary>
    /// Sends <see cref="Requests"/> requests at once and waits until the split between the server and the queue is
    /// what <paramref name="first"/> expects; then lets them end one at a time, noting (at the server, queued) after each:
    /// never more at the server than the limit at the load before that request left (HAProxy counts the leaving one
    /// in beconn while it dequeues), never one lost.
    /// </summary>
    private static async Task<List<(int Busy, int Queued)>> HoldThenReleaseOneByOneAsync(GatedOrigin origin, int port,
        Func<int> queued, Func<(int Busy, int Queued), bool> first)
    {
        var clients = Enumerable.Range(0, Requests)
            .Select(_ => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(80) }).ToList();
        var seen = new List<(int Busy, int Queued)>();
        try
        {
            var requests = clients.Select(c => c.GetAsync("/")).ToList();
            seen.Add(await Poll.UntilAsync(() => (origin.Busy, queued()), first, "the first requests at the server, the others queued"));
            Assert.That(seen[0].Busy, Is.LessThanOrEqualTo(Limit(Requests)));
            for (int left = Requests - 1; left > 0; left--)
            {
                origin.ReleaseOne();
                var state = await Poll.UntilAsync(() => (origin.Busy, queued()), s => s.Busy + s.Item2 == left && s.Busy > 0,
                    $"{left} requests at the server or queued");
                seen.Add(state);
                Assert.That(state.Busy, Is.LessThanOrEqualTo(Limit(left + 1)), $"over the dynamic limit with {left} left: {string.Join(' ', seen)}");
            }
            origin.ReleaseOne();
            foreach (var r in await Task.WhenAll(requests)) Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            return seen;
        }
        finally
        {
            origin.Open();
            foreach (var c in clients) c.Dispose();
        }
    }

    /// <summary>qcur of backend `be` in a `show stat` CSV (HAProxy's, or `proxyctl stats --csv`).</summary>
    private static int Queued(string csv) => Field(csv, "BACKEND", "qcur");

    /// <summary>Column <paramref name="name"/> of row be/<paramref name="svname"/> in a `show stat` CSV; -1 when absent.</summary>
    private static int Field(string csv, string svname, string name)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0) return -1;
        int column = Array.IndexOf(lines[0].TrimStart('#', ' ').Split(','), name);
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells[0] == "be" && cells[1] == svname && column >= 0 && int.TryParse(cells[column], out int v)) return v;
        }
        return -1;
    }

    private static string ShowStat(string socketPath)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(socketPath));
        s.Send("show stat\n"u8);
        var all = new MemoryStream();
        var buf = new byte[8192];
        int n;
        while ((n = s.Receive(buf)) > 0) all.Write(buf, 0, n);
        return Encoding.UTF8.GetString(all.ToArray());
    }
}
