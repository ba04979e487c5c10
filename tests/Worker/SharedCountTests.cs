using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Limits;
using Proxy.Tests.Config;
using Proxy.Supervisor;
using Proxy.Worker.Runtime;

namespace Proxy.Tests.Worker;

/// <summary>
/// The instance-wide `maxconn` counts (Proxy.Shared.Limits.SharedCounts, worker/Runtime/SharedCount.cs): two mappings
/// of one file stand for two workers, each counting in its own row.
/// </summary>
[TestFixture]
public sealed class SharedCountTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "counts-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static ProxyConfig Config() => ConfigTestHelper.ParseValid("""
        global
            maxconn 100
        defaults
            mode tcp
            timeout connect 1s
            timeout client 1s
            timeout server 1s
        frontend a
            bind 127.0.0.1:1
            maxconn 10
            default_backend be
        frontend b
            bind 127.0.0.1:2
            default_backend be
        backend be
            server s1 127.0.0.1:3 maxconn 3
            server s2 127.0.0.1:4
        backend other
            server s3 127.0.0.1:5 maxconn 1
        """);

    private string CountsPath => Path.Combine(_dir, "x.stats.counts.1");

    [Test]
    public void Index_GlobalThenFrontendsThenServers_InConfigurationOrder()
    {
        var config = Config();
        Assert.That((SharedCountIndex.Global, SharedCountIndex.Frontend(0), SharedCountIndex.Frontend(1)), Is.EqualTo((0, 1, 2)));
        Assert.That((SharedCountIndex.FirstServer(config, 0), SharedCountIndex.FirstServer(config, 1)), Is.EqualTo((3, 5)));
        Assert.That((SharedCountIndex.Backend(config, 0), SharedCountIndex.Backend(config, 1)), Is.EqualTo((6, 7)), "backends' loads come last");
        Assert.That(SharedCountIndex.CountOf(config), Is.EqualTo(8));
    }

    [Test]
    public void TwoWorkers_LimitHoldsForTheSum_AndAReleaseAnywhereMakesRoom()
    {
        using var created = SharedCounts.Create(CountsPath, Config(), rows: 2);
        using var second = SharedCounts.Open(CountsPath);
        var w1 = new SharedCount(created, row: 0, index: 3, limit: 3);
        var w2 = new SharedCount(second, row: 1, index: 3, limit: 3);

        Assert.That(w1.TryReserve() && w1.TryReserve() && w2.TryReserve(), Is.True);
        Assert.That((w1.TryReserve(), w2.TryReserve()), Is.EqualTo((false, false)), "3 held across both workers: full");
        Assert.That((w1.Own, w2.Own, w1.InUse, w2.HasRoom), Is.EqualTo((2L, 1L, 3L, false)), "a failed reserve leaves nothing behind");

        w1.Release();
        Assert.That(w2.HasRoom, Is.True, "the other worker sees the release");
        Assert.That(w2.TryReserve(), Is.True);
        Assert.That(created.Sum(3), Is.EqualTo(3));
        Assert.That(created.Sum(4), Is.EqualTo(0), "other counts untouched");
    }

    [Test]
    public void ZeroRow_GivesBackADeadWorkersReservations()
    {
        using var supervisor = SharedCounts.Create(CountsPath, Config(), rows: 2);
        using var deadWorker = SharedCounts.Open(CountsPath);
        using var liveWorker = SharedCounts.Open(CountsPath);
        var dead = new SharedCount(deadWorker, 0, SharedCountIndex.Global, limit: 2);
        var live = new SharedCount(liveWorker, 1, SharedCountIndex.Global, limit: 2);
        Assert.That(dead.TryReserve() && dead.TryReserve(), Is.True);
        Assert.That(live.TryReserve(), Is.False, "the worker that died holds both");

        supervisor.ZeroRow(0);   // what the supervisor does once the worker is reaped
        Assert.That(live.TryReserve() && live.TryReserve(), Is.True);
        Assert.That(supervisor.Sum(SharedCountIndex.Global), Is.EqualTo(2));
    }

    [Test]
    public void NoLimit_AlwaysReserves_AndCountsNothing()
    {
        var count = new SharedCount(null, 0, 0, limit: 0);
        for (int i = 0; i < 10; i++) Assert.That(count.TryReserve(), Is.True);
        Assert.That((count.InUse, count.HasRoom), Is.EqualTo((0L, true)));
    }

    [Test]
    public void Open_NotACountsFile_IsRefused()
    {
        File.WriteAllBytes(CountsPath, new byte[128]);
        Assert.Throws<InvalidDataException>(() => SharedCounts.Open(CountsPath));
    }

    /// <summary>Threads of two "workers" race for 2 places: never more than 2 held at once, and none left over.</summary>
    [Test]
    public void Racing_TwoWorkersFourThreads_NeverMoreThanTheLimitHeld()
    {
        const int limit = 2, rounds = 20000;   // fewer places than threads: the limit is what stops them
        using var one = SharedCounts.Create(CountsPath, Config(), rows: 2);
        using var two = SharedCounts.Open(CountsPath);
        var counts = new[] { new SharedCount(one, 0, 1, limit), new SharedCount(two, 1, 1, limit) };
        int held = 0, maxHeld = 0, granted = 0;
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            var mine = counts[t % 2];
            for (int i = 0; i < rounds; i++)
            {
                if (!mine.TryReserve()) continue;
                int now = Interlocked.Increment(ref held);
                int max;
                while (now > (max = Volatile.Read(ref maxHeld)) && Interlocked.CompareExchange(ref maxHeld, now, max) != max) { }
                Interlocked.Increment(ref granted);
                Interlocked.Decrement(ref held);
                mine.Release();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.That(maxHeld, Is.InRange(1, limit));
        Assert.That(granted, Is.GreaterThan(0));
        Assert.That(one.Sum(1), Is.EqualTo(0), "every reservation released");
    }

    /// <summary>The supervisor's files: a reaped worker's row is zeroed; a generation's file goes with its last worker once it is not current.</summary>
    [Test]
    public void GenerationCounts_RetireZeroesTheRow_AndAnOldGenerationsFileGoesWithItsLastWorker()
    {
        string board = Path.Combine(_dir, "x.stats");
        using var files = new GenerationCounts();
        files.Create(board, 1, Config(), workerSlots: 2);
        string g1 = files.PathOf(1)!;
        files.Attach(100, 1);
        files.Attach(101, 1);
        using (var worker = SharedCounts.Open(g1))
        {
            Assert.That(new SharedCount(worker, 0, 0, 10).TryReserve(), Is.True);
            files.Retire(100, slot: 0, currentGeneration: 1);   // crashed: its place comes back, the file stays for the respawn
            Assert.That(worker.Sum(0), Is.EqualTo(0));
        }
        Assert.That(File.Exists(g1), Is.True);

        files.Create(board, 2, Config(), workerSlots: 2);   // reload
        files.Attach(200, 2);
        files.Retire(101, slot: 1, currentGeneration: 2);   // the old generation's last worker
        Assert.That((File.Exists(g1), File.Exists(files.PathOf(2))), Is.EqualTo((false, true)));
        Assert.That(files.PathOf(1), Is.Null);
    }

    /// <summary>A failed reload's worker reaped after the next attempt made its generation's file again leaves the new file alone.</summary>
    [Test]
    public void GenerationCounts_FailedReloadWorkerReapedLate_DoesNotTouchTheNewFile()
    {
        string board = Path.Combine(_dir, "x.stats");
        using var files = new GenerationCounts();
        files.Create(board, 2, Config(), workerSlots: 1);
        files.Attach(300, 2);                                 // failed attempt's worker, being killed
        files.Create(board, 2, Config(), workerSlots: 1);   // next attempt
        files.Attach(301, 2);
        string path = files.PathOf(2)!;
        using var live = SharedCounts.Open(path);
        Assert.That(new SharedCount(live, 0, 0, 10).TryReserve(), Is.True);
        files.Retire(300, slot: 0, currentGeneration: 2);
        Assert.That(File.Exists(path), Is.True);
        Assert.That(live.Sum(0), Is.EqualTo(1), "the live worker's row untouched");
    }
}
