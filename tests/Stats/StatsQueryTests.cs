using System.Text.Json;
using NUnit.Framework;
using Proxy.Shared.Stats;

namespace Proxy.Tests.Stats;

/// <summary>`show stat IID TYPE SID`, typed and JSON output, `show info typed|json`, and `clear counters [all]`.</summary>
public sealed class StatsQueryTests
{
    private StatsTestBoard _dir = null!;
    private StatsBoard _board = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new StatsTestBoard();
        _board = _dir.Create();
        var a = _board.ClaimSlot(0, generation: 1, pid: 1111, cpu: 0);
        a.Add(_board.IndexOf("app/web1"), StatField.Stot, 10);
        a.Add(_board.IndexOf("app/web2"), StatField.Stot, 4);
        a.RaiseMax(_board.IndexOf("app/web2"), StatField.Smax, 7);
    }

    [TearDown]
    public void TearDown()
    {
        _board.Dispose();
        _dir.Dispose();
    }

    private static string[] Rows(string csv) =>
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => string.Join(",", l.Split(',').Take(2))).ToArray();

    [TestCase("-1", -1, -1, new[] { "www,FRONTEND", "www,0.0.0.0:80", "app,web1", "app,web2", "app,BACKEND" })]
    [TestCase("2", -1, -1, new[] { "app,web1", "app,web2", "app,BACKEND" })]
    [TestCase("app", 4, -1, new[] { "app,web1", "app,web2" })]
    [TestCase("-1", 4, 2, new[] { "app,web2" })]
    [TestCase("-1", 3, -1, new[] { "www,FRONTEND", "app,BACKEND" })]
    [TestCase("1", 1, -1, new[] { "www,FRONTEND" })]
    [TestCase("9", -1, -1, new string[0])]
    public void Csv_FiltersByProxyTypeAndServerId(string proxy, int types, int sid, string[] expected)
    {
        string csv = StatsQuery.Csv(_board.Snapshot(), new StatsFilter(proxy, types, sid));
        Assert.That(csv, Does.StartWith(StatsCsv.Header + "\n"));
        Assert.That(Rows(csv), Is.EqualTo(expected));
    }

    [Test]
    public void Typed_IsHaproxysLineFormat()
    {
        string typed = StatsQuery.Typed(_board.Snapshot(), new StatsFilter("app", 4, 1));
        var lines = typed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // S.IID.SID.POS.NAME.PROC:TAGS:TYPE:VALUE, as `show stat typed` on HAProxy 2.6.
        Assert.That(lines[0], Is.EqualTo("S.2.1.0.pxname.1:KNS:str:app"));
        Assert.That(lines[1], Is.EqualTo("S.2.1.1.svname.1:KNS:str:web1"));
        Assert.That(lines, Does.Contain("S.2.1.7.stot.1:MCP:u64:10"));
    }

    [Test]
    public void Json_IsAnArrayOfObjectsOfFields()
    {
        using var doc = JsonDocument.Parse(StatsQuery.Json(_board.Snapshot(), new StatsFilter("-1", 4, -1)));
        Assert.That(doc.RootElement.GetArrayLength(), Is.EqualTo(2));
        var first = doc.RootElement[0][0];
        Assert.That(first.GetProperty("objType").GetString(), Is.EqualTo("Server"));
        Assert.That(first.GetProperty("field").GetProperty("name").GetString(), Is.EqualTo("pxname"));
        Assert.That(first.GetProperty("tags").GetProperty("origin").GetString(), Is.EqualTo("Key"));
        Assert.That(first.GetProperty("value").GetProperty("value").GetString(), Is.EqualTo("app"));
        var stot = doc.RootElement[0].EnumerateArray().Single(f => f.GetProperty("field").GetProperty("name").GetString() == "stot");
        Assert.That(stot.GetProperty("value").GetProperty("type").GetString(), Is.EqualTo("u64"));
        Assert.That(stot.GetProperty("value").GetProperty("value").GetInt64(), Is.EqualTo(10));
    }

    [Test]
    public void InfoTyped_UsesHaproxysPositions()
    {
        var values = StatsInfo.Values(_board.Snapshot());
        var typed = StatsQuery.InfoTyped(values).Split('\n');
        Assert.That(typed[0], Does.StartWith("0.Name.1:POS:str:"));
        Assert.That(typed, Has.Some.StartWith("6.Pid.1:SGP:u32:"));
        Assert.That(typed, Has.Some.StartWith("15.Maxconn.1:CLP:u32:"));
        using var doc = JsonDocument.Parse(StatsQuery.InfoJson(values));
        Assert.That(doc.RootElement[0].GetProperty("field").GetProperty("name").GetString(), Is.EqualTo("Name"));
    }

    [Test]
    public void ClearCounters_MaximaOnly_ThenAll()
    {
        _board.ClearCounters(all: false);
        var snap = _board.Snapshot();
        Assert.That((snap.Total("app/web2", StatField.Smax), snap.Total("app/web1", StatField.Stot)), Is.EqualTo((0L, 10L)));
        _board.ClearCounters(all: true);
        Assert.That(_board.Snapshot().Total("app/web1", StatField.Stot), Is.EqualTo(0));
    }
}
