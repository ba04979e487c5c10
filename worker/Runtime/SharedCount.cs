using System.Runtime.CompilerServices;
using Proxy.Shared.Limits;

namespace Proxy.Worker.Runtime;

/// <summary>
/// One instance-wide `maxconn` (global, a frontend's or a server's): this worker's cell of it in the counts file
/// (Proxy.Shared.Limits.SharedCounts) and the cells of the other worker slots, whose sum is what the instance has
/// in use. HAProxy's threads share one counter (actconn, feconn, srv->served); our workers are processes, so the
/// counter lives in shared memory, split by worker slot so that a killed worker's reservations can be given back
/// (the supervisor zeroes its row once it is reaped).
///
/// Reserve: increment our own cell, then sum every cell; over the limit, take the increment back and fail.
/// Release: decrement our own cell. Lock-free, allocation-free; a reserve reads one cache line per worker slot.
///
/// Why the limit holds (never more than Limit reservations held at once across the instance): every increment and
/// decrement is an Interlocked operation, a full fence (x86 `lock xadd`; ARM64 LSE atomics with full barriers), and
/// the reads of the sum come after our fenced increment. Suppose Limit + 1 reservations were held at one instant;
/// take the one whose increment came last among them in the order of those fenced operations. Each of the other
/// Limit increments came before it, and none of them was taken back before that instant, so its sum, read after its
/// own increment, counted all Limit + 1 (the store-buffer litmus test is forbidden with full fences): it failed,
/// a contradiction. A stale read can only show a cell higher than it is (an increment being taken back, a release
/// not yet seen, a dead row not yet seen zeroed), so errors go one way: two racing reserves at the limit may both
/// fail (each saw the other's increment), and then retry on the engine's timer; none can both succeed.
///
/// Without a counts file (engine tests, one worker) the cells are a pinned array of this process: one row.
/// </summary>
internal sealed unsafe class SharedCount
{
    private readonly long* _own;
    private readonly long* _first;
    private readonly long _stride;
    private readonly int _rows;
    private readonly long[]? _local;   // keeps the pinned cell of a count without a file alive

    /// <summary>Count <paramref name="index"/> of <paramref name="counts"/> (row <paramref name="row"/> is this worker's); without counts, a count of this process only.</summary>
    public SharedCount(SharedCounts? counts, int row, int index, long limit)
    {
        _limit = limit;
        if (counts is null)
        {
            _local = GC.AllocateArray<long>(8, pinned: true);   // a cache line of its own
            _own = _first = (long*)Unsafe.AsPointer(ref _local[0]);
            _rows = 1;
            return;
        }
        _own = counts.Cell(row, index);
        _first = counts.Cell(0, index);
        _stride = counts.RowStride;
        _rows = counts.RowCount;
    }

    /// <summary>The configured `maxconn` (0: none, every reserve succeeds and nothing is counted).</summary>
    public long Limit
    {
        get => Volatile.Read(ref _limit);
        // `set maxconn`: only for a count that is kept (a limit above 0 from the start); reservations above a lowered
        // limit stay until released, as HAProxy's connections above a lowered maxconn do.
        set
        {
            if (_limit == 0 || value <= 0) throw new InvalidOperationException("a count without a limit cannot get one, nor lose it");
            Volatile.Write(ref _limit, value);
        }
    }
    private long _limit;

    /// <summary>Reservations this worker holds.</summary>
    public long Own => Volatile.Read(ref *_own);

    /// <summary>Reservations the instance holds: the sum over every worker slot (an instant's view, see the class comment).</summary>
    public long InUse
    {
        get
        {
            long sum = 0;
            long* p = _first;
            for (int r = 0; r < _rows; r++, p += _stride) sum += Volatile.Read(ref *p);
            return sum;
        }
    }

    /// <summary>Whether a reserve would find room now (no reservation taken: an accept loop looks before it accepts).</summary>
    public bool HasRoom => Limit == 0 || InUse < Limit;

    /// <summary>Takes one reservation if the instance has fewer than <see cref="Limit"/>; false when full.</summary>
    public bool TryReserve() => Limit == 0 || TryReserve(Limit);

    /// <summary>
    /// Takes one reservation if the instance has fewer than <paramref name="limit"/> (a server's dynamic maxconn,
    /// at most <see cref="Limit"/>: `minconn`/`fullconn`, `slowstart`); false when full. Only for a kept count (Limit above 0).
    /// </summary>
    public bool TryReserve(long limit)
    {
        Interlocked.Increment(ref *_own);
        if (InUse <= limit) return true;
        Interlocked.Decrement(ref *_own);
        return false;
    }

    /// <summary>Counts one more unconditionally (a load, not a limit: a backend's beconn); <see cref="Leave"/> takes it back.</summary>
    public void Enter() => Interlocked.Increment(ref *_own);

    /// <summary>Takes back one <see cref="Enter"/> of this worker.</summary>
    public void Leave() => Interlocked.Decrement(ref *_own);

    /// <summary>Gives back one reservation taken by <see cref="TryReserve"/> in this worker.</summary>
    public void Release()
    {
        if (Limit == 0) return;
        Interlocked.Decrement(ref *_own);
    }
}
