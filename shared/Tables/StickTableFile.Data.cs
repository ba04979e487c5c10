using Proxy.Shared.Config;

namespace Proxy.Shared.Tables;

/// <summary>The values of an entered entry: counters, rates, gpc arrays and gpt tags, read and written under its bucket's lock.</summary>
public sealed unsafe partial class StickTableFile
{
    // ---- data (entry entered) ---------------------------------------------------------------------------------------

    public bool Stores(StickDataType type) => Layout.OffsetOf(type) >= 0;

    /// <summary>Counts <paramref name="n"/> on <paramref name="type"/>: adds to a counter, a rate, or gpc element <paramref name="element"/>.</summary>
    public void Add(byte* e, StickDataType type, long now, long n, int element = 0)
    {
        int off = Layout.OffsetOf(type);
        if (off < 0) return;
        var spec = Layout.SpecOf(type);
        switch (spec.Shape)
        {
            case StickDataShape.Rate: FreqCounter.Add((long*)(e + off), spec.Period, now, n); break;
            case StickDataShape.Array: if ((uint)element < (uint)spec.Count) ((long*)(e + off))[element] += n; break;
            case StickDataShape.PerSlot: break;   // conn_cur: AddConnCur
            default: *(long*)(e + off) += n; break;
        }
    }

    /// <summary>The value of <paramref name="type"/> as `show table` and the fetches read it; conn_cur summed over slots.</summary>
    public long Read(byte* e, StickDataType type, long now, int element = 0)
    {
        int off = Layout.OffsetOf(type);
        if (off < 0) return 0;
        var spec = Layout.SpecOf(type);
        return spec.Shape switch
        {
            StickDataShape.Rate => FreqCounter.Read((long*)(e + off), spec.Period, now),
            StickDataShape.Array => (uint)element < (uint)spec.Count ? ((long*)(e + off))[element] : 0,
            StickDataShape.PerSlot => ConnCur(e),
            _ => *(long*)(e + off),
        };
    }

    /// <summary>Sets <paramref name="type"/> (gpt0, server_id, a counter; `set table`); conn_cur goes to column 0, the others to 0.</summary>
    public void Set(byte* e, StickDataType type, long now, long value, int element = 0)
    {
        int off = Layout.OffsetOf(type);
        if (off < 0) return;
        var spec = Layout.SpecOf(type);
        switch (spec.Shape)
        {
            case StickDataShape.Rate: FreqCounter.Set((long*)(e + off), spec.Period, now, value); break;
            case StickDataShape.Array: if ((uint)element < (uint)spec.Count) ((long*)(e + off))[element] = value; break;
            case StickDataShape.PerSlot:
                new Span<int>(e + off, Layout.Columns).Clear();
                *(int*)(e + off) = (int)Math.Clamp(value, 0, int.MaxValue);
                break;
            default: *(long*)(e + off) = value; break;
        }
    }

    /// <summary>conn_cur of worker slot <paramref name="column"/> moves by <paramref name="delta"/> (never below 0).</summary>
    public void AddConnCur(byte* e, int column, int delta)
    {
        int off = Layout.OffsetOf(StickDataType.ConnCur);
        if (off < 0 || (uint)column >= (uint)Layout.Columns) return;
        int* cell = (int*)(e + off) + column;
        *cell = Math.Max(0, *cell + delta);
    }

    private int ConnCur(byte* e)
    {
        int off = Layout.OffsetOf(StickDataType.ConnCur);
        if (off < 0) return 0;
        int sum = 0;
        for (int c = 0; c < Layout.Columns; c++) sum += ((int*)(e + off))[c];
        return sum;
    }

    private void ClearData(byte* e)
    {
        int dataStart = EKey + ((Layout.KeyLength + 7) & ~7);
        int off = Layout.OffsetOf(StickDataType.ConnCur);
        if (off < 0)
        {
            new Span<byte>(e + dataStart, Layout.EntrySize - dataStart).Clear();
            return;
        }
        // conn_cur is what trackers hold: it stays, the rest starts again.
        int cells = ((Layout.Columns * 4) + 7) & ~7;
        new Span<byte>(e + dataStart, off - dataStart).Clear();
        new Span<byte>(e + off + cells, Layout.EntrySize - off - cells).Clear();
    }
}
