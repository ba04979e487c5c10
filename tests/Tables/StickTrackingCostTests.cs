using System.Net;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Tables;
using Proxy.Tests.Samples;
using Proxy.Worker.Samples;
using Proxy.Worker.Tables;

namespace Proxy.Tests.Tables;

/// <summary>
/// What `http-request track-sc0 src` does on every request (issue 19) stays cheap and right: the entry found or made
/// in one bucket lock hold, updates that find their type by index and allocate nothing, the `src` key written
/// without the scratch space and equal to what the fetch gives.
/// </summary>
[TestFixture]
public sealed unsafe class StickTrackingCostTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("sticktrack").FullName;

    [TearDown]
    public void TearDown()
    {
        StickTables.Use([], 0);
        Directory.Delete(_dir, recursive: true);
    }

    private StickTableFile Create(string name, StickKeyType type, int keyLength, int size, bool noPurge, params StickDataSpec[] store)
        => StickTableFile.OpenOrCreate(Path.Combine(_dir, name), new StickTableConfig(name, type, keyLength, size, 0, noPurge, null, store,
            new SourceLocation("test", 1)), 2, out _);

    private static readonly StickDataSpec[] Store =
    [
        new(StickDataType.ConnCur), new(StickDataType.HttpReqCnt), new(StickDataType.HttpReqRate, Period: 1000),
        new(StickDataType.Gpc, Count: 3), new(StickDataType.Gpt0),
    ];

    [Test]
    public void AcquireEntered_MakesThenFindsTheEntry_CountingInTheSameHold()
    {
        using var t = Create("a", StickKeyType.Ip, 4, 8, false, Store);
        byte[] key = [10, 0, 0, 1];
        byte* e = t.AcquireEntered(key, 1000, out var made);
        Assert.That(e != null && !made.IsNone, Is.True);
        t.Add(e, StickDataType.HttpReqCnt, 1000, 1);
        t.Release(e);
        e = t.AcquireEntered(key, 1001, out var found);
        Assert.That(found, Is.EqualTo(made), "the same entry");
        t.Add(e, StickDataType.HttpReqCnt, 1001, 1);
        Assert.That(t.Read(e, StickDataType.HttpReqCnt, 1001), Is.EqualTo(2));
        t.Release(e);
        Assert.That(t.Find(key, 1002).IsNone, Is.False, "released: the bucket can be locked again");
        Assert.That(t.Used, Is.EqualTo(1));
    }

    [Test]
    public void AcquireEntered_FullNoPurge_NothingEntered()
    {
        using var t = Create("a", StickKeyType.Ip, 4, 1, true, Store);
        byte* e = t.AcquireEntered([10, 0, 0, 1], 1000, out _);
        t.Release(e);
        e = t.AcquireEntered([10, 0, 0, 2], 1000, out var r);
        Assert.That(e == null && r.IsNone, Is.True);
    }

    [Test]
    public void Updates_ReachEachStoredType_AndAllocateNothing()
    {
        using var t = Create("a", StickKeyType.Ip, 4, 8, false, Store);
        byte* e = t.AcquireEntered([10, 0, 0, 1], 1000, out _);
        try
        {
            Update(t, e);   // warm up
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 99; i++) Update(t, e);
            Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "Add, Read and Set allocate nothing");
            Assert.That(t.Read(e, StickDataType.HttpReqCnt, 1000), Is.EqualTo(100));
            Assert.That(t.Read(e, StickDataType.HttpReqRate, 1000), Is.EqualTo(100), "the rate's own period");
            Assert.That(t.Read(e, StickDataType.HttpReqRate, 3000), Is.Zero, "two periods of 1000 ms later");
            Assert.That(t.Read(e, StickDataType.Gpc, 1000, 2), Is.EqualTo(100));
            Assert.That(t.Read(e, StickDataType.Gpc, 1000, 1), Is.Zero);
            Assert.That(t.Read(e, StickDataType.Gpt0, 1000), Is.EqualTo(7));
            Assert.That(t.Read(e, StickDataType.ConnCur, 1000), Is.EqualTo(1));
            Assert.That(t.Read(e, StickDataType.Gpc0, 1000), Is.Zero, "not stored");
        }
        finally
        {
            t.Release(e);
        }
        Assert.That(t.Layout.StoresAny(StickTableLayout.MaskOf(StickDataType.HttpReqCnt, StickDataType.Gpc1)), Is.True);
        Assert.That(t.Layout.StoresAny(StickTableLayout.MaskOf(StickDataType.BytesInCnt, StickDataType.HttpErrRate)), Is.False);
    }

    private static void Update(StickTableFile t, byte* e)
    {
        t.Add(e, StickDataType.HttpReqCnt, 1000, 1);
        t.Add(e, StickDataType.HttpReqRate, 1000, 1);
        t.Add(e, StickDataType.Gpc, 1000, 1, element: 2);
        t.Add(e, StickDataType.BytesInCnt, 1000, 1);
        t.Set(e, StickDataType.Gpt0, 1000, 7);
        t.Set(e, StickDataType.ConnCur, 1000, 1);
        t.Read(e, StickDataType.HttpReqRate, 1000);
    }

    [Test]
    public void TrackSrc_MappedIpv4Client_KeyedAsTheSrcFetchGivesIt()
    {
        using var ip = Create("ip", StickKeyType.Ip, 4, 8, false, Store);
        using var text = Create("text", StickKeyType.String, 32, 8, false, Store);
        StickTables.Use([ip, text], 0);
        var ctx = new SampleContext { Client = new IPEndPoint(IPAddress.Parse("::ffff:10.0.0.7"), 4000) };
        // `src` written straight into the key, and `src,ipmask(32)` through the fetch: the same entries.
        foreach (var expr in new[] { "src", "src,ipmask(32)" })
        {
            foreach (var (table, counter) in new[] { ("ip", 0), ("text", 1) })
                new CompiledTrack(new TrackScConfig(counter, SampleTestContext.Parse(expr), table, new SourceLocation("test", 1))).Run(ctx, forRequest: true);
            Assert.That(ctx.Tracker!.IsTracked(0) && ctx.Tracker.IsTracked(1), Is.True, expr);
            ctx.Tracker.EndRequest();
        }
        long now = Environment.TickCount64;
        Assert.That(ip.Used, Is.EqualTo(1), "one entry for both expressions");
        Assert.That(text.Used, Is.EqualTo(1));
        Assert.That(ip.Find([10, 0, 0, 7], now).IsNone, Is.False, "an IPv4 client on a dual-stack socket is keyed as IPv4");
        Assert.That(text.Find("10.0.0.7"u8, now).IsNone, Is.False, "a string table keys the dotted text");
        byte* e = ip.Enter(ip.Find([10, 0, 0, 7], now));
        Assert.That(ip.Read(e, StickDataType.HttpReqCnt, now), Is.EqualTo(2));
        Assert.That(ip.Read(e, StickDataType.ConnCur, now), Is.Zero, "the requests' trackers are released");
        ip.Release(e);
    }
}
