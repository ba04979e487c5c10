using NUnit.Framework;
using Proxy.Shared.Stats;

namespace Proxy.Tests.Stats;

public class StatsBoardTests
{
    private StatsTestBoard _tmp = null!;

    [SetUp]
    public void SetUp() => _tmp = new StatsTestBoard();

    [TearDown]
    public void TearDown() => _tmp.Dispose();

    [Test]
    [Platform("Linux")]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Create_NewBoard_FileIsNotWorldReadable()
    {
        using var board = _tmp.Create();
        var mode = File.GetUnixFileMode(_tmp.Path);
        Assert.That(mode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite), Is.EqualTo((UnixFileMode)0));
    }

    [Test]
    public void Create_DuplicateName_Throws()
    {
        StatObjectDescriptor[] objects = [StatObjectDescriptor.Backend("app"), StatObjectDescriptor.Backend("app")];
        Assert.Throws<ArgumentException>(() => _tmp.Create(objects: objects));
    }

    [Test]
    public void Open_NotABoard_ThrowsInvalidData()
    {
        File.WriteAllBytes(_tmp.Path, new byte[4096]);
        Assert.Throws<InvalidDataException>(() => StatsBoardReader.Open(_tmp.Path));
    }

    [Test]
    public void ReadSnapshot_WorkerWroteItsSlot_SeparateReaderSeesValues()
    {
        using var supervisor = _tmp.Create();
        supervisor.ClaimSlot(1, generation: 1, pid: 4242, cpu: 3);

        // The worker maps the file itself, as another process would.
        using (var worker = StatsBoard.Open(_tmp.Path))
        {
            var slot = worker.Slot(1);
            int web1 = worker.IndexOf("app/web1");
            slot.SetState(WorkerSlotState.Running);
            slot.Add(web1, StatField.Stot, 5);
            slot.Add(web1, StatField.Bin, 1000);
            slot.IncrementWithMax(web1, StatField.Scur, StatField.Smax);
            slot.IncrementWithMax(web1, StatField.Scur, StatField.Smax);
            slot.Decrement(web1, StatField.Scur);
            slot.Set(web1, StatField.Weight, 10);
            slot.Add(worker.IndexOf("www/FRONTEND"), StatField.Stot, 7);
            slot.SetInfo(InfoField.MaxConn, 100);
        }

        var snap = StatsBoardReader.ReadSnapshot(_tmp.Path);
        var total = snap.Total("app/web1");
        Assert.Multiple(() =>
        {
            Assert.That(total[StatField.Stot], Is.EqualTo(5));
            Assert.That(total[StatField.Bin], Is.EqualTo(1000));
            Assert.That(total[StatField.Scur], Is.EqualTo(1));
            Assert.That(total[StatField.Smax], Is.EqualTo(2));
            Assert.That(total[StatField.Weight], Is.EqualTo(10));
            Assert.That(total.Pid, Is.EqualTo(0));
            Assert.That(snap.CumConns(), Is.EqualTo(7), "CumConns is the frontends' stot");
            Assert.That(snap.Info(InfoField.MaxConn), Is.EqualTo(100));
            Assert.That(snap.Workers.Single().Pid, Is.EqualTo(4242));
            Assert.That(snap.Workers.Single().Cpu, Is.EqualTo(3));
            Assert.That(snap.Workers.Single().State, Is.EqualTo(WorkerSlotState.Running));
            Assert.That(snap.WorkerRows.Single(r => r.Object.Key == "app/web1").Pid, Is.EqualTo(4242));
            Assert.That(snap.Total("app/web2", StatField.Stot), Is.EqualTo(0));
        });
    }

    [Test]
    public void ReadSnapshot_TwoWorkers_CountersSumMaximaMaxValuesFromNewest()
    {
        using var board = _tmp.Create();
        var a = board.ClaimSlot(0, generation: 1, pid: 100);
        var b = board.ClaimSlot(1, generation: 2, pid: 200);
        a.Add(3, StatField.Stot, 10); b.Add(3, StatField.Stot, 5);
        a.RaiseMax(3, StatField.Smax, 7); b.RaiseMax(3, StatField.Smax, 4);
        a.Set(3, StatField.Weight, 1); b.Set(3, StatField.Weight, 2);
        a.Add(3, StatField.RtimeSum, 10); b.Add(3, StatField.RtimeSum, 30);
        a.Increment(3, StatField.Timed); b.Increment(3, StatField.Timed);

        var total = board.Snapshot().Total("app/web1");

        Assert.Multiple(() =>
        {
            Assert.That(total[StatField.Stot], Is.EqualTo(15));
            Assert.That(total[StatField.Smax], Is.EqualTo(7));
            Assert.That(total[StatField.Weight], Is.EqualTo(2), "generation 2 is the newest");
            Assert.That((total[StatField.RtimeSum], total[StatField.Timed]), Is.EqualTo((40, 2)), "timer sums and counts add up");
        });
    }

    [Test]
    public void RetireSlot_ExitedWorker_TotalsUnchangedGaugesDropped()
    {
        using var board = _tmp.Create();
        var slot = board.ClaimSlot(0, generation: 1, pid: 100);
        slot.SetState(WorkerSlotState.Running);
        slot.Add(0, StatField.Stot, 42);
        slot.Add(0, StatField.Scur, 3);
        slot.RaiseMax(0, StatField.Smax, 9);
        slot.Add(0, StatField.ReqTot, 11);
        var before = board.Snapshot();

        board.MarkExited(0);
        var exited = board.Snapshot();
        board.RetireSlot(0);
        var after = board.Snapshot();

        Assert.Multiple(() =>
        {
            Assert.That(before.Total("www/FRONTEND", StatField.Scur), Is.EqualTo(3));
            Assert.That(exited.Total("www/FRONTEND", StatField.Scur), Is.EqualTo(0), "an exited worker holds no connection");
            Assert.That(exited.Total("www/FRONTEND", StatField.Stot), Is.EqualTo(42));
            Assert.That(after.Total("www/FRONTEND", StatField.Stot), Is.EqualTo(42));
            Assert.That(after.Total("www/FRONTEND", StatField.Smax), Is.EqualTo(9));
            Assert.That(after.Total("www/FRONTEND", StatField.Scur), Is.EqualTo(0));
            Assert.That(after.CumReq(), Is.EqualTo(11), "CumReq is the frontends' req_tot, retired ones included");
            Assert.That(after.Workers, Is.Empty);
            Assert.That(board.StateOf(0), Is.EqualTo(WorkerSlotState.Free));
        });
    }

    [Test]
    public void ClaimSlot_RetiredSlotReused_StartsFromZeroAndTotalsKeepGrowing()
    {
        using var board = _tmp.Create();
        board.ClaimSlot(0, generation: 1, pid: 100).Add(3, StatField.Stot, 10);
        board.RetireSlot(0);

        var reused = board.ClaimSlot(0, generation: 2, pid: 101);
        reused.Add(3, StatField.Stot, 1);

        var snap = board.Snapshot();
        Assert.Multiple(() =>
        {
            Assert.That(reused.Get(3, StatField.Stot), Is.EqualTo(1), "the slot was zeroed");
            Assert.That(snap.Total("app/web1", StatField.Stot), Is.EqualTo(11));
            Assert.That(snap.Workers.Single().Generation, Is.EqualTo(2));
        });
    }

    [Test]
    public void ClaimSlot_SlotInUse_Throws()
    {
        using var board = _tmp.Create();
        board.ClaimSlot(0, generation: 1);
        Assert.Throws<InvalidOperationException>(() => board.ClaimSlot(0, generation: 2));
    }

    [Test]
    public void ClaimFreeSlot_RingFull_Throws()
    {
        using var board = _tmp.Create(slots: 2);
        Assert.That(board.ClaimFreeSlot(1).Index, Is.EqualTo(0));
        Assert.That(board.ClaimFreeSlot(1).Index, Is.EqualTo(1));
        Assert.Throws<InvalidOperationException>(() => board.ClaimFreeSlot(1));
    }

    [Test]
    public void Add_ObjectIndexOutOfRange_Throws()
    {
        using var board = _tmp.Create();
        var slot = board.ClaimSlot(0, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => slot.Add(StatsTestBoard.Objects.Length, StatField.Stot, 1));
    }

    [Test]
    public void RetireSlot_WorkerCrashed_TotalsSurvive()
    {
        using var board = _tmp.Create();
        var slot = board.ClaimSlot(2, generation: 1, pid: 300);
        slot.SetState(WorkerSlotState.Running);
        slot.Add(2, StatField.Hrsp5xx, 4);

        // A crash is the same as an exit for the board: the supervisor reaps, then retires.
        board.MarkExited(2);
        board.RetireSlot(2);
        board.RetireSlot(2); // twice is harmless

        Assert.That(board.Snapshot().Total("app/BACKEND", StatField.Hrsp5xx), Is.EqualTo(4));
    }
}
