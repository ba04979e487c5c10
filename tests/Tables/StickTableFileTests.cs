using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Tables;

namespace Proxy.Tests.Tables;

/// <summary>The shared-memory stick table store (shared/Tables): lookups, LRU, expiry, rates, conn_cur columns, threads.</summary>
[TestFixture]
public sealed unsafe class StickTableFileTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("sticktable").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static StickTableConfig Table(int size, long expireMs = 0, bool noPurge = false, params StickDataSpec[] store)
        => new("t", StickKeyType.Ip, 4, size, expireMs, noPurge, null, store, new SourceLocation("test", 1));

    private StickTableFile Create(StickTableConfig config, int columns = 2)
        => StickTableFile.OpenOrCreate(Path.Combine(_dir, "t.table"), config, columns, out _);

    private static byte[] Ip(int n) => [10, 0, (byte)(n >> 8), (byte)n];

    [Test]
    public void Acquire_SameKeyTwice_SameEntryAndOneUsed()
    {
        using var t = Create(Table(100, store: new StickDataSpec(StickDataType.Gpc0)));
        var a = t.Acquire(Ip(1), 1000);
        var b = t.Acquire(Ip(1), 1001);
        Assert.That(b, Is.EqualTo(a));
        Assert.That(t.Used, Is.EqualTo(1));
        Assert.That(t.Find(Ip(2), 1000).IsNone, Is.True, "Find does not create");
        Assert.That(t.Used, Is.EqualTo(1));
    }

    [Test]
    public void Full_LeastRecentlyUsedGoes()
    {
        using var t = Create(Table(16, store: new StickDataSpec(StickDataType.Gpc0)));
        for (int i = 0; i < 16; i++) t.Acquire(Ip(i), 1000 + i);
        for (int i = 1; i < 16; i++) t.Acquire(Ip(i), 2000 + i);   // all but key 0 used again
        var fresh = t.Acquire(Ip(100), 3000);
        Assert.That(fresh.IsNone, Is.False);
        Assert.That(t.Used, Is.EqualTo(16));
        Assert.That(t.Find(Ip(0), 3000).IsNone, Is.True, "the least recently used entry was evicted");
        Assert.That(t.Find(Ip(5), 3000).IsNone, Is.False);
    }

    [Test]
    public void NoPurge_FullTableRefusesNewKeys()
    {
        using var t = Create(Table(4, noPurge: true, store: new StickDataSpec(StickDataType.Gpc0)));
        for (int i = 0; i < 4; i++) Assert.That(t.Acquire(Ip(i), 1000).IsNone, Is.False);
        Assert.That(t.Acquire(Ip(9), 1000).IsNone, Is.True);
    }

    [Test]
    public void Expire_EntryGoneAfterItsTime_AndPurgeFreesIt()
    {
        using var t = Create(Table(8, expireMs: 500, store: new StickDataSpec(StickDataType.Gpc0)));
        t.Acquire(Ip(1), 1000);
        Assert.That(t.Find(Ip(1), 1499).IsNone, Is.False);
        Assert.That(t.Find(Ip(1), 1500).IsNone, Is.True);
        Assert.That(t.Purge(1500), Is.EqualTo(1));
        Assert.That(t.Used, Is.EqualTo(0));
    }

    [Test]
    public void Rate_SlidingWindowOverTwoPeriods()
    {
        using var t = Create(Table(8, store: new StickDataSpec(StickDataType.HttpReqRate, Period: 1000)));
        var r = t.Acquire(Ip(1), 10_000);
        byte* e = t.Enter(r);
        for (int i = 0; i < 10; i++) t.Add(e, StickDataType.HttpReqRate, 10_000, 1);
        Assert.That(t.Read(e, StickDataType.HttpReqRate, 10_500), Is.EqualTo(10));
        // Half-way into the next period: half of the previous period's 10 remains in the window.
        Assert.That(t.Read(e, StickDataType.HttpReqRate, 11_500), Is.EqualTo(5));
        Assert.That(t.Read(e, StickDataType.HttpReqRate, 12_000), Is.EqualTo(0));
        t.Release(e);
    }

    [Test]
    public void ConnCur_SummedOverColumns_AndZeroColumnDropsADeadWorkersCells()
    {
        using var t = Create(Table(8, store: new StickDataSpec(StickDataType.ConnCur)), columns: 4);
        var r = t.Acquire(Ip(1), 1000);
        byte* e = t.Enter(r);
        t.AddConnCur(e, 0, 2);
        t.AddConnCur(e, 3, 5);
        t.AddConnCur(e, 1, -1);   // never below 0
        Assert.That(t.Read(e, StickDataType.ConnCur, 1000), Is.EqualTo(7));
        t.Release(e);
        t.ZeroColumn(3);
        e = t.Enter(r);
        Assert.That(t.Read(e, StickDataType.ConnCur, 1000), Is.EqualTo(2));
        t.Release(e);
    }

    [Test]
    public void TrackedEntry_NeverEvicted()
    {
        using var t = Create(Table(2, store: new StickDataSpec(StickDataType.ConnCur)));
        for (int i = 0; i < 2; i++)
        {
            byte* e = t.Enter(t.Acquire(Ip(i), 1000));
            t.AddConnCur(e, 0, 1);
            t.Release(e);
        }
        Assert.That(t.Acquire(Ip(5), 2000).IsNone, Is.True, "both entries are tracked");
    }

    [Test]
    public void ReusedEntry_OldReferenceNoLongerEnters()
    {
        using var t = Create(Table(1, store: new StickDataSpec(StickDataType.Gpc0)));
        var old = t.Acquire(Ip(1), 1000);
        t.Acquire(Ip(2), 2000);
        Assert.That(t.Enter(old) == null, Is.True);
    }

    [Test]
    public void Reopen_SameDefinitionCarriesEntries_OtherDefinitionStartsEmpty()
    {
        var config = Table(8, store: new StickDataSpec(StickDataType.Gpc0));
        var path = Path.Combine(_dir, "t.table");
        using (var t = StickTableFile.OpenOrCreate(path, config, 2, out bool carried))
        {
            Assert.That(carried, Is.False);
            byte* e = t.Enter(t.Acquire(Ip(1), 1000));
            t.Add(e, StickDataType.Gpc0, 1000, 7);
            t.Release(e);
        }
        using (var t = StickTableFile.OpenOrCreate(path, config with { ExpireMs = 5000 }, 2, out bool carried))
        {
            Assert.That(carried, Is.True, "expire is no part of the layout");
            byte* e = t.Enter(t.Find(Ip(1), 1000));
            Assert.That(t.Read(e, StickDataType.Gpc0, 1000), Is.EqualTo(7));
            t.Release(e);
        }
        using (var t = StickTableFile.OpenOrCreate(path, config with { Store = [new StickDataSpec(StickDataType.Gpc1)] }, 2, out bool carried))
        {
            Assert.That(carried, Is.False);
            Assert.That(t.Used, Is.EqualTo(0));
        }
    }

    [Test]
    public void Threads_CountEveryIncrement_AndKeepUsedExact()
    {
        using var t = Create(Table(64, store: [new StickDataSpec(StickDataType.HttpReqCnt), new StickDataSpec(StickDataType.ConnCur)]));
        const int Threads = 4, PerThread = 20_000, Keys = 32;
        var threads = new Thread[Threads];
        for (int k = 0; k < Threads; k++)
        {
            int id = k;
            threads[k] = new Thread(() =>
            {
                for (int i = 0; i < PerThread; i++)
                {
                    var r = t.Acquire(Ip(i % Keys), 1000);
                    byte* e = t.Enter(r);
                    t.Add(e, StickDataType.HttpReqCnt, 1000, 1);
                    t.AddConnCur(e, id % 2, 1);
                    t.AddConnCur(e, id % 2, -1);
                    t.Release(e);
                }
            });
            threads[k].Start();
        }
        foreach (var th in threads) th.Join();
        long total = 0;
        for (int i = 0; i < Keys; i++)
        {
            byte* e = t.Enter(t.Find(Ip(i), 1000));
            total += t.Read(e, StickDataType.HttpReqCnt, 1000);
            Assert.That(t.Read(e, StickDataType.ConnCur, 1000), Is.EqualTo(0));
            t.Release(e);
        }
        Assert.That(total, Is.EqualTo((long)Threads * PerThread));
        Assert.That(t.Used, Is.EqualTo(Keys));
    }

    [Test]
    public void DeadOwnerLock_IsStolen()
    {
        using var t = Create(Table(8, store: new StickDataSpec(StickDataType.Gpc0)));
        var r = t.Acquire(Ip(1), 1000);
        // Find a pid that does not exist, and write it into every bucket lock word (a worker killed holding them).
        int dead = 4_000_000;
        while (Proxy.Shared.Interop.Posix.ProcessExists(dead)) dead++;
        using (var fs = new FileStream(t.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            for (int b = 0; b < t.Layout.BucketCount; b++)
            {
                fs.Position = t.Layout.BucketsOffset + b * StickTableLayout.BucketSize;
                fs.Write(BitConverter.GetBytes(dead));
            }
        }
        var task = Task.Run(() => t.Find(Ip(1), 1000));
        Assert.That(task.Wait(TimeSpan.FromSeconds(10)), Is.True, "a lock held by a dead pid must be taken over");
        Assert.That(task.Result, Is.EqualTo(r));
    }
}
