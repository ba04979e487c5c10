using System.IO.MemoryMappedFiles;
using Proxy.Shared.Config;
using Proxy.Shared.Interop;

namespace Proxy.Shared.Limits;

// The counts file of one generation: what every `maxconn` of the instance has in use, per worker slot.
//
//   [header, 64 B: u64 magic, i32 version, i32 rowCount, i32 countCount, i32 0, i64 rowSize, i64 fileSize]
//   [row 0][row 1]...[row rowCount-1]     one row per worker slot, countCount i64, rounded up to 64 B
//
// Count k of a row (SharedCountIndex): 0 the global maxconn, then each frontend's, then each server's, in
// configuration order, then each backend's current load (HAProxy's beconn, which `minconn`/`fullconn` scale by). Row r is written only by the worker of slot r (Interlocked, from any of its threads) and
// zeroed by the supervisor once that worker is reaped; what the instance has in use is the sum over the rows.
// Rows start on 64-byte cache lines, so two workers never write the same line.

/// <summary>
/// The mapped file holding the instance-wide `maxconn` counts of one generation (global, frontend and server
/// `maxconn`, HAProxy's actconn, feconn and served). The supervisor creates it beside the stats board and sizes it
/// from the config; each worker maps it and counts in its own row; the supervisor zeroes the row of a worker it
/// reaped, so a killed worker's reservations come back. See worker/Runtime/SharedCount.cs for the reserve and
/// release and their memory-ordering argument.
/// </summary>
public sealed unsafe class SharedCounts : IDisposable
{
    private const ulong Magic = 0x31544E434D585250;   // "PRXMCNT1" read as little-endian bytes
    // 2: a count per backend (beconn, for `minconn`/`fullconn`) follows the servers' counts.
    private const int Version = 2;
    private const int HeaderSize = 64;
    private const int HMagic = 0, HVersion = 8, HRows = 12, HCounts = 16, HRowSize = 24, HFileSize = 32;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private bool _keptMapped;

    private SharedCounts(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, int rows, int counts)
    {
        Path = path;
        _file = file;
        _view = view;
        RowCount = rows;
        CountCount = counts;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + view.PointerOffset;
    }

    public string Path { get; }
    /// <summary>Worker slots: one row each.</summary>
    public int RowCount { get; }
    /// <summary>Counts per row (<see cref="SharedCountIndex.CountOf"/> of the config).</summary>
    public int CountCount { get; }
    /// <summary>Distance between the same count of two consecutive rows, in 64-bit values.</summary>
    public long RowStride => RowSize(CountCount) / 8;

    private static long RowSize(int counts) => ((long)counts * 8 + 63) & ~63L;

    /// <summary>
    /// Creates the counts file for <paramref name="rows"/> worker slots and the counts of <paramref name="config"/>
    /// at <paramref name="path"/> (mode 0600, all zero). A fresh inode, never a truncated one: workers still mapping
    /// a file of that name (a failed reload's) keep valid memory.
    /// </summary>
    public static SharedCounts Create(string path, ProxyConfig config, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        int counts = SharedCountIndex.CountOf(config);
        long size = HeaderSize + RowSize(counts) * rows;
        return SharedMemoryFile.Create(path, size, (file, view) => new SharedCounts(path, file, view, rows, counts), created =>
        {
            *(ulong*)(created._base + HMagic) = Magic;
            *(int*)(created._base + HVersion) = Version;
            *(int*)(created._base + HRows) = rows;
            *(int*)(created._base + HCounts) = counts;
            *(long*)(created._base + HRowSize) = RowSize(counts);
            *(long*)(created._base + HFileSize) = size;
        });
    }

    /// <summary>Maps the counts file at <paramref name="path"/> read-write; throws InvalidDataException when it is not one.</summary>
    public static SharedCounts Open(string path)
    {
        return SharedMemoryFile.Open(path, fs =>
        {
            Span<byte> h = stackalloc byte[HeaderSize];
            if (fs.Length < HeaderSize || fs.ReadAtLeast(h, HeaderSize, throwOnEndOfStream: false) < HeaderSize
                || BitConverter.ToUInt64(h[HMagic..]) != Magic || BitConverter.ToInt32(h[HVersion..]) != Version)
                throw new InvalidDataException($"{path}: not a maxconn counts file of version {Version} (a supervisor and worker of different versions?)");
            int rows = BitConverter.ToInt32(h[HRows..]), counts = BitConverter.ToInt32(h[HCounts..]);
            long size = BitConverter.ToInt64(h[HFileSize..]);
            if (rows < 1 || counts < 1 || BitConverter.ToInt64(h[HRowSize..]) != RowSize(counts)
                || size != HeaderSize + RowSize(counts) * rows || fs.Length < size)
                throw new InvalidDataException($"{path}: counts file header does not match its size");
            return SharedMemoryFile.Map(fs, size, (file, view) => new SharedCounts(path, file, view, rows, counts));
        });
    }

    /// <summary>Count <paramref name="count"/> of row <paramref name="row"/>; the same count of row r+1 is <see cref="RowStride"/> values further.</summary>
    public long* Cell(int row, int count)
    {
        if ((uint)row >= (uint)RowCount || (uint)count >= (uint)CountCount) throw new ArgumentOutOfRangeException(nameof(count));
        return (long*)(_base + HeaderSize + RowSize(CountCount) * row) + count;
    }

    /// <summary>The instance's use of count <paramref name="count"/>: the sum over every row (what `show info` and tests read).</summary>
    public long Sum(int count)
    {
        long sum = 0;
        for (int r = 0; r < RowCount; r++) sum += Volatile.Read(ref *Cell(r, count));
        return sum;
    }

    /// <summary>
    /// Gives back every reservation of the worker of slot <paramref name="row"/>. Call only once that worker is
    /// reaped (waitpid): it can write no more, so no increment of it can land after the zero. Others may see the
    /// old values for a moment; they then find the instance fuller than it is, never emptier.
    /// </summary>
    public void ZeroRow(int row)
    {
        for (int c = 0; c < CountCount; c++) Volatile.Write(ref *Cell(row, c), 0);
    }

    /// <summary>Worker side: threads hold pointers into the mapping until the process ends, so Dispose leaves it mapped.</summary>
    public void KeepMappedUntilExit() => _keptMapped = true;

    public void Dispose()
    {
        if (_base == null || _keptMapped) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}

/// <summary>Where each `maxconn` is in a counts row: global, then frontends, then servers, in configuration order, then backends' loads.</summary>
public static class SharedCountIndex
{
    public const int Global = 0;

    public static int Frontend(int frontendIndex) => 1 + frontendIndex;

    /// <summary>The first server of backend <paramref name="backendIndex"/>; its servers follow in declaration order.</summary>
    public static int FirstServer(ProxyConfig config, int backendIndex)
    {
        int k = 1 + config.Frontends.Count;
        for (int b = 0; b < backendIndex; b++) k += config.Backends[b].Servers.Count;
        return k;
    }

    /// <summary>
    /// The current load of backend <paramref name="backendIndex"/> (HAProxy's beconn: the requests, or tcp
    /// connections, in it), after every server's count.
    /// </summary>
    public static int Backend(ProxyConfig config, int backendIndex) => FirstServer(config, config.Backends.Count) + backendIndex;

    /// <summary>Counts per row for <paramref name="config"/>.</summary>
    public static int CountOf(ProxyConfig config) => Backend(config, config.Backends.Count);
}
