using NUnit.Framework;
using Proxy.Shared.Stats;
using Proxy.Tests.Support;

namespace Proxy.Tests.Stats;

/// <summary>The HTML stats page (StatsHtml) and the Prometheus text (PrometheusExporter) from a board snapshot.</summary>
public class StatsPageRenderTests
{
    private StatsTestBoard _tmp = null!;
    private StatsBoard _board = null!;

    [SetUp]
    public void SetUp()
    {
        _tmp = new StatsTestBoard();
        _board = _tmp.Create(objects:
        [
            StatObjectDescriptor.Frontend("www", StatProxyMode.Http),
            StatObjectDescriptor.Listener("www", "0.0.0.0:80", StatProxyMode.Http),
            StatObjectDescriptor.Backend("app", StatProxyMode.Http),
            StatObjectDescriptor.Server("app", "web1", StatProxyMode.Http),
            StatObjectDescriptor.Server("app", "web2", StatProxyMode.Http),
            StatObjectDescriptor.Backend("other\"<x>", StatProxyMode.Tcp),
        ]);
        var a = _board.ClaimSlot(0, generation: 1, pid: 1111, cpu: 0);
        var b = _board.ClaimSlot(1, generation: 1, pid: 2222, cpu: 1);
        a.SetState(WorkerSlotState.Running);
        b.SetState(WorkerSlotState.Running);
        int web1 = _board.IndexOf("app/web1"), web2 = _board.IndexOf("app/web2"), fe = _board.IndexOf("www/FRONTEND");
        a.Add(web1, StatField.Stot, 10);
        b.Add(web1, StatField.Stot, 5);
        a.Add(web1, StatField.Hrsp2xx, 9);
        foreach (var s in new[] { a, b })
        {
            s.Set(web1, StatField.Status, (long)StatStatus.Up);
            s.Set(web2, StatField.Status, (long)StatStatus.Maint);
        }
        a.Add(fe, StatField.Stot, 40);
        b.Add(fe, StatField.Stot, 2);
        a.Add(fe, StatField.ReqTot, 100);
    }

    [TearDown]
    public void TearDown()
    {
        _board.Dispose();
        _tmp.Dispose();
    }

    [Test]
    public void Html_HasATablePerProxy_ServerRowsColouredByState_AndTotalsOverWorkers()
    {
        var html = StatsHtml.Render(_board.Snapshot(), new StatsPageView { Uri = "/stats", Version = "9.9.9" });
        Assert.Multiple(() =>
        {
            Assert.That(html, Does.Contain("<table class=\"tbl\" width=\"100%\" id=\"px-www\">"));
            Assert.That(html, Does.Contain("<table class=\"tbl\" width=\"100%\" id=\"px-app\">"));
            Assert.That(html, Does.Contain("<th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th>"));
            Assert.That(html, Does.Contain("<tr class=\"active_up\" data-svname=\"web1\">"));
            Assert.That(html, Does.Contain("<tr class=\"maintain\" data-svname=\"web2\">"));
            Assert.That(html, Does.Contain("<td>15</td>"), "web1's sessions over both workers");
            Assert.That(html, Does.Contain("version 9.9.9"));
            Assert.That(html, Does.Contain("other&quot;&lt;x&gt;"), "names are escaped");
            Assert.That(html, Does.Contain("href=\"/stats;worker=2\""), "a link to each worker's view");
            Assert.That(html, Does.Not.Contain("<form"), "no admin form unless stats admin holds");
        });
    }

    [Test]
    public void Html_WorkerView_ShowsThatWorkersOwnCounts()
    {
        var html = StatsHtml.Render(_board.Snapshot(), new StatsPageView { WorkerSlot = 1 });
        Assert.That(html, Does.Contain("Statistics Report for worker 2 (pid 2222)"));
        Assert.That(html, Does.Match("data-svname=\"web1\"><td class=\"ac\">web1</td>(<td></td>){3}<td>0</td><td>0</td><td></td><td>0</td><td>0</td><td></td><td>5</td>"));
    }

    [Test]
    public void Html_ScopeUpHideVersionAndAdmin_TakeEffect()
    {
        var html = StatsHtml.Render(_board.Snapshot(), new StatsPageView
        {
            Scope = ["app"], UpOnly = true, HideVersion = true, Admin = true, Node = "n1", Description = "main site", Version = "9.9.9",
        });
        Assert.Multiple(() =>
        {
            Assert.That(html, Does.Not.Contain("id=\"px-www\""));
            Assert.That(html, Does.Contain("id=\"px-app\""));
            Assert.That(html, Does.Not.Contain("data-svname=\"web2\""), ";up hides a server in maintenance");
            Assert.That(html, Does.Not.Contain("9.9.9"));
            Assert.That(html, Does.Contain(" on n1</h2>"));
            Assert.That(html, Does.Contain("<h2 class=\"desc\">main site</h2>"));
            Assert.That(html, Does.Contain("<input type=\"checkbox\" name=\"s\" value=\"web1\">"));
            Assert.That(html, Does.Contain("<option value=\"maint\">Set state to MAINT</option>"));
        });
    }

    [Test]
    public void Prometheus_HasHAProxysNamesAndLabels_AndPerWorkerSeries()
    {
        var text = PrometheusExporter.Render(_board.Snapshot(), "9.9.9");
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("# TYPE haproxy_server_sessions_total counter\n"));
            Assert.That(text, Does.Contain("haproxy_server_sessions_total{proxy=\"app\",server=\"web1\"} 15\n"));
            Assert.That(text, Does.Contain("haproxy_server_sessions_total{proxy=\"app\",server=\"web1\",worker=\"2\"} 5\n"));
            Assert.That(text, Does.Contain("haproxy_server_status{proxy=\"app\",server=\"web2\",state=\"MAINT\"} 1\n"));
            Assert.That(text, Does.Contain("haproxy_server_http_responses_total{proxy=\"app\",server=\"web1\",code=\"2xx\"} 9\n"));
            Assert.That(text, Does.Contain("haproxy_frontend_http_requests_total{proxy=\"www\"} 100\n"));
            Assert.That(text, Does.Contain("haproxy_frontend_sessions_total{proxy=\"www\",worker=\"1\"} 40\n"));
            Assert.That(text, Does.Contain("haproxy_process_build_info{version=\"9.9.9\"} 1\n"));
            Assert.That(text, Does.Contain("haproxy_backend_status{proxy=\"other\\\"<x>\",state=\"UP\"} 1\n"), "label values escaped");
        });
    }

    [Test]
    public void Prometheus_PassesPromtoolCheckMetrics()
    {
        var text = PrometheusExporter.Render(_board.Snapshot(), "9.9.9");
        var path = Path.Combine(_tmp.Directory, "metrics.txt");
        File.WriteAllText(path, text);
        // promtool reads the metrics on stdin; a shell pipes the file in (Debian's `prometheus` package).
        var result = ProcessRunner.Run("/bin/sh", ["-c", $"/usr/bin/promtool check metrics < '{path}'"]);
        Assert.That((result.ExitCode, result.All.Trim()), Is.EqualTo((0, "")), result.All);
    }
}
