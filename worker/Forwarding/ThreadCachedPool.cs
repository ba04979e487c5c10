namespace Proxy.Worker.Forwarding;

/// <summary>
/// Spare objects kept per thread, without locks: a `mode http` worker's continuations run on its one loop thread
/// (worker/Io), so a rent and the return before it almost always meet on the same stack; an object returned on
/// another thread simply joins that thread's stack. At most <c>max</c> are kept per thread; the caller drops (or
/// disposes) one that does not fit. Used for socket operations (SocketOperationPool) and for the per-request parts of
/// an http session (HttpTransactionPool).
/// </summary>
internal static class ThreadCachedPool<T> where T : class
{
    [ThreadStatic] private static T?[]? t_stack;
    [ThreadStatic] private static int t_count;

    /// <summary>A spare object of this thread's, or null when it has none.</summary>
    public static T? TryRent()
    {
        var stack = t_stack;
        if (stack is null || t_count == 0) return null;
        int i = --t_count;
        var item = stack[i];
        stack[i] = null;
        return item;
    }

    /// <summary>Keeps <paramref name="item"/> for a later rent on this thread; false when <paramref name="max"/> are kept already.</summary>
    public static bool TryReturn(T item, int max)
    {
        var stack = t_stack ??= new T?[max];
        if (t_count == stack.Length) return false;
        stack[t_count++] = item;
        return true;
    }
}
