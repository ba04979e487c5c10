using System.Text.Json;
using NUnit.Framework;
using Proxy.Shared.Stats;

namespace Proxy.Tests.Stats;

public class StatsRenderTests
{
    private StatsTestBoard _tmp = null!;
    private StatsBoard _board = null!;

    [SetUp]
    public void SetUp()
    {
        _tmp = new StatsTestBoard();
        _board = _tmp.Create();
        var a = _board.ClaimSlot(0, generation: 1, pid: 1111, cpu: 0);
        var b = _board.ClaimSlot(1, generation: 1, pid: 2222, cpu: 1);
        a.SetState(WorkerSlotState.Running);
        b.SetState(WorkerSlotState.Draining);
        int web1 = _board.IndexOf("app/web1");
        a.Add(web1, StatField.Stot, 10);
        b.Add(web1, StatField.Stot, 5);
        // Value fields (status, weight) come from the newest live slot: every worker of a generation writes them, and
        // which of two slots claimed in the same generation is the newer depends on the clock between the two claims.
        a.Set(web1, StatField.Status, (long)StatStatus.Up);
        b.Set(web1, StatField.Status, (long)StatStatus.Up);
        a.Set(web1, StatField.Weight, 3);
        b.Set(web1, StatField.Weight, 3);
        a.Add(_board.IndexOf("www/FRONTEND"), StatField.Scur, 2);
        a.Add(_board.IndexOf("www/FRONTEND"), StatField.ReqTot, 100);
    }

    [TearDown]
    public void TearDown()
    {
        _board.Dispose();
        _tmp.Dispose();
    }

    [Test]
    public void CsvHeader_Always_MatchesHaproxyFieldOrder()
    {
        // doc/management.txt 9.1, fields 0-35 and the HTTP/timing fields the board keeps.
        string[] haproxy =
        [
            "pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot", "bin", "bout", "dreq", "dresp",
            "ereq", "econ", "eresp", "wretr", "wredis", "status", "weight", "act", "bck", "chkfail", "chkdown",
            "lastchg", "downtime", "qlimit", "pid", "iid", "sid", "throttle", "lbtot", "tracked", "type", "rate",
            "rate_lim", "rate_max",
        ];
        var header = StatsCsv.Header;
        Assert.That(header, Does.StartWith("# " + string.Join(',', haproxy) + ","));
        var names = header[2..].TrimEnd(',').Split(',');
        Assert.Multiple(() =>
        {
            Assert.That(names, Has.Length.EqualTo(103), "100 standard columns and the SSL module's 3");
            Assert.That(Array.IndexOf(names, "hrsp_1xx"), Is.EqualTo(39));
            Assert.That(Array.IndexOf(names, "req_tot"), Is.EqualTo(48));
            Assert.That(Array.IndexOf(names, "srv_abrt"), Is.EqualTo(50));
            Assert.That(Array.IndexOf(names, "qtime"), Is.EqualTo(58));
            Assert.That(Array.IndexOf(names, "ttime"), Is.EqualTo(61));
            foreach (var f in Enum.GetValues<StatField>())
            {
                if (f is not (StatField.Timed or StatField.SslCur)) Assert.That(names, Does.Contain(StatFields.Name(f)), $"{f} has a column");
            }
        });
    }

    [Test]
    public void CsvRender_Totals_RowsInHaproxyOrderWithPidZero()
    {
        var lines = StatsCsv.Render(_board.Snapshot()).TrimEnd('\n').Split('\n');
        var header = lines[0][2..].Split(',');
        var rows = lines[1..].Select(l => l.Split(',')).ToArray();
        int Col(string n) => Array.IndexOf(header, n);

        Assert.Multiple(() =>
        {
            Assert.That(rows.Select(r => r[0] + "/" + r[1]), Is.EqualTo(new[]
                { "www/FRONTEND", "www/0.0.0.0:80", "app/web1", "app/web2", "app/BACKEND" }));
            Assert.That(rows.All(r => r.Length == header.Length), "every line has every column");
            var web1 = rows[2];
            Assert.That(web1[Col("stot")], Is.EqualTo("15"));
            Assert.That(web1[Col("status")], Is.EqualTo("UP"));
            Assert.That(web1[Col("weight")], Is.EqualTo("3"));
            Assert.That(web1[Col("pid")], Is.EqualTo("0"));
            Assert.That(web1[Col("type")], Is.EqualTo("2"));
            Assert.That(web1[Col("sid")], Is.EqualTo("1"));
            Assert.That(rows[0][Col("status")], Is.EqualTo("OPEN"));
            Assert.That(rows[0][Col("scur")], Is.EqualTo("2"));
            Assert.That(rows[0][Col("qcur")], Is.EqualTo(""), "HAProxy has no qcur for a frontend");
            Assert.That(rows[4][Col("iid")], Is.EqualTo("2"));
        });
    }

    [Test]
    public void CsvRender_PerProcess_AddsOneBlockPerWorkerWithItsPid()
    {
        var lines = StatsCsv.Render(_board.Snapshot(), perProcess: true).TrimEnd('\n').Split('\n');
        int pidCol = Array.IndexOf(lines[0][2..].Split(','), "pid");
        var pids = lines[1..].Select(l => l.Split(',')[pidCol]).ToArray();
        Assert.That(pids.GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count()),
            Is.EqualTo(new Dictionary<string, int> { ["0"] = 5, ["1111"] = 5, ["2222"] = 5 }));
    }

    [Test]
    public void JsonRender_Snapshot_ParsesWithInfoWorkersAndStats()
    {
        using var doc = JsonDocument.Parse(StatsJson.Render(_board.Snapshot()));
        var root = doc.RootElement;
        var info = root.GetProperty("info");
        var workers = root.GetProperty("workers");
        var stats = root.GetProperty("stats");
        var web1Total = stats.EnumerateArray().Single(r =>
            r.GetProperty("svname").GetString() == "web1" && r.GetProperty("pid").GetInt64() == 0);

        Assert.Multiple(() =>
        {
            Assert.That(info.GetProperty("CumReq").GetInt64(), Is.EqualTo(100));
            Assert.That(info.GetProperty("Stopping").GetInt64(), Is.EqualTo(0), "one worker still runs");
            Assert.That(workers.GetArrayLength(), Is.EqualTo(2));
            Assert.That(workers[0].GetProperty("pid").GetInt32(), Is.EqualTo(1111));
            Assert.That(workers[0].GetProperty("slot").GetInt32(), Is.EqualTo(0));
            Assert.That(workers[0].GetProperty("generation").GetInt64(), Is.EqualTo(1));
            Assert.That(workers[0].GetProperty("cpu").GetInt32(), Is.EqualTo(0));
            Assert.That(workers[1].GetProperty("state").GetString(), Is.EqualTo("draining"));
            Assert.That(stats.GetArrayLength(), Is.EqualTo(15), "5 totals + 5 per worker");
            Assert.That(web1Total.GetProperty("pxname").GetString(), Is.EqualTo("app"));
            Assert.That(web1Total.GetProperty("stot").GetInt64(), Is.EqualTo(15));
            Assert.That(web1Total.GetProperty("status").GetString(), Is.EqualTo("UP"));
            Assert.That(stats.EnumerateArray().Count(r => r.GetProperty("pid").GetInt64() == 2222), Is.EqualTo(5));
        });
    }

    [Test]
    public void InfoRender_Snapshot_NameValueLines()
    {
        var text = StatsInfo.Render(_board.Snapshot());
        var lines = text.TrimEnd('\n').Split('\n').ToDictionary(l => l[..l.IndexOf(':')], l => l[(l.IndexOf(':') + 2)..]);
        Assert.Multiple(() =>
        {
            Assert.That(lines["Pid"], Is.EqualTo(Environment.ProcessId.ToString()), "the instance's pid is the supervisor's");
            Assert.That(lines["CumReq"], Is.EqualTo("100"));
            Assert.That(lines["Nbproc"], Is.EqualTo("2"));
            Assert.That(lines["Stopping"], Is.EqualTo("0"));
            Assert.That(lines, Does.ContainKey("Uptime_sec"));
            Assert.That(lines, Does.ContainKey("CurrConns"));
            Assert.That(lines, Does.ContainKey("CumConns"));
            Assert.That(lines, Does.ContainKey("ConnRate"));
            Assert.That(lines, Does.ContainKey("SessRate"));
        });
    }

    [Test]
    public void InfoRender_OneWorker_ShowsItsPidAndValues()
    {
        var snap = _board.Snapshot();
        var text = StatsInfo.Render(snap, snap.Workers[0]);
        Assert.That(text, Does.Contain("Pid: 1111\n").And.Contain("CumReq: 100\n").And.Contain("Stopping: 0\n"));
    }

    [Test]
    public void TableRender_Totals_OneAlignedLinePerObject()
    {
        var lines = StatsTable.Render(_board.Snapshot()).TrimEnd('\n').Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(lines, Has.Length.EqualTo(6));
            Assert.That(lines[0], Does.StartWith("pxname"));
            Assert.That(lines.Select(l => l.Length).Distinct().Count(), Is.EqualTo(1), "fixed width");
            Assert.That(lines[3], Does.Contain("web1").And.Contain("UP").And.Contain("15"));
        });
    }

    [Test]
    public void TableRender_PerProcess_ShowsWorkerRows()
    {
        var text = StatsTable.Render(_board.Snapshot(), perProcess: true);
        Assert.That(text.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(16));
        Assert.That(text, Does.Contain("2222"));
    }
}
