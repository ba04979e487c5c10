using NUnit.Framework;
using Proxy.Shared.Stats;

namespace Proxy.Tests.Stats;

/// <summary>Health-check fields come from the checking worker only: never multiplied by the workers, never hidden by a 0.</summary>
public class CheckFieldsTests
{
    private StatsTestBoard _tmp = null!;
    private StatsBoard _board = null!;
    private StatsSlot _checker = null!, _other = null!;
    private int _web1;

    [SetUp]
    public void SetUp()
    {
        _tmp = new StatsTestBoard();
        _board = _tmp.Create();
        _checker = _board.ClaimSlot(0, generation: 1, pid: 1111, cpu: 0);
        // The other worker started later: Value fields would be read from it first.
        _other = _board.ClaimSlot(1, generation: 1, pid: 2222, cpu: 1);
        _checker.SetState(WorkerSlotState.Running);
        _other.SetState(WorkerSlotState.Running);
        _web1 = _board.IndexOf("app/web1");
        foreach (var s in new[] { _checker, _other }) s.Set(_web1, StatField.Status, (long)StatStatus.Up);
        _checker.Set(_web1, StatField.Chkfail, 3);
        _checker.Set(_web1, StatField.Chkdown, 1);
        _checker.Set(_web1, StatField.CheckStatus, (long)CheckStatusCode.L7Sts);
        _checker.Set(_web1, StatField.CheckCode, 503);
        _checker.Set(_web1, StatField.CheckDuration, 0 + 1);   // stored plus one: 0 ms
        _checker.Set(_web1, StatField.CheckRise, 2);
        _checker.Set(_web1, StatField.CheckFall, 3);
        _checker.Set(_web1, StatField.CheckHealth, 3 + 1);     // one failure from full health (4)
    }

    [TearDown]
    public void TearDown()
    {
        _board.Dispose();
        _tmp.Dispose();
    }

    private StatsRow Web1Total() => _board.Snapshot().Totals.Single(r => r.Object.Key == "app/web1");

    [Test]
    public void Totals_TakeCheckFieldsFromTheChecker_NotTheNewestWorker()
    {
        var row = Web1Total();
        Assert.That(row[StatField.Chkfail], Is.EqualTo(3));
        Assert.That(row[StatField.Chkdown], Is.EqualTo(1));
        Assert.That((CheckStatusCode)row[StatField.CheckStatus], Is.EqualTo(CheckStatusCode.L7Sts));
        Assert.That(row[StatField.CheckCode], Is.EqualTo(503));
    }

    [Test]
    public void Csv_ShowsHAProxyWords_AndTransitionalStatus()
    {
        var lines = StatsCsv.Render(_board.Snapshot()).Split('\n');
        var names = lines[0].TrimStart('#', ' ').Split(',');
        var web1 = lines.Single(l => l.StartsWith("app,web1,")).Split(',');
        string Col(string n) => web1[Array.IndexOf(names, n)];
        Assert.That(Col("status"), Is.EqualTo("UP 2/3"), "HAProxy: health left of fall while an UP server fails checks");
        Assert.That(Col("check_status"), Is.EqualTo("L7STS"));
        Assert.That(Col("check_desc"), Is.EqualTo("Layer7 wrong status"));
        Assert.That(Col("check_code"), Is.EqualTo("503"));
        Assert.That(Col("check_duration"), Is.EqualTo("0"));
        Assert.That((Col("check_rise"), Col("check_fall"), Col("check_health")), Is.EqualTo(("2", "3", "3")));
        Assert.That((Col("chkfail"), Col("chkdown")), Is.EqualTo(("3", "1")));
    }

    [Test]
    public void RetiredChecker_ItsValuesSurviveTheFold()
    {
        _board.MarkExited(0);
        _board.RetireSlot(0);
        var row = Web1Total();
        Assert.That(row[StatField.Chkdown], Is.EqualTo(1));
        Assert.That((CheckStatusCode)row[StatField.CheckStatus], Is.EqualTo(CheckStatusCode.L7Sts));
    }

    [Test]
    public void ServerStatusText_DownAndRising()
    {
        _checker.Set(_web1, StatField.Status, (long)StatStatus.Down);
        _other.Set(_web1, StatField.Status, (long)StatStatus.Down);
        _checker.Set(_web1, StatField.CheckHealth, 1 + 1);
        Assert.That(StatsColumns.ServerStatusText(Web1Total()), Is.EqualTo("DOWN 1/2"));
        _checker.Set(_web1, StatField.CheckHealth, 0 + 1);
        Assert.That(StatsColumns.ServerStatusText(Web1Total()), Is.EqualTo("DOWN"));
    }
}
