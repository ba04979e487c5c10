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
/// which grow to the peak in flight, up to <see cref="MaxBytesPerSize"/> per size; an array returned on another thread
/// (TLS and `mode tcp` sessions run on .NET's threads) joins that thread's stacks. HAProxy's pools behave the same way
/// (a per-thread cache in front of pools that keep what the peak needed).
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

    [ThreadStatic] private static Stack[]? t_stacks;

    /// <summary>An array of at least <paramref name="minimumLength"/> elements, not cleared; [] for 0.</summary>
    public static T[] Rent(int minimumLength)
    {
        if (minimumLength <= 0) return [];
        int index = BucketOf(minimumLength);
        if (index >= BucketCount) return GC.AllocateUninitializedArray<T>(minimumLength);
        if (t_stacks is { } stacks)
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
        ref Stack stack = ref (t_stacks ??= new Stack[BucketCount])[index];
        var arrays = stack.Arrays ??= new T[]?[Capacity(length)];
        if (stack.Count == arrays.Length) return;
        arrays[stack.Count++] = array;
    }

    private static int BucketOf(int length) => BitOperations.Log2((uint)(length - 1) | (MinLength - 1)) - 3;

    private static int Capacity(int length) =>
        (int)Math.Max(MinArraysPerSize, MaxBytesPerSize / ((long)length * Unsafe.SizeOf<T>()));
}
