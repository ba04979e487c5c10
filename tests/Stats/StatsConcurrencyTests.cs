using NUnit.Framework;
using Proxy.Shared.Stats;

namespace Proxy.Tests.Stats;

// Readers run beside writers and retirements; every total must only ever grow.
public class StatsConcurrencyTests
{
    private StatsTestBoard _tmp = null!;

    [SetUp]
    public void SetUp() => _tmp = new StatsTestBoard();

    [TearDown]
    public void TearDown() => _tmp.Dispose();

    [Test]
    public void ReadSnapshot_WriterRunning_TotalsNeverDecrease()
    {
        using var board = _tmp.Create();
        board.ClaimSlot(0, generation: 1);
        using var worker = StatsBoard.Open(_tmp.Path);
        var slot = worker.Slot(0);
        using var reader = StatsBoardReader.Open(_tmp.Path);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));

        // Large steps cross 32-bit boundaries, so a torn 64-bit read would show as a dip or a jump.
        const long step = 0x1_0000_0001;
        var writer = Task.Run(() =>
        {
            long n = 0;
            while (!stop.IsCancellationRequested) { slot.Add(3, StatField.Bin, step); n++; }
            return n;
        });
        long last = 0, reads = 0;
        while (!stop.IsCancellationRequested)
        {
            long now = reader.ReadSnapshot().Total("app/web1", StatField.Bin);
            Assert.That(now, Is.GreaterThanOrEqualTo(last));
            Assert.That(now % step, Is.EqualTo(0), "torn value");
            last = now;
            reads++;
        }
        long written = writer.GetAwaiter().GetResult();
        Assert.That(reader.ReadSnapshot().Total("app/web1", StatField.Bin), Is.EqualTo(written * step));
        Assert.That(reads, Is.GreaterThan(10));
    }

    [Test]
    public void ReadSnapshot_SlotsRetiredAndReclaimedMeanwhile_TotalsNeverDipNorDoubleCount()
    {
        using var board = _tmp.Create(slots: 2);
        using var reader = StatsBoardReader.Open(_tmp.Path);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));

        // The supervisor side: a worker lives, counts, exits and is retired, again and again.
        var supervisor = Task.Run(() =>
        {
            long expected = 0;
            for (long gen = 1; !stop.IsCancellationRequested; gen++)
            {
                var slot = board.ClaimSlot((int)(gen % 2), gen);
                for (int i = 0; i < 100; i++) slot.Add(0, StatField.Stot, 1);
                expected += 100;
                board.MarkExited(slot.Index);
                board.RetireSlot(slot.Index);
            }
            return expected;
        });
        long last = 0;
        while (!stop.IsCancellationRequested)
        {
            long now = reader.ReadSnapshot().Total("www/FRONTEND", StatField.Stot);
            Assert.That(now, Is.GreaterThanOrEqualTo(last));
            last = now;
        }
        long total = supervisor.GetAwaiter().GetResult();
        Assert.That(last, Is.LessThanOrEqualTo(total), "never more than was counted");
        Assert.That(reader.ReadSnapshot().Total("www/FRONTEND", StatField.Stot), Is.EqualTo(total));
    }

    [Test]
    public void ReadSnapshot_SupervisorDiedMidFold_ThrowsInsteadOfSpinningForever()
    {
        using var board = _tmp.Create();
        // An odd fold sequence (header offset 128) is what a supervisor killed inside RetireSlot leaves.
        using (var raw = new FileStream(_tmp.Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            raw.Position = 128;
            raw.Write(BitConverter.GetBytes(1L));
        }
        using var reader = StatsBoardReader.Open(_tmp.Path);
        Assert.Throws<TimeoutException>(() => reader.ReadSnapshot());
    }
}
