using Proxy.Shared.Config;

namespace Proxy.Worker.Samples;

/// <summary>
/// Variable names (`SCOPE.NAME`, 2.8 "set-var") numbered once, when rules are compiled, so that a store is indexed by
/// number on the request path. Compilation runs before traffic; the lock is never taken by a request.
/// </summary>
internal static class VariableNames
{
    private static readonly Dictionary<string, int> Ids = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    public static int Count { get; private set; }

    public static int Intern(string name)
    {
        lock (Gate)
        {
            if (!Ids.TryGetValue(name, out int id)) Ids[name] = id = Count++;
            ProcessVariables.EnsureCapacity(Count);
            return id;
        }
    }

    /// <summary>proc scope: one store for the worker; sess: the connection's; txn, req and res: the transaction's.</summary>
    public static VariableScope ScopeOf(string name) => name.AsSpan(0, name.IndexOf('.')) switch
    {
        "proc" => VariableScope.Process,
        "sess" => VariableScope.Session,
        _ => VariableScope.Transaction,
    };
}

internal enum VariableScope : byte { Process, Session, Transaction }

/// <summary>A variable reference compiled: its number and its scope.</summary>
internal readonly record struct VariableRef(int Id, VariableScope Scope)
{
    public static VariableRef Of(string name) => new(VariableNames.Intern(name), VariableNames.ScopeOf(name));
}

/// <summary>
/// The values of one scope's variables: per variable a type, an integer and a byte buffer reused from one value to
/// the next (grown only when a longer value comes, so a keep-alive connection stops allocating after its first
/// requests). Not shared between threads: one per session or transaction.
/// </summary>
internal sealed class VariableStore
{
    private SampleType[] _types = [];
    private long[] _ints = [];
    private byte[][] _bytes = [];
    private int[] _lengths = [];

    public bool TryGet(int id, out Sample sample)
    {
        sample = default;
        if ((uint)id >= (uint)_types.Length || _types[id] == SampleType.Any) return false;
        sample.Type = _types[id];
        sample.Int = _ints[id];
        sample.Bytes = _bytes[id].AsSpan(0, _lengths[id]);
        return true;
    }

    public void Set(int id, scoped in Sample value)
    {
        if (id >= _types.Length) Grow(Math.Max(id + 1, VariableNames.Count));
        _types[id] = value.Type;
        _ints[id] = value.Int;
        var dest = _bytes[id];
        if (dest.Length < value.Bytes.Length) _bytes[id] = dest = new byte[Math.Max(value.Bytes.Length, 32)];
        value.Bytes.CopyTo(dest);
        _lengths[id] = value.Bytes.Length;
    }

    public void Unset(int id)
    {
        if ((uint)id < (uint)_types.Length) _types[id] = SampleType.Any;
    }

    /// <summary>Forgets every value (a new transaction), keeping the buffers.</summary>
    public void Clear() => Array.Clear(_types);

    private void Grow(int size)
    {
        Array.Resize(ref _types, size);
        Array.Resize(ref _ints, size);
        Array.Resize(ref _lengths, size);
        int old = _bytes.Length;
        Array.Resize(ref _bytes, size);
        for (int i = old; i < size; i++) _bytes[i] = [];
    }
}

/// <summary>
/// proc-scope variables, shared by the worker's threads: a value is an immutable copy published at once, so a reader
/// never sees half of one. Setting one allocates that copy (setting proc variables per request is rare).
/// </summary>
internal static class ProcessVariables
{
    private sealed record Value(SampleType Type, long Int, byte[] Bytes);

    private static Value?[] _values = new Value?[64];

    /// <summary>Called when names are numbered (under their lock), so that a request never grows the table.</summary>
    public static void EnsureCapacity(int count)
    {
        if (count <= _values.Length) return;
        var grown = new Value?[Math.Max(count, _values.Length * 2)];
        Array.Copy(_values, grown, _values.Length);
        Volatile.Write(ref _values, grown);
    }

    public static bool TryGet(int id, out Sample sample)
    {
        sample = default;
        var values = Volatile.Read(ref _values);
        if ((uint)id >= (uint)values.Length || Volatile.Read(ref values[id]) is not { } v) return false;
        sample.Type = v.Type;
        sample.Int = v.Int;
        sample.Bytes = v.Bytes;
        return true;
    }

    public static void Set(int id, scoped in Sample value)
    {
        var values = Volatile.Read(ref _values);
        if ((uint)id >= (uint)values.Length) return;   // numbered at compile time: cannot happen
        Volatile.Write(ref values[id], new Value(value.Type, value.Int, value.Bytes.ToArray()));
    }

    public static void Unset(int id)
    {
        var values = Volatile.Read(ref _values);
        if ((uint)id < (uint)values.Length) Volatile.Write(ref values[id], null);
    }
}
