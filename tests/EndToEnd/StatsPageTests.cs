using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// The `stats` page and `use-service prometheus-exporter` of a real instance with two workers: the page in headless
/// Chromium (Debian's `chromium`), authentication, the exports, an admin action that every worker obeys, and /metrics
/// checked by `promtool` and scraped by a real Prometheus (Debian's `prometheus`). One instance for the fixture; the
/// admin test runs last, since it puts a server in maintenance.
/// </summary>
[TestFixture]
public sealed partial class StatsPageTests
{
    private const string Chromium = "/usr/bin/chromium", Promtool = "/usr/bin/promtool", Prometheus = "/usr/bin/prometheus";
    private OriginProcess _o1 = null!, _o2 = null!;
    private ProxyInstance _proxy = null!;
    private int _port, _statsPort;

    [OneTimeSetUp]
    public void StartInstance()
    {
        foreach (var tool in new[] { Chromium, Promtool, Prometheus })
            Assert.That(File.Exists(tool), Is.True, $"{tool} is missing: apt-get install chromium prometheus (.ci/run does)");
        _o1 = new OriginProcess("o1");
        _o2 = new OriginProcess("o2");
        _port = Ports.Free();
        _statsPort = Ports.Free();
        _proxy = new ProxyInstance($"""
            defaults
                mode http
                timeout connect 2s
                timeout client 30s
                timeout server 30s
            frontend web
                bind 127.0.0.1:{_port}
                http-request use-service prometheus-exporter if {"{"} path /metrics {"}"}
                default_backend app
            backend app
                server o1 127.0.0.1:{_o1.Port}
                server o2 127.0.0.1:{_o2.Port}
            listen stats
                bind 127.0.0.1:{_statsPort}
                stats enable
                stats uri /stats
                stats refresh 10s
                stats auth admin:pw
                stats admin if TRUE
                stats show-legends

            """).Start();
    }

    [OneTimeTearDown]
    public void StopInstance()
    {
        _proxy?.Dispose();
        _o1?.Dispose();
        _o2?.Dispose();
    }

    /// <summary>A new connection per request, so the kernel spreads them over both workers (SO_REUSEPORT).</summary>
    private static HttpClient Client(int port, bool credentials = true)
    {
        var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20),
        };
        http.DefaultRequestHeaders.ConnectionClose = true;
        if (credentials)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("admin:pw"u8.ToArray()));
        return http;
    }

    private async Task<Dictionary<string, string>> CsvRowAsync(string key)
    {
        using var http = Client(_statsPort);
        var csv = await http.GetStringAsync("/stats;csv");
        var lines = csv.Split('\n');
        var names = lines[0][2..].Split(',');
        var row = lines.First(l => l.StartsWith(key.Replace('/', ',') + ",", StringComparison.Ordinal)).Split(',');
        return names.Zip(row).ToDictionary(p => p.First, p => p.Second);
    }

    private static ProcessRunner.Result RunChromium(string workDir, params string[] args) =>
        ProcessRunner.Run(Chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--user-data-dir={workDir}", .. args],
            TimeSpan.FromSeconds(60));

    [Test, Order(1)]
    public async Task Page_WithoutCredentials_Is401WithTheRealm()
    {
        using var http = Client(_statsPort, credentials: false);
        using var resp = await http.GetAsync("/stats");
        Assert.That(resp.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(resp.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Basic realm=\"HAProxy Statistics\""));
        using var wrong = Client(_statsPort, credentials: false);
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("admin:nope"u8.ToArray()));
        Assert.That((await wrong.GetAsync("/stats")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test, Order(2)]
    public async Task Page_InChromium_ShowsTheTablesAndTheCountsOfBothWorkers()
    {
        using (var http = Client(_port, credentials: false))
            for (int i = 0; i < 40; i++)
                Assert.That((await http.GetAsync("/")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var backend = await Poll.UntilAsync(() => CsvRowAsync("app/BACKEND").Result, r => r["stot"] == "40", "40 sessions on app's board row");

        string work = Path.Combine(_proxy.Directory, "chromium");
        var dom = RunChromium(work, "--dump-dom", $"http://admin:pw@127.0.0.1:{_statsPort}/stats").Stdout;
        Assert.Multiple(() =>
        {
            Assert.That(dom, Does.Contain("id=\"px-web\""));
            Assert.That(dom, Does.Contain("id=\"px-app\""));
            Assert.That(dom, Does.Contain("data-svname=\"o1\""));
            Assert.That(dom, Does.Contain("data-svname=\"o2\""));
            Assert.That(dom, Does.Contain("<th colspan=\"6\">Sessions</th>"));
        });
        // The backend row's Sessions/Total cell (after the admin check box, the name, Queue, Session rate and Cur/Max/Limit) is the board's stot.
        Assert.That(RowCells(dom, "app", "BACKEND")[11], Is.EqualTo(backend["stot"]));
        // Each worker's own view (the same HTML, fetched directly: one browser start per test is enough on a busy
        // machine): both took part of the traffic, and their counts add up to the total.
        var pids = WorkerPids(dom);
        Assert.That(pids, Has.Count.EqualTo(2), "two workers listed");
        long sum = 0;
        using var pages = Client(_statsPort);
        for (int w = 1; w <= 2; w++)
        {
            var view = await pages.GetStringAsync($"/stats;worker={w}");
            Assert.That(view, Does.Contain($"Statistics Report for worker {w}"));
            long own = long.Parse(RowCells(view, "app", "BACKEND")[11]);
            Assert.That(own, Is.GreaterThan(0), $"worker {w} served some of the 40 requests");
            sum += own;
        }
        Assert.That(sum, Is.EqualTo(40));

        string shot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "stats-page.png");
        RunChromium(work, "--window-size=1500,1000", "--hide-scrollbars", $"--screenshot={shot}", $"http://admin:pw@127.0.0.1:{_statsPort}/stats");
        Assert.That(new FileInfo(shot).Length, Is.GreaterThan(10_000), "a screenshot of the page");
        TestContext.Out.WriteLine($"screenshot: {shot}");
    }

    [Test, Order(3)]
    public async Task Exports_CsvJsonAndRefresh()
    {
        using var http = Client(_statsPort);
        using var page = await http.GetAsync("/stats");
        Assert.That(page.Headers.GetValues("Refresh").Single(), Is.EqualTo("10"));
        using var norefresh = await http.GetAsync("/stats;norefresh");
        Assert.That(norefresh.Headers.Contains("Refresh"), Is.False);
        var csv = await http.GetStringAsync("/stats;csv");
        Assert.That(csv, Does.StartWith("# pxname,svname,qcur,"));
        Assert.That(csv, Does.Contain("\napp,o1,"));
        // `;json` is HAProxy's typed document (`show stat json`): an array of objects, each an array of fields.
        using var json = JsonDocument.Parse(await http.GetStringAsync("/stats;json"));
        static string? Field(JsonElement obj, string name) => obj.EnumerateArray()
            .Where(f => f.GetProperty("field").GetProperty("name").GetString() == name)
            .Select(f => f.GetProperty("value").GetProperty("value").ToString()).FirstOrDefault();
        var o2 = json.RootElement.EnumerateArray().Single(o => Field(o, "pxname") == "app" && Field(o, "svname") == "o2");
        Assert.That(o2[0].GetProperty("objType").GetString(), Is.EqualTo("Server"));
        Assert.That(o2[0].GetProperty("processNum").GetInt32(), Is.EqualTo(1), "the instance's totals");
        using var perWorker = JsonDocument.Parse(await http.GetStringAsync("/stats;json;worker=1"));
        Assert.That(perWorker.RootElement.EnumerateArray().Select(o => o[0].GetProperty("processNum").GetInt32()).Distinct().Count(),
            Is.EqualTo(3), "`;worker=N` adds each of the 2 workers' rows (process numbers 2 and 3) to the totals (1)");
    }

    [Test, Order(4)]
    public async Task Metrics_PassPromtool_MatchProxyctl_AndAreScrapedByPrometheus()
    {
        using var http = Client(_port, credentials: false);
        using var resp = await http.GetAsync("/metrics");
        Assert.That(resp.Content.Headers.ContentType!.ToString(), Does.StartWith("text/plain; version=0.0.4"));
        string metrics = await resp.Content.ReadAsStringAsync();
        Assert.That(metrics, Does.Contain("haproxy_backend_sessions_total{proxy=\"app\"}"));
        Assert.That(metrics, Does.Contain("haproxy_server_status{proxy=\"app\",server=\"o1\",state=\"UP\"} 1"));
        Assert.That(metrics, Does.Match("haproxy_frontend_sessions_total\\{proxy=\"web\",worker=\"2\"\\} \\d+"));
        Promcheck(metrics, "the worker's /metrics");
        var cli = _proxy.Ctl("stats", "--prometheus");
        Assert.That(cli.ExitCode, Is.EqualTo(0), cli.All);
        Promcheck(cli.Stdout, "proxyctl stats --prometheus");
        Assert.That(MetricNames(cli.Stdout), Is.EqualTo(MetricNames(metrics)), "the same families from the board file");

        // A real Prometheus scrapes /metrics: its target turns "up".
        int promPort = Ports.Free();
        string dir = Path.Combine(_proxy.Directory, "prometheus");
        Directory.CreateDirectory(dir);
        string config = Path.Combine(dir, "prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: proxy
                static_configs:
                  - targets: ['127.0.0.1:{_port}']

            """);
        var psi = new ProcessStartInfo(Prometheus) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}",
                     $"--web.listen-address=127.0.0.1:{promPort}" }) psi.ArgumentList.Add(a);
        using var prom = Process.Start(psi)!;
        var log = new StringBuilder();
        prom.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        prom.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        prom.BeginErrorReadLine();
        prom.BeginOutputReadLine();
        try
        {
            using var api = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            string health = await Poll.UntilAsync(() =>
            {
                try
                {
                    using var doc = JsonDocument.Parse(api.GetStringAsync($"http://127.0.0.1:{promPort}/api/v1/targets").Result);
                    var targets = doc.RootElement.GetProperty("data").GetProperty("activeTargets");
                    return targets.GetArrayLength() == 0 ? "" : targets[0].GetProperty("health").GetString() + " " + targets[0].GetProperty("lastError").GetString();
                }
                catch (AggregateException)
                {
                    return "";   // not listening yet
                }
            }, h => h.StartsWith("up", StringComparison.Ordinal) || h.StartsWith("down", StringComparison.Ordinal), "Prometheus scraped the target", TimeSpan.FromSeconds(40));
            Assert.That(health.Trim(), Is.EqualTo("up"), () => "Prometheus log:\n" + log);
        }
        finally
        {
            prom.Kill(entireProcessTree: true);
            prom.WaitForExit(10_000);
        }
    }

    [Test, Order(5)]
    public async Task AdminForm_MaintOnOneServer_EveryWorkerStopsUsingIt()
    {
        using var http = Client(_statsPort);
        using var post = await http.PostAsync("/stats", new FormUrlEncodedContent([new("s", "o2"), new("action", "maint"), new("b", "app")]));
        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.SeeOther));
        Assert.That(post.Headers.Location!.ToString(), Is.EqualTo("/stats;st=DONE"));
        await Poll.UntilAsync(() => CsvRowAsync("app/o2").Result["status"] == "MAINT", "o2 in MAINT on the page's CSV");
        // proxyctl reads the board file: the totals and each worker's own row (each worker publishes its own state).
        await Poll.UntilAsync(() => _proxy.Ctl("stats", "--csv").Stdout.Split('\n').Where(l => l.StartsWith("app,o2,", StringComparison.Ordinal)).ToArray(),
            rows => rows.Length == 3 && rows.All(r => r.Contains(",MAINT,")), "MAINT in the totals and in both workers' rows");

        using var traffic = Client(_port, credentials: false);
        for (int i = 0; i < 40; i++)
        {
            using var resp = await traffic.GetAsync("/");
            Assert.That(resp.Headers.GetValues("X-Origin").Single(), Is.EqualTo("o1"), "no worker sends to o2 in maintenance");
        }
        var up = await http.GetStringAsync("/stats;up");
        Assert.That(up, Does.Not.Contain("data-svname=\"o2\""), ";up hides the server in maintenance");
        Assert.That(await http.GetStringAsync("/stats;csv;up"), Does.Not.Contain("\napp,o2,").And.Contain("\napp,o1,"));
        Assert.That(await http.GetStringAsync("/stats;st=DONE"), Does.Contain("Action processed successfully."));

        using var back = await http.PostAsync("/stats", new FormUrlEncodedContent([new("s", "o2"), new("action", "ready"), new("b", "app")]));
        await Poll.UntilAsync(() => CsvRowAsync("app/o2").Result["status"] != "MAINT", "o2 back in service");
    }

    private static void Promcheck(string metrics, string what)
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, metrics);
            var r = ProcessRunner.Run("/bin/sh", ["-c", $"{Promtool} check metrics < '{path}'"]);
            Assert.That((r.ExitCode, r.All.Trim()), Is.EqualTo((0, "")), $"{what}: {r.All}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string[] MetricNames(string text) =>
        text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToArray();

    /// <summary>The text of each cell of the row whose svname is <paramref name="svname"/> in the table of <paramref name="proxy"/>.</summary>
    private static string[] RowCells(string dom, string proxy, string svname)
    {
        int table = dom.IndexOf($"id=\"px-{proxy}\"", StringComparison.Ordinal);
        Assert.That(table, Is.GreaterThanOrEqualTo(0), $"a table for {proxy}");
        var row = new Regex($"<tr class=\"[a-z_]+\" data-svname=\"{svname}\">(.*?)</tr>", RegexOptions.Singleline).Match(dom, table);
        Assert.That(row.Success, Is.True, $"a row for {svname}");
        return Regex.Matches(row.Groups[1].Value, "<td[^>]*>(.*?)</td>", RegexOptions.Singleline).Select(m => m.Groups[1].Value.Trim()).ToArray();
    }

    private static List<string> WorkerPids(string dom) =>
        Regex.Matches(dom, "<td><a href=\"[^\"]*;worker=\\d\">worker \\d</a></td><td>\\d+</td><td>(\\d+)</td>").Select(m => m.Groups[1].Value).ToList();
}
