using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using Proxy.Worker.Io;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// The async method builder of the per-request and per-connection methods (`[AsyncMethodBuilder(typeof(
/// ThreadCachedValueTaskMethodBuilder&lt;&gt;))]`): like .NET's PoolingAsyncValueTaskMethodBuilder, a method that
/// suspends keeps its state in a reusable box, given back when its ValueTask is awaited; unlike it, each thread
/// keeps up to <see cref="CacheDepth"/> boxes per method instead of one per thread plus one per CPU.
/// Why: a worker runs its sessions' continuations on one thread (inline socket completions), so every connection
/// in flight holds a box of each method it is suspended in, and .NET's two cached boxes were reused only while
/// fewer than three connections were busy. Measured (perf page-fault samples, http keep-alive, wrk -c10): every
/// request allocated four boxes (HandleOneRequestAsync, ExchangeAsync, ForwardResponseAsync,
/// BufferedSocket.ReceiveAsync), ~0.13 freshly touched GC page per request (perf/README.md, "issue 15, second pass").
/// Same contract as the pooling builder: the ValueTask is awaited exactly once.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public struct ThreadCachedValueTaskMethodBuilder<TResult>
{
    /// <summary>Boxes kept per thread and method: more than the connections a worker usually has in flight at once.</summary>
    public const int CacheDepth = 256;

    private Box? _box;              // set at the first suspension; null while the method ran synchronously
    private TResult _result;        // the result of a method that completed without suspending
    private Exception? _exception;  // the exception of a method that threw without suspending

    public static ThreadCachedValueTaskMethodBuilder<TResult> Create() => default;

    public readonly void Start<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : IAsyncStateMachine
    {
        // The worker's loop thread has no SynchronizationContext and no flowing ExecutionContext (IoLoop.Run), and the
        // worker sets no AsyncLocal: nothing to guard there, and these methods start about 12 times per request.
        if (IoLoop.OnLoopThread)
        {
            stateMachine.MoveNext();
            return;
        }
        // As AsyncMethodBuilderCore.Start: what the method's synchronous part changes in the ExecutionContext (an
        // AsyncLocal set) or the SynchronizationContext does not leak to the caller.
        var context = ExecutionContext.Capture();
        var syncContext = SynchronizationContext.Current;
        try
        {
            stateMachine.MoveNext();
        }
        finally
        {
            if (!ReferenceEquals(syncContext, SynchronizationContext.Current)) SynchronizationContext.SetSynchronizationContext(syncContext);
            if (context is not null && !ReferenceEquals(context, ExecutionContext.Capture())) ExecutionContext.Restore(context);
        }
    }

    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
        // Only used with boxed state machines, which this builder boxes itself.
    }

    public void SetResult(TResult result)
    {
        if (_box is null) _result = result;
        else _box.SetResult(result);
    }

    public void SetException(Exception exception)
    {
        if (_box is null) _exception = exception;
        else _box.SetException(exception);
    }

    public ValueTask<TResult> Task
    {
        get
        {
            if (_box is { } box) return new ValueTask<TResult>(box, box.Version);
            return _exception is null ? new ValueTask<TResult>(_result) : ValueTask.FromException<TResult>(_exception);
        }
    }

    /// <summary>The non-generic builder's ValueTask (the result is ignored).</summary>
    internal readonly ValueTask AsValueTask()
    {
        if (_box is { } box) return new ValueTask(box, box.Version);
        return _exception is null ? ValueTask.CompletedTask : ValueTask.FromException(_exception);
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine
        => awaiter.OnCompleted(GetBox(ref stateMachine).MoveNextAction);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine
        => awaiter.UnsafeOnCompleted(GetBox(ref stateMachine).MoveNextAction);

    private Box<TStateMachine> GetBox<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : IAsyncStateMachine
    {
        var context = ExecutionContext.Capture();
        if (_box is Box<TStateMachine> existing)
        {
            existing.Context = context;
            return existing;
        }
        var box = Box<TStateMachine>.Rent();
        // The builder inside the state machine must point at the box before the state machine is copied into it,
        // so that both copies (the caller's and the box's) complete the same box.
        _box = box;
        box.StateMachine = stateMachine;
        box.Context = context;
        return box;
    }

    /// <summary>The ValueTask's source: a method's state while it is suspended.</summary>
    private abstract class Box : IValueTaskSource<TResult>, IValueTaskSource
    {
        protected ManualResetValueTaskSourceCore<TResult> Core;

        public short Version => Core.Version;
        public void SetResult(TResult result) => Core.SetResult(result);
        public void SetException(Exception exception) => Core.SetException(exception);
        public ValueTaskSourceStatus GetStatus(short token) => Core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => Core.OnCompleted(continuation, state, token, flags);

        public abstract TResult GetResult(short token);

        void IValueTaskSource.GetResult(short token) => GetResult(token);
    }

    private sealed class Box<TStateMachine> : Box where TStateMachine : IAsyncStateMachine
    {
        [ThreadStatic] private static Box<TStateMachine>?[]? t_cache;
        [ThreadStatic] private static int t_count;
        private static readonly ContextCallback RunMoveNext = static s => ((Box<TStateMachine>)s!).StateMachine!.MoveNext();

        public TStateMachine? StateMachine;
        public ExecutionContext? Context;
        private Action? _moveNextAction;

        public Action MoveNextAction => _moveNextAction ??= MoveNext;

        public static Box<TStateMachine> Rent()
        {
            var cache = t_cache;
            if (cache is not null && t_count > 0)
            {
                int i = --t_count;
                var box = cache[i]!;
                cache[i] = null;
                return box;
            }
            return new Box<TStateMachine>();
        }

        private void MoveNext()
        {
            var context = Context;
            if (context is null) StateMachine!.MoveNext();
            else ExecutionContext.Run(context, RunMoveNext, this);
        }

        public override TResult GetResult(short token)
        {
            // A stale token (a second await) or an early call (before completion) throws here, and must not recycle a box
            // that its true owner still awaits or runs: only the one valid GetResult gives the box back.
            if (token != Core.Version || Core.GetStatus(token) == ValueTaskSourceStatus.Pending) return Core.GetResult(token);
            try
            {
                return Core.GetResult(token);
            }
            finally
            {
                // Awaited: the box is free. Reset bumps the version, so a second await of the same ValueTask fails.
                Core.Reset();
                StateMachine = default;
                Context = null;
                var cache = t_cache ??= new Box<TStateMachine>?[CacheDepth];
                if (t_count < cache.Length) cache[t_count++] = this;
            }
        }
    }
}

/// <summary>The same for async methods that return a plain ValueTask.</summary>
[StructLayout(LayoutKind.Auto)]
public struct ThreadCachedValueTaskMethodBuilder
{
    private ThreadCachedValueTaskMethodBuilder<bool> _inner;

    public static ThreadCachedValueTaskMethodBuilder Create() => default;

    public readonly void Start<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : IAsyncStateMachine
        => _inner.Start(ref stateMachine);

    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
        // Only used with boxed state machines, which this builder boxes itself.
    }

    public void SetResult() => _inner.SetResult(true);

    public void SetException(Exception exception) => _inner.SetException(exception);

    public readonly ValueTask Task => _inner.AsValueTask();

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine
        => _inner.AwaitOnCompleted(ref awaiter, ref stateMachine);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine
        => _inner.AwaitUnsafeOnCompleted(ref awaiter, ref stateMachine);
}
