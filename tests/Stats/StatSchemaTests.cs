using NUnit.Framework;
using Proxy.Shared.Stats;

namespace Proxy.Tests.Stats;

/// <summary>One table (StatSchema) drives the board fields, the CSV/JSON columns and the human table.</summary>
public class StatSchemaTests
{
    [Test]
    public void Schema_EveryField_DefinedByExactlyOneEntry()
    {
        var defined = StatSchema.Entries.Where(e => e.Field is not null).Select(e => e.Field!.Value).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(defined, Is.Unique);
            Assert.That(defined, Is.EquivalentTo(Enum.GetValues<StatField>()));
            Assert.That(StatFields.Count, Is.EqualTo(Enum.GetValues<StatField>().Length));
            foreach (var f in Enum.GetValues<StatField>()) Assert.That(StatSchema.Of(f).Field, Is.EqualTo(f));
        });
    }

    [Test]
    public void Schema_Columns_AreHaproxys100InOrder_AndOnlyTheTimerCountIsHidden()
    {
        Assert.Multiple(() =>
        {
            // HAProxy's 100 standard columns, then its SSL stats module's three (as its `show stat` prints module columns).
            Assert.That(StatsColumns.Names, Has.Count.EqualTo(103));
            Assert.That(StatsColumns.Names[0], Is.EqualTo("pxname"));
            Assert.That(StatsColumns.Names[99], Is.EqualTo("uweight"));
            Assert.That(StatsColumns.Names.Skip(100), Is.EqualTo(new[] { "ssl_sess", "ssl_reused_sess", "ssl_failed_handshake" }));
            Assert.That(StatSchema.Entries.Where(e => e.Cell == StatCell.Hidden).Select(e => e.Field),
                Is.EqualTo(new StatField?[] { StatField.Timed, StatField.SslCur }), "the timer count, and the open TLS sessions (show info CurrSslConns)");
            Assert.That(StatsCsv.Header, Is.EqualTo("# " + string.Join(',', StatsColumns.Names) + ","));
        });
    }

    [Test]
    public void Schema_ColumnsWithoutAValueHere_AreEmptyForEveryObjectKind()
    {
        // Listeners are not counted per listener; dresp is counted for frontends, backends and servers only.
        using var tmp = new StatsTestBoard();
        using var board = tmp.Create();
        var slot = board.ClaimSlot(0, generation: 1, pid: 10);
        slot.SetState(WorkerSlotState.Running);
        var lines = StatsCsv.Render(board.Snapshot()).TrimEnd('\n').Split('\n');
        var header = lines[0][2..].Split(',');
        var listener = lines.Single(l => l.StartsWith("www,0.0.0.0:80,")).Split(',');
        Assert.Multiple(() =>
        {
            foreach (var name in new[] { "scur", "smax", "stot", "bin", "bout", "dreq", "dresp", "ereq" })
                Assert.That(listener[Array.IndexOf(header, name)], Is.Empty, $"listener {name}");
            Assert.That(listener[Array.IndexOf(header, "status")], Is.EqualTo("OPEN"));
        });
    }

    [Test]
    public void Render_TimerColumns_AreTheSumsOverTheTimedRequests_ZeroWithoutOne()
    {
        using var tmp = new StatsTestBoard();
        using var board = tmp.Create();
        var a = board.ClaimSlot(0, generation: 1, pid: 10);
        var b = board.ClaimSlot(1, generation: 1, pid: 20);
        int web1 = board.IndexOf("app/web1");
        a.Add(web1, StatField.QtimeSum, 30); a.Add(web1, StatField.CtimeSum, 3); a.Add(web1, StatField.RtimeSum, 60); a.Add(web1, StatField.TtimeSum, 90);
        a.Add(web1, StatField.Timed, 2);
        b.Add(web1, StatField.CtimeSum, 9); b.Add(web1, StatField.RtimeSum, 30); b.Add(web1, StatField.TtimeSum, 60);
        b.Add(web1, StatField.Timed, 1);
        board.MarkExited(1);
        board.RetireSlot(1);   // a gone worker's requests still count

        var lines = StatsCsv.Render(board.Snapshot()).TrimEnd('\n').Split('\n');
        var header = lines[0][2..].Split(',');
        var row = lines.Single(l => l.StartsWith("app,web1,")).Split(',');
        var web2 = lines.Single(l => l.StartsWith("app,web2,")).Split(',');
        string Cell(string[] r, string name) => r[Array.IndexOf(header, name)];
        Assert.Multiple(() =>
        {
            Assert.That(Cell(row, "qtime"), Is.EqualTo("10"));
            Assert.That(Cell(row, "ctime"), Is.EqualTo("4"));
            Assert.That(Cell(row, "rtime"), Is.EqualTo("30"));
            Assert.That(Cell(row, "ttime"), Is.EqualTo("50"));
            Assert.That(Cell(web2, "ttime"), Is.EqualTo("0"), "no request timed yet");
            Assert.That(Cell(lines.Single(l => l.StartsWith("www,FRONTEND,")).Split(','), "ttime"), Is.Empty, "HAProxy: ..BS");
        });
    }

    [Test]
    public void Table_Columns_AreTheSchemasInTableEntries()
    {
        var expected = StatSchema.Entries.Where(e => e.InTable).Select(e => e.Name).ToArray();
        using var tmp = new StatsTestBoard();
        using var board = tmp.Create();
        var header = StatsTable.Render(board.Snapshot()).Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(header, Is.EqualTo(expected));
    }

    [Test]
    public void Render_ModeTcp_NoHttpCounters_ModeColumnFilled_ServerCheckCountersOnlyWhenChecked()
    {
        using var tmp = new StatsTestBoard();
        StatObjectDescriptor[] objects =
        [
            StatObjectDescriptor.Frontend("t", StatProxyMode.Tcp), StatObjectDescriptor.Backend("tb", StatProxyMode.Tcp),
            StatObjectDescriptor.Server("tb", "s", StatProxyMode.Tcp),
            StatObjectDescriptor.Frontend("h", StatProxyMode.Http), StatObjectDescriptor.Backend("hb", StatProxyMode.Http),
            StatObjectDescriptor.Server("hb", "s", StatProxyMode.Http), StatObjectDescriptor.Server("hb", "checked", StatProxyMode.Http),
        ];
        using var board = tmp.Create(objects: objects);
        var slot = board.ClaimSlot(0, generation: 1, pid: 10);
        slot.Set(board.IndexOf("hb/checked"), StatField.CheckRise, 2);
        slot.Add(board.IndexOf("hb/checked"), StatField.Chkfail, 3);
        var lines = StatsCsv.Render(board.Snapshot()).TrimEnd('\n').Split('\n');
        var header = lines[0][2..].Split(',');
        string Cell(string px, string sv, string name) =>
            lines.Single(l => l.StartsWith($"{px},{sv},")).Split(',')[Array.IndexOf(header, name)];
        Assert.Multiple(() =>
        {
            Assert.That(Cell("t", "FRONTEND", "hrsp_2xx"), Is.Empty, "mode tcp: no HTTP responses");
            Assert.That(Cell("t", "FRONTEND", "req_tot"), Is.EqualTo("0"), "HAProxy shows a frontend's req_tot in any mode");
            Assert.That(Cell("tb", "BACKEND", "req_tot"), Is.Empty);
            Assert.That(Cell("tb", "s", "hrsp_5xx"), Is.Empty);
            Assert.That(Cell("h", "FRONTEND", "hrsp_2xx"), Is.EqualTo("0"));
            Assert.That(Cell("hb", "s", "req_tot"), Is.EqualTo("0"), "mode http: servers count requests");
            Assert.That((Cell("t", "FRONTEND", "mode"), Cell("hb", "s", "mode")), Is.EqualTo(("tcp", "http")));
            Assert.That((Cell("hb", "s", "chkfail"), Cell("hb", "s", "downtime")), Is.EqualTo(("", "")), "not checked");
            Assert.That(Cell("hb", "checked", "chkfail"), Is.EqualTo("3"));
            Assert.That(Cell("hb", "BACKEND", "chkdown"), Is.EqualTo("0"), "a backend's chkdown always shows");
            Assert.That((Cell("hb", "s", "qcur"), Cell("hb", "BACKEND", "qcur")), Is.EqualTo(("", "0")), "requests queue in the backend only");
            Assert.That((Cell("hb", "s", "hanafail"), Cell("hb", "checked", "hanafail")), Is.EqualTo(("", "0")));
        });
    }

    [Test]
    public void Board_ObjectMode_SurvivesTheFile()
    {
        using var tmp = new StatsTestBoard();
        using (tmp.Create(objects: [StatObjectDescriptor.Frontend("h", StatProxyMode.Http), StatObjectDescriptor.Backend("t", StatProxyMode.Tcp)])) { }
        using var reopened = StatsBoard.Open(tmp.Path);
        Assert.That(reopened.Objects.Select(o => o.Mode), Is.EqualTo(new[] { StatProxyMode.Http, StatProxyMode.Tcp }));
    }

    [Test]
    public void Snapshot_BackendTimers_AreItsServersSummed()
    {
        using var tmp = new StatsTestBoard();
        using var board = tmp.Create();
        var slot = board.ClaimSlot(0, generation: 1, pid: 10);
        slot.Add(board.IndexOf("app/web1"), StatField.TtimeSum, 10); slot.Increment(board.IndexOf("app/web1"), StatField.Timed);
        slot.Add(board.IndexOf("app/web2"), StatField.TtimeSum, 30); slot.Increment(board.IndexOf("app/web2"), StatField.Timed);
        var snap = board.Snapshot();
        var perWorker = snap.WorkerRows.Single(r => r.Object.Key == "app/BACKEND");
        Assert.Multiple(() =>
        {
            Assert.That((snap.Total("app/BACKEND", StatField.TtimeSum), snap.Total("app/BACKEND", StatField.Timed)), Is.EqualTo((40, 2)));
            Assert.That((perWorker[StatField.TtimeSum], perWorker[StatField.Timed]), Is.EqualTo((40, 2)));
            Assert.That(snap.Total("app/web1", StatField.TtimeSum), Is.EqualTo(10), "the servers keep their own");
        });
    }
}
