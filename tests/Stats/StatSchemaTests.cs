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
            Assert.That(StatsColumns.Names, Has.Count.EqualTo(100));
            Assert.That(StatsColumns.Names[0], Is.EqualTo("pxname"));
            Assert.That(StatsColumns.Names[99], Is.EqualTo("uweight"));
            Assert.That(StatSchema.Entries.Where(e => e.Cell == StatCell.Hidden).Select(e => e.Field), Is.EqualTo(new StatField?[] { StatField.Timed }));
            Assert.That(StatsCsv.Header, Is.EqualTo("# " + string.Join(',', StatsColumns.Names) + ","));
        });
    }

    [Test]
    public void Schema_ColumnsWithoutAValueHere_AreEmptyForEveryObjectKind()
    {
        // dresp: no rule here denies a response; listeners are not counted per listener.
        using var tmp = new StatsTestBoard();
        using var board = tmp.Create();
        var slot = board.ClaimSlot(0, generation: 1, pid: 10);
        slot.SetState(WorkerSlotState.Running);
        var lines = StatsCsv.Render(board.Snapshot()).TrimEnd('\n').Split('\n');
        var header = lines[0][2..].Split(',');
        var listener = lines.Single(l => l.StartsWith("www,0.0.0.0:80,")).Split(',');
        Assert.Multiple(() =>
        {
            foreach (var line in lines[1..])
                Assert.That(line.Split(',')[Array.IndexOf(header, "dresp")], Is.Empty, line);
            foreach (var name in new[] { "scur", "smax", "stot", "bin", "bout", "dreq", "ereq" })
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
}
