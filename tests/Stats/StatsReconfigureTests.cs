using NUnit.Framework;
using Proxy.Shared.Stats;

namespace Proxy.Tests.Stats;

public class StatsReconfigureTests
{
    private StatsTestBoard _tmp = null!;

    [SetUp]
    public void SetUp() => _tmp = new StatsTestBoard();

    [TearDown]
    public void TearDown() => _tmp.Dispose();

    private static readonly StatObjectDescriptor[] s_newObjects =
    [
        StatObjectDescriptor.Backend("app"),
        StatObjectDescriptor.Server("app", "web3"),   // added
        StatObjectDescriptor.Server("app", "web1"),   // kept, at another index
        StatObjectDescriptor.Frontend("www"),
    ];

    [Test]
    public void Reconfigure_ObjectKeptByName_KeepsRetiredTotals()
    {
        var board = _tmp.Create();
        board.ClaimSlot(0, 1).Add(board.IndexOf("app/web1"), StatField.Stot, 7);
        board.ClaimSlot(1, 1).Add(board.IndexOf("app/web2"), StatField.Stot, 9);
        board.RetireSlot(0);
        board.RetireSlot(1);

        using var next = board.Reconfigure(s_newObjects, generation: 2);

        var snap = StatsBoardReader.ReadSnapshot(_tmp.Path);
        Assert.Multiple(() =>
        {
            Assert.That(snap.Generation, Is.EqualTo(2));
            Assert.That(snap.Objects, Is.EqualTo(s_newObjects));
            Assert.That(snap.Total("app/web1", StatField.Stot), Is.EqualTo(7));
            Assert.That(snap.Total("app/web3", StatField.Stot), Is.EqualTo(0));
            Assert.That(snap.Totals.Any(r => r.Object.Key == "app/web2"), Is.False, "a removed server is gone");
            Assert.That(Directory.GetFiles(_tmp.Directory), Has.Length.EqualTo(1), "no temporary file left");
        });
    }

    [Test]
    public void Reconfigure_OldWorkerStillDraining_ItsCountsFoldIntoNewBoardExactlyOnce()
    {
        var board = _tmp.Create();
        board.ClaimSlot(0, generation: 1, pid: 100).SetState(WorkerSlotState.Running);
        // The old worker's own mapping of the old file, which it keeps after the reload.
        using var oldWorker = StatsBoard.Open(_tmp.Path);
        var oldSlot = oldWorker.Slot(0);
        oldSlot.Add(oldWorker.IndexOf("app/web1"), StatField.Stot, 5);
        oldSlot.Add(oldWorker.IndexOf("app/web1"), StatField.Scur, 2);

        using var next = board.Reconfigure(s_newObjects, generation: 2);
        board.Dispose(); // a no-op: the new board still mirrors it
        var fresh = next.ClaimFreeSlot(generation: 2, pid: 200);
        fresh.Add(next.IndexOf("app/web1"), StatField.Stot, 1);

        var during = StatsBoardReader.ReadSnapshot(_tmp.Path);
        oldSlot.SetState(WorkerSlotState.Draining);
        oldSlot.Add(oldWorker.IndexOf("app/web1"), StatField.Stot, 3); // still serving while draining
        oldSlot.Add(oldWorker.IndexOf("app/web1"), StatField.Scur, -2);
        next.SyncMirrors();
        var synced = StatsBoardReader.ReadSnapshot(_tmp.Path);
        next.MarkExited(0);
        next.RetireSlot(0);
        var after = StatsBoardReader.ReadSnapshot(_tmp.Path);

        Assert.Multiple(() =>
        {
            Assert.That(fresh.Index, Is.EqualTo(1), "slot 0 still shows the old worker");
            Assert.That(during.Total("app/web1", StatField.Stot), Is.EqualTo(6));
            Assert.That(during.Total("app/web1", StatField.Scur), Is.EqualTo(2));
            Assert.That(during.Workers.Select(w => w.Pid), Is.EquivalentTo(new[] { 100, 200 }));
            Assert.That(synced.Total("app/web1", StatField.Stot), Is.EqualTo(9));
            Assert.That(synced.Workers.Single(w => w.Pid == 100).State, Is.EqualTo(WorkerSlotState.Draining));
            Assert.That(after.Total("app/web1", StatField.Stot), Is.EqualTo(9));
            Assert.That(after.Total("app/web1", StatField.Scur), Is.EqualTo(0));
            Assert.That(after.Workers.Single().Pid, Is.EqualTo(200));
            Assert.That(next.IsMirror(0), Is.False);
        });
    }

    [Test]
    public void Reconfigure_TwiceWhileOldWorkerDrains_MirrorFollowsOriginalBoard()
    {
        var board = _tmp.Create();
        var oldSlot = board.ClaimSlot(0, generation: 1, pid: 100);
        using var second = board.Reconfigure(s_newObjects, generation: 2);
        using var third = second.Reconfigure(StatsTestBoard.Objects, generation: 3);

        oldSlot.Add(board.IndexOf("app/web1"), StatField.Stot, 4); // the generation-1 worker writes the first file
        third.RetireSlot(0);

        Assert.That(third.Snapshot().Total("app/web1", StatField.Stot), Is.EqualTo(4));
    }

    [Test]
    public void Reconfigure_FewerSlotsThanInUse_Throws()
    {
        using var board = _tmp.Create(slots: 4);
        board.ClaimSlot(3, 1);
        Assert.Throws<InvalidOperationException>(() => board.Reconfigure(StatsTestBoard.Objects, slotCount: 2));
    }

    [Test]
    public void OpenReader_BeforeReconfigure_KeepsReadingOldFile()
    {
        var board = _tmp.Create();
        board.ClaimSlot(0, 1).Add(0, StatField.Stot, 3);
        using var oldReader = StatsBoardReader.Open(_tmp.Path);

        using var next = board.Reconfigure(s_newObjects, generation: 2);

        Assert.That(oldReader.ReadSnapshot().Total("www/FRONTEND", StatField.Stot), Is.EqualTo(3));
        Assert.That(oldReader.ReadSnapshot().Generation, Is.EqualTo(1));
    }

    [Test]
    public void OpenOrCreate_BoardLeftByPreviousRun_CarriesTotalsAndFreesSlots()
    {
        using (var previous = _tmp.Create())
        {
            previous.ClaimSlot(0, 1, pid: 100).Add(previous.IndexOf("app/web1"), StatField.Stot, 8);
            previous.ClaimSlot(1, 1, pid: 101).Add(previous.IndexOf("app/web1"), StatField.Stot, 2);
            previous.RetireSlot(1);
        } // the previous supervisor and its workers are gone; slot 0 was never retired

        using var board = StatsBoard.OpenOrCreate(_tmp.Path, s_newObjects, slotCount: 4, generation: 7);

        var snap = board.Snapshot();
        Assert.Multiple(() =>
        {
            Assert.That(snap.Total("app/web1", StatField.Stot), Is.EqualTo(10));
            Assert.That(snap.Workers, Is.Empty);
            Assert.That(snap.Generation, Is.EqualTo(7));
            Assert.That(board.FindFreeSlot(), Is.EqualTo(0));
        });
    }

    [Test]
    public void OpenOrCreate_NoBoard_CreatesOne()
    {
        using var board = StatsBoard.OpenOrCreate(_tmp.Path, s_newObjects, slotCount: 2);
        Assert.That(StatsBoardReader.ReadSnapshot(_tmp.Path).Objects, Is.EqualTo(s_newObjects));
    }

    [Test]
    public void Reconfigure_Always_KeepsInstanceCreationTime()
    {
        var board = _tmp.Create();
        var created = board.Snapshot().CreatedAt;
        Thread.Sleep(20);
        using var next = board.Reconfigure(s_newObjects, generation: 2);
        Assert.That(next.Snapshot().CreatedAt, Is.EqualTo(created));
    }

    [Test]
    public void OpenOrCreate_BoardLeftByPreviousRun_UptimeRestartsTotalsStay()
    {
        var old = _tmp.Create();
        old.ClaimSlot(0, 1).Add(old.IndexOf("app/web1"), StatField.Stot, 5);
        var created = old.Snapshot().CreatedAt;
        old.Dispose();
        Thread.Sleep(50);
        using var board = StatsBoard.OpenOrCreate(_tmp.Path, s_newObjects, slotCount: 2);
        var snap = board.Snapshot();
        Assert.That(snap.CreatedAt, Is.GreaterThan(created.AddMilliseconds(40)), "a new supervisor's Uptime starts at 0");
        Assert.That(snap.Total("app/web1", StatField.Stot), Is.EqualTo(5), "totals still carry over");
    }
}
