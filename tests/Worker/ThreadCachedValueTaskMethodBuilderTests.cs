using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using NUnit.Framework;
using Proxy.Worker.Forwarding;

namespace Proxy.Tests.Worker;

/// <summary>
/// The builder of the worker's per-request async methods: results and exceptions as any ValueTask method's, and a
/// suspended method's box reused from the thread's cache even with many calls in flight at once (where .NET's
/// PoolingAsyncValueTaskMethodBuilder, one box per thread plus one per CPU, allocated per call).
/// </summary>
public class ThreadCachedValueTaskMethodBuilderTests
{
    /// <summary>A completion the test triggers itself, on its own thread (continuations run inline).</summary>
    private sealed class Trigger : IValueTaskSource<int>
    {
        private ManualResetValueTaskSourceCore<int> _core;
        public ValueTask<int> Wait() => new(this, _core.Version);
        public void Fire(int value) => _core.SetResult(value);
        public void Fail(Exception e) => _core.SetException(e);
        public int GetResult(short token)
        {
            int r = _core.GetResult(token);
            _core.Reset();
            return r;
        }
        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);
        public void OnCompleted(Action<object?> c, object? s, short token, ValueTaskSourceOnCompletedFlags f) => _core.OnCompleted(c, s, token, f);
    }

    private static readonly AsyncLocal<int> Local = new();

    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private static async ValueTask<int> AddOneAsync(Trigger? trigger, int value)
    {
        if (trigger is not null) value = await trigger.Wait().ConfigureAwait(false);
        return value + 1;
    }

    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private static async ValueTask<int> SetLocalAsync(Trigger? trigger, int value)
    {
        Local.Value = value;
        if (trigger is not null) await trigger.Wait().ConfigureAwait(false);
        return Local.Value;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> AddOnePoolingAsync(Trigger trigger) => await trigger.Wait().ConfigureAwait(false) + 1;

    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder<>))]
    private static async ValueTask<int> ThrowAsync(Trigger? trigger)
    {
        if (trigger is not null) await trigger.Wait().ConfigureAwait(false);
        throw new InvalidDataException("from the method");
    }

    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder))]
    private static async ValueTask StoreAsync(Trigger? trigger, int[] into, bool fail)
    {
        int v = trigger is null ? 1 : await trigger.Wait().ConfigureAwait(false);
        if (fail) throw new InvalidDataException("from the method");
        into[0] = v;
    }

    [Test]
    public void PlainValueTaskMethods_CompleteFailAndReuseTheirBoxes()
    {
        var into = new int[1];
        Assert.That(StoreAsync(null, into, false).IsCompletedSuccessfully && into[0] == 1, Is.True);
        Assert.That(() => StoreAsync(null, into, true).GetAwaiter().GetResult(), Throws.InstanceOf<InvalidDataException>());
        var trigger = new Trigger();
        var failing = StoreAsync(trigger, into, true);
        trigger.Fire(5);
        Assert.That(() => failing.GetAwaiter().GetResult(), Throws.InstanceOf<InvalidDataException>());

        var triggers = new Trigger[16];
        for (int i = 0; i < triggers.Length; i++) triggers[i] = new Trigger();
        var pending = new ValueTask[triggers.Length];
        long allocated = 0;
        for (int round = 0; round < 2; round++)   // the first round fills the cache
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < triggers.Length; i++) pending[i] = StoreAsync(triggers[i], into, false);
            for (int i = 0; i < triggers.Length; i++) triggers[i].Fire(i + 10);
            for (int i = 0; i < triggers.Length; i++) pending[i].GetAwaiter().GetResult();
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.That((into[0], allocated), Is.EqualTo((25, 0L)));
    }

    [Test]
    public void SynchronousCompletion_ReturnsTheResult_AndLeaksNoAsyncLocal()
    {
        Local.Value = 7;
        var vt = AddOneAsync(null, 41);
        Assert.That((vt.IsCompletedSuccessfully, vt.Result), Is.EqualTo((true, 42)));
        Assert.That((SetLocalAsync(null, 3).Result, Local.Value), Is.EqualTo((3, 7)));
    }

    [Test]
    public void SuspendedMethod_ResumesInTheContextItCapturedAndLeaksNothing()
    {
        Local.Value = 7;
        var trigger = new Trigger();
        var vt = SetLocalAsync(trigger, 5);
        Assert.That(Local.Value, Is.EqualTo(7));
        trigger.Fire(0);
        Assert.That((vt.Result, Local.Value), Is.EqualTo((5, 7)));
    }

    [Test]
    public void SuspendedMethod_CompletesWhenResumed()
    {
        var trigger = new Trigger();
        var vt = AddOneAsync(trigger, 0);
        Assert.That(vt.IsCompleted, Is.False);
        trigger.Fire(99);
        Assert.That((vt.IsCompletedSuccessfully, vt.Result), Is.EqualTo((true, 100)));
    }

    [Test]
    public void Exceptions_SynchronousAndAfterSuspension_ReachTheAwaiter()
    {
        Assert.That(() => ThrowAsync(null).GetAwaiter().GetResult(), Throws.InstanceOf<InvalidDataException>());
        var trigger = new Trigger();
        var vt = ThrowAsync(trigger);
        trigger.Fire(1);
        Assert.That(() => vt.GetAwaiter().GetResult(), Throws.InstanceOf<InvalidDataException>());
    }

    [Test]
    public void SecondAwaitOfTheSameValueTask_Fails()
    {
        var trigger = new Trigger();
        var vt = AddOneAsync(trigger, 0);
        trigger.Fire(1);
        Assert.That(vt.GetAwaiter().GetResult(), Is.EqualTo(2));
        // The box went back to the cache and its version moved on: the stale ValueTask cannot read it again.
        Assert.That(() => vt.GetAwaiter().GetResult(), Throws.InvalidOperationException);
        // The stale read did not give the box back a second time: two calls in flight get two boxes, not one shared.
        Trigger t1 = new(), t2 = new();
        var a = AddOneAsync(t1, 0);
        var b = AddOneAsync(t2, 0);
        t1.Fire(10);
        t2.Fire(20);
        Assert.That((a.Result, b.Result), Is.EqualTo((11, 21)));
    }

    [Test]
    public void EarlyGetResult_Fails_AndTheCallStillCompletes()
    {
        var trigger = new Trigger();
        var vt = AddOneAsync(trigger, 0);
        // Read before completion: it throws, and must not recycle the box the suspended call still runs in.
        Assert.That(() => vt.GetAwaiter().GetResult(), Throws.InvalidOperationException);
        Trigger other = new();
        var second = AddOneAsync(other, 0);
        trigger.Fire(5);
        other.Fire(7);
        Assert.That((vt.Result, second.Result), Is.EqualTo((6, 8)));
    }

    [Test]
    public void ManyCallsInFlight_ReuseTheirBoxes()
    {
        const int inFlight = 32, rounds = 200;
        var triggers = new Trigger[inFlight];
        for (int i = 0; i < inFlight; i++) triggers[i] = new Trigger();
        var pending = new ValueTask<int>[inFlight];
        long Run(Func<Trigger, ValueTask<int>> method)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int round = 0; round < rounds; round++)
            {
                for (int i = 0; i < inFlight; i++) pending[i] = method(triggers[i]);
                for (int i = 0; i < inFlight; i++) triggers[i].Fire(i);
                for (int i = 0; i < inFlight; i++)
                {
                    if (pending[i].Result != i + 1) throw new AssertionException($"call {i} returned {pending[i].Result}");
                }
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Run(t => AddOneAsync(t, 0));                         // warm-up: fills this thread's cache
        Run(AddOnePoolingAsync);
        long cached = Run(t => AddOneAsync(t, 0));
        long pooling = Run(AddOnePoolingAsync);
        Assert.That(cached, Is.LessThan(1024), $"{cached} bytes allocated by {inFlight * rounds} suspended calls");
        Assert.That(pooling, Is.GreaterThan(inFlight * rounds * 32L), "the contrast: .NET's pooling builder allocates here");
    }
}
