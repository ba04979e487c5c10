using NUnit.Framework;
using Proxy.Shared.Stats;
using Proxy.Worker.Stats;

namespace Proxy.Tests.Stats;

/// <summary>A worker's counters are its board slot: a count is visible at once, and nothing is kept elsewhere.</summary>
public class ProxyCountersBoardTests
{
    [Test]
    public void CountOnBoard_CountsVisibleToAReaderAtOnce_AndEarlierCountsCarried()
    {
        using var tmp = new StatsTestBoard();
        using var board = tmp.Create();
        var slot = board.ClaimSlot(0, generation: 1, pid: 10);
        slot.SetState(WorkerSlotState.Running);
        var fe = new ProxyCounters(CounterKind.Frontend, "www");
        fe.OpenSession();   // before binding: carried over

        fe.CountOnBoard(slot, board.IndexOf("www/FRONTEND"));
        fe.OpenSession();
        ProxyCounters.Add(ref fe.bin, 100);
        ProxyCounters.Increment(ref fe.reqTot);
        fe.CountResponse(200);
        fe.CloseSession();

        var total = StatsBoardReader.ReadSnapshot(tmp.Path).Total("www/FRONTEND");
        Assert.Multiple(() =>
        {
            Assert.That(total[StatField.Stot], Is.EqualTo(2));
            Assert.That(total[StatField.Scur], Is.EqualTo(1));
            Assert.That(total[StatField.Smax], Is.EqualTo(2));
            Assert.That(total[StatField.Bin], Is.EqualTo(100));
            Assert.That(total[StatField.ReqTot], Is.EqualTo(1));
            Assert.That(total[StatField.Hrsp2xx], Is.EqualTo(1));
            Assert.That(fe.TotalSessions, Is.EqualTo(2), "the engine reads the same values");
            Assert.That(slot.Get(board.IndexOf("www/FRONTEND"), StatField.Stot), Is.EqualTo(2));
        });
    }

    [Test]
    public void CountTimes_OnlyRequestsThatConnectedAndGotAResponse()
    {
        using var tmp = new StatsTestBoard();
        using var board = tmp.Create();
        var slot = board.ClaimSlot(0, generation: 1, pid: 10);
        var srv = new ProxyCounters(CounterKind.Server, "app", "web1");
        srv.CountOnBoard(slot, board.IndexOf("app/web1"));

        srv.CountTimes(connectMs: 2, responseMs: 10, totalMs: 20);
        srv.CountTimes(connectMs: 4, responseMs: 30, totalMs: 40);
        srv.CountTimes(connectMs: -1, responseMs: -1, totalMs: 5000);   // never connected
        srv.CountTimes(connectMs: 3, responseMs: -1, totalMs: 5000);    // no response head

        Assert.That((srv.TimedRequests, srv.ConnectTimeTotalMs, srv.ResponseTimeTotalMs, srv.TotalTimeTotalMs),
            Is.EqualTo((2L, 6L, 40L, 60L)));
    }

    [Test]
    public void KeptMappedBoard_DisposeLeavesTheSlotWritable()
    {
        using var tmp = new StatsTestBoard();
        var board = tmp.Create();
        var slot = board.ClaimSlot(0, generation: 1, pid: 10);
        var fe = new ProxyCounters(CounterKind.Frontend, "www");
        fe.CountOnBoard(slot, board.IndexOf("www/FRONTEND"));
        board.KeepMappedUntilExit();
        board.Dispose();
        fe.OpenSession();   // a late completion after the worker disposed its board: no fault
        Assert.That(StatsBoardReader.ReadSnapshot(tmp.Path).Total("www/FRONTEND", StatField.Stot), Is.EqualTo(1));
    }
}
