using Proxy.Shared.Config;

namespace Proxy.Shared.Tables;

// One stick table's file (README.md beside this file has the picture and the memory-ordering argument):
//
//   [header, 512 B]  magic, version, sizes, the definition text; the free-list and counters on their own cache lines
//   [buckets]        BucketCount x (i32 lock word = owner pid or 0, i32 first entry + 1 or 0)
//   [entries]        EntryCount x EntrySize, 64-byte aligned start
//
// An entry: [i32 next + 1][i32 bucket + 1, 0 when free][i32 serial][u16 key length][u16 0][i64 expire tick][i64 last use tick]
//           [key, KeyLength rounded up to 8][data: each stored type at its offset]
// Data: a value or counter is one i64; a rate is 3 i64 (period start tick, current count, previous count); conn_cur is
// one i32 per worker slot of the board (Columns), summed on read; gpc(N) is N i64.

/// <summary>The byte layout of one stick table's file, computed from its definition and the number of worker slots.</summary>
public sealed class StickTableLayout
{
    public const int HeaderSize = 512;
    public const int EntryHeaderSize = 32;
    public const int BucketSize = 8;
    /// <summary>The definition text's room in the header.</summary>
    public const int DefinitionBytes = 256;

    private readonly int[] _offsets = new int[Enum.GetValues<StickDataType>().Length];
    // Each stored type's spec by type (its shape, period, count), so an update finds it by index: the store list's
    // enumerator allocated on every Add and Read (issue 19).
    private readonly StickDataSpec[] _specs = new StickDataSpec[Enum.GetValues<StickDataType>().Length];

    public StickTableLayout(StickTableConfig table, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        Columns = columns;
        EntryCount = Math.Max(1, table.Size);
        KeyLength = table.KeyLength;
        // Powers of two: a bucket is `hash & (BucketCount - 1)`; about one entry per bucket when the table is full.
        BucketCount = (int)Math.Min(1L << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)EntryCount));
        Array.Fill(_offsets, -1);
        int at = EntryHeaderSize + ((KeyLength + 7) & ~7);
        foreach (var spec in table.Store)
        {
            _offsets[(int)spec.Type] = at;
            _specs[(int)spec.Type] = spec;
            StoredMask |= 1u << (int)spec.Type;
            at += spec.Shape switch
            {
                StickDataShape.Rate => 24,
                StickDataShape.PerSlot => ((columns * 4) + 7) & ~7,
                StickDataShape.Array => 8 * Math.Max(1, spec.Count),
                _ => 8,
            };
        }
        EntrySize = (at + 7) & ~7;
        BucketsOffset = HeaderSize;
        EntriesOffset = (BucketsOffset + (long)BucketCount * BucketSize + 63) & ~63L;
        FileSize = EntriesOffset + (long)EntryCount * EntrySize;
        Definition = Describe(table, columns);
    }

    public int EntryCount { get; }
    public int BucketCount { get; }
    public int EntrySize { get; }
    public int KeyLength { get; }
    /// <summary>conn_cur cells per entry: one per worker slot of the board.</summary>
    public int Columns { get; }
    public long BucketsOffset { get; }
    public long EntriesOffset { get; }
    public long FileSize { get; }
    /// <summary>What must be equal for a file to carry over a reload: type, key length, size, slots, store list.</summary>
    public string Definition { get; }

    /// <summary>The offset of <paramref name="type"/> in an entry, -1 when the table does not store it.</summary>
    public int OffsetOf(StickDataType type) => _offsets[(int)type];

    /// <summary>The store item of <paramref name="type"/> (meaningful where <see cref="OffsetOf"/> is not -1).</summary>
    public StickDataSpec SpecOf(StickDataType type) => _specs[(int)type];

    /// <summary>Bit N set when the table stores the type of value N.</summary>
    public uint StoredMask { get; }

    /// <summary>True when the table stores any of the types in <paramref name="mask"/> (<see cref="MaskOf"/>).</summary>
    public bool StoresAny(uint mask) => (StoredMask & mask) != 0;

    /// <summary>The bit of each of <paramref name="a"/> and <paramref name="b"/> in <see cref="StoredMask"/>.</summary>
    public static uint MaskOf(StickDataType a, StickDataType b) => (1u << (int)a) | (1u << (int)b);

    /// <summary>The bytes a table of <paramref name="table"/>'s definition maps (what `size` costs, README "bytes per entry").</summary>
    public static long BytesFor(StickTableConfig table, int columns) => new StickTableLayout(table, columns).FileSize;

    private static string Describe(StickTableConfig table, int columns)
    {
        var text = $"type={table.TypeName} len={table.KeyLength} size={Math.Max(1, table.Size)} columns={columns} store={string.Join(',', table.Store)}";
        // A definition longer than the header's room still compares equal by its hash.
        return text.Length <= DefinitionBytes ? text : text[..(DefinitionBytes - 17)] + "#" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)), 0, 8);
    }
}
