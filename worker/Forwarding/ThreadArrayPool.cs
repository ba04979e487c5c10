using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// Arrays lent to `mode http` sessions while bytes are in flight (receive buffers, heads, header tables, the output
/// buffer), from one set of stacks per thread, without locks. It replaces ArrayPool&lt;T&gt;.Shared on the request path.
/// Measured on the http keep-alive bench (wrk -c50 against one worker, `perf record` of the worker): 50 sessions in
/// flight hold more arrays of one size than the shared pool keeps (one per thread, then 32 per core in a
/// Monitor-locked stack), so Rent fell through to the locked stacks and to new arrays, and Return dropped what did not
/// fit: about 10% of the worker's CPU went to Rent/Return, the allocations and the gen0 collections they caused.
/// Here the worker's loop thread, where a session's continuations run inline, rents and returns on its own stacks,
/// which grow to the peak in flight, up to <see cref="MaxBytesPerSize"/> per size. HAProxy's pools behave the same way
/// (a per-thread cache in front of pools that keep what the peak needed). Only threads marked with
/// <see cref="ThreadArrayPool.UseOnThisThread"/> (the loop) keep stacks: on .NET's threads (TLS and `mode tcp`
/// sessions, accepts continued after a wait) rents and returns go to ArrayPool&lt;T&gt;.Shared, which trims, so arrays
/// returned there cannot pile up on every thread-pool thread (review finding).
/// </summary>
internal static class ThreadArrayPool<T>
{
    /// <summary>Arrays come in powers of two from 16 elements (as ArrayPool&lt;T&gt;.Shared's buckets).</summary>
    private const int MinLength = 16;
    private const int BucketCount = 24;   // 16 .. 2^27 elements; longer ones are not pooled
    /// <summary>Bytes kept per size and thread, and at least <see cref="MinArraysPerSize"/> arrays: 512 buffers of 16 KB.</summary>
    private const long MaxBytesPerSize = 8L * 1024 * 1024;
    private const int MinArraysPerSize = 16;

    private struct Stack
    {
        public T[]?[]? Arrays;
        public int Count;
    }

    /// <summary>A thread's stacks. <see cref="Trim"/> (another thread) swaps them for none; see there.</summary>
    private sealed class Holder
    {
        public Stack[]? Stacks;
    }

    [ThreadStatic] private static Holder? t_holder;
    private static readonly List<WeakReference<Holder>> Holders = [];
    private static bool s_registered;   // under Holders' lock

    /// <summary>An array of at least <paramref name="minimumLength"/> elements, not cleared; [] for 0.</summary>
    public static T[] Rent(int minimumLength)
    {
        if (minimumLength <= 0) return [];
        if (!ThreadArrayPool.OnThisThread) return ArrayPool<T>.Shared.Rent(minimumLength);
        int index = BucketOf(minimumLength);
        if (index >= BucketCount) return GC.AllocateUninitializedArray<T>(minimumLength);
        var holder = t_holder;
        if (holder is not null && Volatile.Read(ref holder.Stacks) is { } stacks)
        {
            ref Stack stack = ref stacks[index];
            if (stack.Count > 0)
            {
                int i = --stack.Count;
                T[] array = stack.Arrays![i]!;
                stack.Arrays[i] = null;
                return array;
            }
        }
        return GC.AllocateUninitializedArray<T>(MinLength << index);
    }

    /// <summary>Takes an array back (not cleared); one of a length this pool does not lend, or beyond the cap, is left to the GC.</summary>
    public static void Return(T[] array)
    {
        int length = array.Length;
        if (length < MinLength || !BitOperations.IsPow2(length)) return;
        int index = BucketOf(length);
        if (index >= BucketCount) return;
        if (!ThreadArrayPool.OnThisThread)
        {
            ArrayPool<T>.Shared.Return(array);   // a power of two from 16 up: one of its sizes
            return;
        }
        var holder = t_holder ?? NewHolder();
        var stacks = Volatile.Read(ref holder.Stacks);
        if (stacks is null) Volatile.Write(ref holder.Stacks, stacks = new Stack[BucketCount]);
        ref Stack stack = ref stacks[index];
        var arrays = stack.Arrays ??= new T[]?[Capacity(length)];
        if (stack.Count == arrays.Length) return;
        arrays[stack.Count++] = array;
    }

    /// <summary>
    /// Drops what every thread keeps, for the GC to take (the worker's <see cref="MemoryTrimmer"/>, once traffic stopped:
    /// a burst of sessions in flight would otherwise stay in the stacks for good). Runs on another thread than the
    /// owners, without stopping them: it only swaps a holder's stacks for none. An owner in the middle of a rent or return
    /// finishes it on the stacks it had read, which nobody else ever touches and which are then garbage: at worst one
    /// array returned there is lost to the GC; nothing is ever lent twice, since only the owner pops.
    /// </summary>
    public static void Trim()
    {
        lock (Holders)
        {
            for (int i = Holders.Count - 1; i >= 0; i--)
            {
                if (Holders[i].TryGetTarget(out var holder)) Volatile.Write(ref holder.Stacks, null);
                else Holders.RemoveAt(i);   // its thread ended
            }
        }
    }

    /// <summary>Once per thread that returns an array.</summary>
    private static Holder NewHolder()
    {
        var holder = new Holder();
        lock (Holders)
        {
            if (Holders.Count == 0 && !s_registered)
            {
                s_registered = true;
                ThreadArrayPool.Register(Trim);
            }
            Holders.Add(new WeakReference<Holder>(holder));
        }
        return t_holder = holder;
    }

    private static int BucketOf(int length) => BitOperations.Log2((uint)(length - 1) | (MinLength - 1)) - 3;

    private static int Capacity(int length) =>
        (int)Math.Max(MinArraysPerSize, MaxBytesPerSize / ((long)length * Unsafe.SizeOf<T>()));
}

/// <summary>Which threads keep <see cref="ThreadArrayPool{T}"/> stacks.</summary>
internal static class ThreadArrayPool
{
    [ThreadStatic] private static bool t_onThisThread;

    /// <summary>True on a thread that called <see cref="UseOnThisThread"/>.</summary>
    public static bool OnThisThread => t_onThisThread;

    /// <summary>The calling thread (the worker's loop, a test) keeps its own stacks from now on.</summary>
    public static void UseOnThisThread() => t_onThisThread = true;

    private static readonly List<Action> Trims = [];

    /// <summary>Each element type's <c>Trim</c>, registered when that type's pool is first used.</summary>
    internal static void Register(Action trim)
    {
        lock (Trims) Trims.Add(trim);
    }

    /// <summary>Drops the arrays every thread keeps, of every element type (<see cref="ThreadArrayPool{T}.Trim"/>).</summary>
    public static void TrimAll()
    {
        Action[] trims;
        lock (Trims) trims = [.. Trims];
        foreach (var trim in trims) trim();
    }
}
