using NUnit.Framework;
using Proxy.Worker.Forwarding;

namespace Proxy.Tests.Worker;

/// <summary>The request path's array pool: per-thread stacks, powers of two, capped, allocation-free once warm.</summary>
public class ThreadArrayPoolTests
{
    // Element types of the tests' own, so no other code's arrays share these stacks.
    private struct Byte1 { }
    private struct Byte2 { }
    private struct Byte3 { }
    private struct Byte4 { }
    private struct Byte5 { }
    private struct Byte6 { }

    // NUnit's threads: each test marks the one it runs on, as the worker's loop marks itself.
    [SetUp]
    public void UseThePoolOnThisThread() => ThreadArrayPool.UseOnThisThread();

    [Test]
    public void Rent_RoundsUpToAPowerOfTwo_FromSixteen()
    {
        Assert.That(ThreadArrayPool<Byte1>.Rent(0), Is.Empty);
        Assert.That(ThreadArrayPool<Byte1>.Rent(1), Has.Length.EqualTo(16));
        Assert.That(ThreadArrayPool<Byte1>.Rent(16), Has.Length.EqualTo(16));
        Assert.That(ThreadArrayPool<Byte1>.Rent(17), Has.Length.EqualTo(32));
        Assert.That(ThreadArrayPool<Byte1>.Rent(16385), Has.Length.EqualTo(32768));
    }

    [Test]
    public void AReturnedArray_IsLentAgainOnTheSameThread_LastInFirstOut()
    {
        var a = ThreadArrayPool<Byte2>.Rent(16384);
        var b = ThreadArrayPool<Byte2>.Rent(16384);
        Assert.That(b, Is.Not.SameAs(a));
        ThreadArrayPool<Byte2>.Return(a);
        ThreadArrayPool<Byte2>.Return(b);
        Assert.That(ThreadArrayPool<Byte2>.Rent(10000), Is.SameAs(b));
        Assert.That(ThreadArrayPool<Byte2>.Rent(16384), Is.SameAs(a));

        // Another thread (not marked: it uses ArrayPool.Shared) does not see this thread's stacks.
        ThreadArrayPool<Byte2>.Return(a);
        Byte2[]? there = null;
        var t = new Thread(() => there = ThreadArrayPool<Byte2>.Rent(16384));
        t.Start();
        Assert.That(t.Join(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(there, Is.Not.SameAs(a));
        Assert.That(ThreadArrayPool<Byte2>.Rent(16384), Is.SameAs(a));
    }

    [Test]
    public void ArraysOfOtherLengths_AndBeyondTheCap_AreLeftToTheGc()
    {
        var odd = new Byte3[1000];
        var tiny = new Byte3[8];
        ThreadArrayPool<Byte3>.Return(odd);
        ThreadArrayPool<Byte3>.Return(tiny);
        Assert.That(ThreadArrayPool<Byte3>.Rent(1000), Is.Not.SameAs(odd).And.Length.EqualTo(1024));

        // 512 KB arrays: the 8 MB cap would keep 16, and at least 16 are kept; the 17th returned is dropped.
        const int length = 512 * 1024;
        var arrays = new Byte3[17][];
        for (int i = 0; i < arrays.Length; i++) arrays[i] = ThreadArrayPool<Byte3>.Rent(length);
        foreach (var a in arrays) ThreadArrayPool<Byte3>.Return(a);
        var again = new HashSet<Byte3[]>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < 17; i++) again.Add(ThreadArrayPool<Byte3>.Rent(length));
        int reused = 0;
        foreach (var a in arrays) if (again.Contains(a)) reused++;
        Assert.That(reused, Is.EqualTo(16));
    }

    [Test]
    public void RentAndReturn_OnceWarm_AllocateNothing()
    {
        var warm = new Byte4[64][];
        for (int i = 0; i < warm.Length; i++) warm[i] = ThreadArrayPool<Byte4>.Rent(16384);
        foreach (var a in warm) ThreadArrayPool<Byte4>.Return(a);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 100; round++)
        {
            for (int i = 0; i < warm.Length; i++) warm[i] = ThreadArrayPool<Byte4>.Rent(16384);
            for (int i = 0; i < warm.Length; i++) ThreadArrayPool<Byte4>.Return(warm[i]);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));
    }

    [Test]
    public void AnUnmarkedThread_KeepsNoStacks_ItsArraysGoToTheSharedPool()
    {
        Byte5[]? returned = null, lentAfterMarking = null;
        var t = new Thread(() =>
        {
            returned = ThreadArrayPool<Byte5>.Rent(4096);
            ThreadArrayPool<Byte5>.Return(returned);
            // Had the unmarked thread kept the array in stacks of its own, marking it would lend it from there.
            ThreadArrayPool.UseOnThisThread();
            lentAfterMarking = ThreadArrayPool<Byte5>.Rent(4096);
        });
        t.Start();
        Assert.That(t.Join(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(returned, Has.Length.EqualTo(4096));
        Assert.That(lentAfterMarking, Is.Not.SameAs(returned));
    }

    [Test]
    public void TrimAll_DropsWhatEveryThreadKeeps_AndThePoolKeepsWorking()
    {
        var a = ThreadArrayPool<Byte6>.Rent(16384);
        ThreadArrayPool<Byte6>.Return(a);
        ThreadArrayPool.TrimAll();   // as the worker's MemoryTrimmer does once traffic stopped
        var b = ThreadArrayPool<Byte6>.Rent(16384);
        Assert.That(b, Is.Not.SameAs(a));
        ThreadArrayPool<Byte6>.Return(b);
        Assert.That(ThreadArrayPool<Byte6>.Rent(16384), Is.SameAs(b));
    }
}
