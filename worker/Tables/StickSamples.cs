using Proxy.Shared.Config;
using Proxy.Shared.Tables;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Tables;

/// <summary>
/// The stick-table fetches (7.3.3 `sc_*`, `sc0_*`..`sc2_*`, `src_*`, `table_avl`, `table_cnt`) and converters
/// (7.3.1 `table_*`), compiled once from the fetch's name: which counter or key, which data, which table.
/// </summary>
internal sealed class StickSamples
{
    private readonly SampleFetchKind _kind;
    private readonly int _counter;          // sc number; -2 for src_*
    private readonly StickDataType _type;
    private readonly StickFetchOp _op;
    private readonly string? _tableName;    // named as an argument; null: the tracked one, or the proxy's own
    private StickTables.NameCache? _proxyTable;

    public StickSamples(SampleFetchStep step)
    {
        _kind = step.Kind;
        if (step.Kind is SampleFetchKind.TableAvl or SampleFetchKind.TableCnt)
        {
            _tableName = step.Text;
            return;
        }
        int source = StickFetches.Source(step.Name, out var suffix) ?? -2;
        StickFetches.TryFind(suffix, out _type, out _op);
        _counter = source == -1 ? (int)step.Number : source;
        _tableName = source == -1 ? step.Text2 : step.Text;
    }

    /// <summary>A `table_X(TABLE)` converter: the input sample is the key.</summary>
    public StickSamples(SampleConverterStep step)
    {
        _kind = (SampleFetchKind)(-1);
        StickFetches.TryFind(step.Name["table_".Length..], out _type, out _op, converter: true);
        _tableName = step.Text;
    }

    public bool TryFetch(SampleContext ctx, out Sample s)
    {
        s = default;
        long now = Environment.TickCount64;
        if (_kind is SampleFetchKind.TableAvl or SampleFetchKind.TableCnt)
        {
            if (Table(ctx) is not { } t) return false;
            s = Sample.OfInt(_kind == SampleFetchKind.TableAvl ? t.Available : t.Used);
            return true;
        }
        if (_kind == SampleFetchKind.StickSource)
        {
            if (Table(ctx) is not { } t || ctx.Client is null) return false;
            Span<byte> key = stackalloc byte[16];
            if (!ctx.Client.Address.TryWriteBytes(key, out int n)) return false;
            if (!TryLookup(ctx, t, Sample.OfIp(key[..n]), now, out long found)) return false;
            s = Sample.OfInt(found);
            return true;
        }
        // sc_*, scN_*: the tracked entry; with a table argument, the tracked key looked up there.
        if ((uint)_counter >= StickTracker.Counters) return false;
        var tracker = ctx.Tracker;
        bool tracked = tracker is not null && tracker.IsTracked(_counter);
        if (_op == StickFetchOp.Tracked)
        {
            s = Sample.OfBool(tracked);
            return true;
        }
        if (!tracked) return false;
        var table = tracker!.TableOf(_counter)!;
        var r = tracker.RefOf(_counter);
        if (_tableName is not null && _tableName != table.Config.Name)
        {
            if (StickTables.Find(_tableName) is not { } other) return false;
            r = FindTrackedKey(table, r, other, now);
            table = other;
            if (r.IsNone) return false;
        }
        if (!StickTracker.TryRead(table, r, _type, _op, now, out long v)) return false;
        s = Sample.OfInt(v);
        return true;
    }

    /// <summary>`table_X(TABLE)`: <paramref name="s"/> as a key of TABLE; no sample when the key is absent.</summary>
    public bool TryConvert(SampleContext ctx, ref Sample s)
    {
        if (StickTables.Find(_tableName) is not { } t || !TryLookup(ctx, t, s, Environment.TickCount64, out long v)) return false;
        s = Sample.OfInt(v);
        return true;
    }

    private bool TryLookup(SampleContext ctx, StickTableFile t, scoped in Sample keySample, long now, out long value)
    {
        value = 0;
        Span<byte> key = stackalloc byte[256];
        if (t.Layout.KeyLength > key.Length) return false;
        int n = StickKey.Write(ctx, keySample, t.Config.KeyType, t.Layout.KeyLength, key);
        if (n < 0) return false;
        var r = t.Find(key[..n], now);
        if (r.IsNone)
        {
            // 7.3.3: an absent key reads 0 for the src_* counters (HAProxy returns 0 when the entry does not exist).
            return _kind == SampleFetchKind.StickSource;
        }
        return StickTracker.TryRead(t, r, _type, _op, now, out value);
    }

    private static unsafe StickRef FindTrackedKey(StickTableFile table, StickRef r, StickTableFile other, long now)
    {
        Span<byte> key = stackalloc byte[256];
        byte* e = table.Enter(r);
        if (e == null) return StickRef.None;
        var k = table.KeyOf(e);
        int n = Math.Min(k.Length, key.Length);
        k[..n].CopyTo(key);
        table.Release(e);
        return other.Find(key[..n], now);
    }

    /// <summary>The named table, else the table of the backend chosen (if it has one), else the frontend's.</summary>
    private StickTableFile? Table(SampleContext ctx)
    {
        if (_tableName is not null) return StickTables.Find(_tableName);
        if (ctx.Backend is { } be && StickTables.Find(be.Name) is { } own) return own;
        return StickTables.FindByName(ctx.FrontendName, ref _proxyTable);
    }
}
