using System.IO.MemoryMappedFiles;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Shared.Interop;

namespace Proxy.Shared.Tables;

/// <summary>An entry as a tracker holds it: its index and the serial it had; a reused entry has another serial.</summary>
public readonly record struct StickRef(int Index, int Serial)
{
    public static StickRef None => new(-1, 0);
    public bool IsNone => Index < 0;
}

/// <summary>
/// One stick table in shared memory (README.md beside this file): created by the supervisor beside the stats board,
/// mapped by every worker, updated by all of them with one spin lock per hash bucket held for a few loads and stores.
/// The file outlives workers (a killed worker's conn_cur cells are zeroed by the supervisor: <see cref="ZeroColumn"/>)
/// and reloads whose definition is unchanged (<see cref="StickTableLayout.Definition"/>).
/// Time is <see cref="Environment.TickCount64"/> (CLOCK_MONOTONIC ms, the same in every process of the machine).
/// </summary>
public sealed unsafe partial class StickTableFile : IDisposable
{
    private const ulong Magic = 0x31424C544B435453;   // "STCKTBL1"
    private const int Version = 1;
    private const int HMagic = 0, HVersion = 8, HEntrySize = 12, HEntryCount = 16, HBucketCount = 20, HColumns = 24,
        HDefinitionLength = 28, HDefinition = 32;
    // Each shared word on its own cache line.
    private const int HFreeLock = 320, HFreeHead = 324, HNextUnused = 328, HUsed = 384, HCursor = 448;
    // Entry header fields.
    private const int ENext = 0, EBucket = 4, ESerial = 8, EKeyLength = 12, EExpire = 16, ELastUse = 24, EKey = 32;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private bool _keptMapped;
    private readonly int _ownPid = Environment.ProcessId;

    public StickTableLayout Layout { get; }
    public StickTableConfig Config { get; private set; }
    public string Path { get; }

    private StickTableFile(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, StickTableLayout layout, StickTableConfig config)
    {
        Path = path;
        _file = file;
        _view = view;
        Layout = layout;
        Config = config;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + view.PointerOffset;
    }

    /// <summary>The file name of table <paramref name="name"/> of the instance whose board is <paramref name="boardPath"/>.</summary>
    public static string PathFor(string boardPath, string name)
    {
        var safe = new StringBuilder(name.Length);
        foreach (char c in name) safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        // The name made safe may collide (a/b and a_b): a short hash of the real one keeps them apart.
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name)), 0, 4).ToLowerInvariant();
        return $"{boardPath}.table.{safe}.{hash}";
    }

    /// <summary>
    /// Maps the table file at <paramref name="path"/> when it exists with the same definition (a reload or a restart
    /// keeps it), else creates a new one there (a fresh inode renamed over the path, mode 0600). Supervisor side.
    /// </summary>
    public static StickTableFile OpenOrCreate(string path, StickTableConfig config, int columns, out bool carried)
    {
        var layout = new StickTableLayout(config, columns);
        carried = false;
        if (File.Exists(path))
        {
            try
            {
                var old = Open(path, config);
                if (old.Layout.Definition == layout.Definition)
                {
                    carried = true;
                    return old;
                }
                old.Dispose();
            }
            catch (InvalidDataException)
            {
                // not a table file of this version: replaced below
            }
        }
        return Create(path, config, layout);
    }

    private static StickTableFile Create(string path, StickTableConfig config, StickTableLayout layout)
    {
        // Sparse: pages are used as entries are.
        return SharedMemoryFile.Create(path, layout.FileSize, (file, view) => new StickTableFile(path, file, view, layout, config), created =>
        {
            byte* b = created._base;
            *(int*)(b + HVersion) = Version;
            *(int*)(b + HEntrySize) = layout.EntrySize;
            *(int*)(b + HEntryCount) = layout.EntryCount;
            *(int*)(b + HBucketCount) = layout.BucketCount;
            *(int*)(b + HColumns) = layout.Columns;
            int n = Encoding.UTF8.GetBytes(layout.Definition, new Span<byte>(b + HDefinition, StickTableLayout.DefinitionBytes));
            *(int*)(b + HDefinitionLength) = n;
            *(ulong*)(b + HMagic) = Magic;
        });
    }

    /// <summary>Maps the table file at <paramref name="path"/> read-write (a worker, the supervisor at a reload).</summary>
    public static StickTableFile Open(string path, StickTableConfig config)
    {
        return SharedMemoryFile.Open(path, fs =>
        {
            Span<byte> h = stackalloc byte[StickTableLayout.HeaderSize];
            if (fs.Length < StickTableLayout.HeaderSize || fs.ReadAtLeast(h, h.Length, throwOnEndOfStream: false) < h.Length
                || BitConverter.ToUInt64(h[HMagic..]) != Magic || BitConverter.ToInt32(h[HVersion..]) != Version)
                throw new InvalidDataException($"{path}: not a stick table file");
            int columns = BitConverter.ToInt32(h[HColumns..]);
            int defLength = Math.Clamp(BitConverter.ToInt32(h[HDefinitionLength..]), 0, StickTableLayout.DefinitionBytes);
            var layout = new StickTableLayout(config, Math.Max(1, columns));
            if (Encoding.UTF8.GetString(h.Slice(HDefinition, defLength)) != layout.Definition
                || BitConverter.ToInt32(h[HEntrySize..]) != layout.EntrySize || BitConverter.ToInt32(h[HEntryCount..]) != layout.EntryCount
                || BitConverter.ToInt32(h[HBucketCount..]) != layout.BucketCount || fs.Length < layout.FileSize)
                throw new InvalidDataException($"{path}: stick table file of another definition");
            return SharedMemoryFile.Map(fs, layout.FileSize, (file, view) => new StickTableFile(path, file, view, layout, config));
        });
    }

    /// <summary>A reload kept the file: `expire` and `nopurge` may have changed (they are not part of the layout).</summary>
    public void UseConfig(StickTableConfig config) => Config = config;

    /// <summary>Entries in use (`show table` used, `table_cnt`).</summary>
    public int Used => Volatile.Read(ref *(int*)(_base + HUsed));

    /// <summary>Entries still free (`table_avl`).</summary>
    public int Available => Layout.EntryCount - Used;

    // ---- locks ------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Takes the spin lock word at <paramref name="word"/>: 0 free, else the owner's pid. A waiter that spun for a while
    /// checks the owner: a pid that no longer exists (a worker killed holding it) is replaced by the waiter's own,
    /// so a dead worker never wedges a bucket. The CAS is a full fence: what the previous owner wrote is visible.
    /// </summary>
    private void Lock(int* word)
    {
        if (Interlocked.CompareExchange(ref *word, _ownPid, 0) == 0) return;
        var spin = new SpinWait();
        int rounds = 0;
        while (true)
        {
            int owner = Volatile.Read(ref *word);
            if (owner == 0)
            {
                if (Interlocked.CompareExchange(ref *word, _ownPid, 0) == 0) return;
            }
            else if (++rounds % 4096 == 0 && owner != _ownPid && !Interop.Posix.ProcessExists(owner))
            {
                if (Interlocked.CompareExchange(ref *word, _ownPid, owner) == owner) return;
            }
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Releases: a release store, so every write made under the lock is visible to the next owner.</summary>
    private static void Unlock(int* word) => Volatile.Write(ref *word, 0);

    /// <summary>The bucket whose chain holds the entry, -1 when free. Stored plus one: a never-used (zeroed) entry reads free.</summary>
    private static int LinkedBucket(byte* e) => Volatile.Read(ref *(int*)(e + EBucket)) - 1;
    private static void SetLinkedBucket(byte* e, int b) => *(int*)(e + EBucket) = b + 1;

    private int* Bucket(int b) => (int*)(_base + Layout.BucketsOffset + (long)b * StickTableLayout.BucketSize);
    private byte* Entry(int index) => _base + Layout.EntriesOffset + (long)index * Layout.EntrySize;

    // ---- keys -------------------------------------------------------------------------------------------------------

    /// <summary>FNV-1a then a 64-bit finalizer (MurmurHash3's fmix64): the same value in every process.</summary>
    public static ulong Hash(ReadOnlySpan<byte> key)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in key) h = (h ^ b) * 1099511628211UL;
        h ^= h >> 33; h *= 0xff51afd7ed558ccdUL; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53UL; h ^= h >> 33;
        return h;
    }

    private int BucketOf(ReadOnlySpan<byte> key) => (int)(Hash(key) & (ulong)(Layout.BucketCount - 1));

    private static bool KeyEquals(byte* e, ReadOnlySpan<byte> key)
        => *(ushort*)(e + EKeyLength) == key.Length && new ReadOnlySpan<byte>(e + EKey, key.Length).SequenceEqual(key);

    /// <summary>The entry of <paramref name="key"/> in bucket <paramref name="b"/> (locked by the caller), -1 when none.</summary>
    private int Search(int* bucket, ReadOnlySpan<byte> key)
    {
        int index = bucket[1] - 1;
        for (int guard = 0; index >= 0 && guard < Layout.EntryCount; guard++)
        {
            byte* e = Entry(index);
            if (KeyEquals(e, key)) return index;
            index = *(int*)(e + ENext) - 1;
        }
        return -1;
    }

    private bool Expired(byte* e, long now)
    {
        long exp = *(long*)(e + EExpire);
        return exp != 0 && now - exp >= 0;
    }

    private void Touch(byte* e, long now)
    {
        *(long*)(e + ELastUse) = now;
        long expire = Config.ExpireMs;
        *(long*)(e + EExpire) = expire > 0 ? now + expire : 0;
    }

    // ---- lookups ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// The entry of <paramref name="key"/> (at most <see cref="StickTableLayout.KeyLength"/> bytes), created when absent
    /// (HAProxy's stktable_get_entry), its expiry renewed; <see cref="StickRef.None"/> when the table is full and
    /// nothing can go (`nopurge`, or every entry tracked).
    /// </summary>
    public StickRef Acquire(ReadOnlySpan<byte> key, long now)
    {
        byte* e = AcquireEntered(key, now, out var r);
        if (e != null) Release(e);
        return r;
    }

    /// <summary>
    /// <see cref="Acquire"/>, the entry left entered (as <see cref="Enter"/>: its bucket locked, pair with <see
    /// cref="Release"/>) so a tracker counts on it in the same hold; null (nothing locked) when the table is full and
    /// nothing can go, or the entry went again at once (<paramref name="r"/> may then still name it).
    /// </summary>
    public byte* AcquireEntered(ReadOnlySpan<byte> key, long now, out StickRef r)
    {
        if (key.Length > Layout.KeyLength) key = key[..Layout.KeyLength];
        int b = BucketOf(key);
        int* bucket = Bucket(b);
        Lock(bucket);
        int found = Search(bucket, key);
        if (found >= 0)
        {
            byte* e = Entry(found);
            if (Expired(e, now) && ConnCur(e) == 0) ClearData(e);   // expired, not yet purged: starts again
            Touch(e, now);
            r = new StickRef(found, *(int*)(e + ESerial));
            return e;
        }
        Unlock(bucket);
        // Allocate outside the bucket lock: eviction takes another bucket's lock, and two locks never nest.
        int fresh = Allocate(now);
        r = StickRef.None;
        if (fresh < 0) return null;
        byte* n = Entry(fresh);
        *(ushort*)(n + EKeyLength) = (ushort)key.Length;
        key.CopyTo(new Span<byte>(n + EKey, Layout.KeyLength));
        ClearData(n);
        Touch(n, now);
        Lock(bucket);
        found = Search(bucket, key);   // another worker may have added it meanwhile
        if (found >= 0)
        {
            byte* e = Entry(found);
            Touch(e, now);
            r = new StickRef(found, *(int*)(e + ESerial));
            Unlock(bucket);
            Free(fresh);   // the free list's lock is never taken under a bucket's
            return Enter(r);
        }
        int serial = *(int*)(n + ESerial) + 1;
        *(int*)(n + ESerial) = serial;
        SetLinkedBucket(n, b);
        *(int*)(n + ENext) = bucket[1];
        bucket[1] = fresh + 1;   // linked last: a killed worker leaves the chain whole
        Interlocked.Increment(ref *(int*)(_base + HUsed));
        r = new StickRef(fresh, serial);
        return n;
    }

    /// <summary>The live, unexpired entry of <paramref name="key"/>, or <see cref="StickRef.None"/> (the `src_*` fetches do not create).</summary>
    public StickRef Find(ReadOnlySpan<byte> key, long now)
    {
        if (key.Length > Layout.KeyLength) key = key[..Layout.KeyLength];
        int* bucket = Bucket(BucketOf(key));
        Lock(bucket);
        int found = Search(bucket, key);
        var r = StickRef.None;
        if (found >= 0 && !Expired(Entry(found), now)) r = new StickRef(found, *(int*)(Entry(found) + ESerial));
        Unlock(bucket);
        return r;
    }

    /// <summary>
    /// Locks the bucket of <paramref name="r"/>'s entry and returns the entry, or null (nothing locked) when the entry
    /// was freed or reused since. Pair with <see cref="Release"/>; hold it for a few loads and stores only.
    /// </summary>
    public byte* Enter(StickRef r)
    {
        if ((uint)r.Index >= (uint)Layout.EntryCount) return null;
        byte* e = Entry(r.Index);
        int b = LinkedBucket(e);
        if (b < 0) return null;
        int* bucket = Bucket(b);
        Lock(bucket);
        if (LinkedBucket(e) == b && *(int*)(e + ESerial) == r.Serial) return e;
        Unlock(bucket);
        return null;
    }

    /// <summary>Unlocks what <see cref="Enter"/> locked.</summary>
    public void Release(byte* e) => Unlock(Bucket(LinkedBucket(e)));

    /// <summary>Renews the expiry of an entered entry (each tracked use, as HAProxy's stktable_touch).</summary>
    public void Renew(byte* e, long now) => Touch(e, now);

    // ---- allocation, eviction, purge --------------------------------------------------------------------------------

    /// <summary>A free entry (not linked), or -1: the free list, then never-used entries, then an expired or the least recently used one.</summary>
    private int Allocate(long now)
    {
        int* freeLock = (int*)(_base + HFreeLock);
        Lock(freeLock);
        int index = *(int*)(_base + HFreeHead) - 1;
        if (index >= 0)
            *(int*)(_base + HFreeHead) = *(int*)(Entry(index) + ENext);
        else if (*(int*)(_base + HNextUnused) < Layout.EntryCount)
            index = (*(int*)(_base + HNextUnused))++;
        Unlock(freeLock);
        if (index >= 0)
        {
            SetLinkedBucket(Entry(index), -1);
            return index;
        }
        for (int attempt = 0; attempt < 4; attempt++)
        {
            int victim = PickVictim(now);
            if (victim < 0) return -1;
            if (Unlink(victim, now, requireExpired: Config.NoPurge)) return victim;
        }
        return -1;
    }

    /// <summary>
    /// Sampled LRU (as Redis' approximated LRU): of 16 entries from a rotating cursor, an expired one or else the one
    /// used longest ago, skipping tracked ones (conn_cur above 0, as HAProxy skips entries with a ref_cnt). Reads
    /// without locks: <see cref="Unlink"/> checks again under the lock.
    /// </summary>
    private int PickVictim(long now)
    {
        const int Sample = 16;
        int start = Interlocked.Add(ref *(int*)(_base + HCursor), Sample) - Sample;
        int best = -1;
        long bestUse = long.MaxValue;
        for (int i = 0; i < Sample; i++)
        {
            int index = (int)((uint)(start + i) % (uint)Layout.EntryCount);
            byte* e = Entry(index);
            if (LinkedBucket(e) < 0 || ConnCur(e) > 0) continue;
            if (Expired(e, now)) return index;
            if (Config.NoPurge) continue;
            long use = Volatile.Read(ref *(long*)(e + ELastUse));
            if (use < bestUse) { bestUse = use; best = index; }
        }
        return best;
    }

    /// <summary>Takes entry <paramref name="index"/> out of its bucket's chain if it is still live and untracked (and expired, when asked).</summary>
    private bool Unlink(int index, long now, bool requireExpired)
    {
        byte* e = Entry(index);
        int b = LinkedBucket(e);
        if (b < 0) return false;
        int* bucket = Bucket(b);
        Lock(bucket);
        bool ok = LinkedBucket(e) == b && ConnCur(e) == 0 && (!requireExpired || Expired(e, now));
        if (ok)
        {
            int* link = bucket + 1;
            for (int guard = 0; *link != 0 && *link != index + 1 && guard < Layout.EntryCount; guard++)
                link = (int*)(Entry(*link - 1) + ENext);
            ok = *link == index + 1;
            if (ok)
            {
                *link = *(int*)(e + ENext);
                SetLinkedBucket(e, -1);
                Interlocked.Decrement(ref *(int*)(_base + HUsed));
            }
        }
        Unlock(bucket);
        return ok;
    }

    private void Free(int index)
    {
        byte* e = Entry(index);
        SetLinkedBucket(e, -1);
        int* freeLock = (int*)(_base + HFreeLock);
        Lock(freeLock);
        *(int*)(e + ENext) = *(int*)(_base + HFreeHead);
        *(int*)(_base + HFreeHead) = index + 1;
        Unlock(freeLock);
    }

    /// <summary>Frees every expired, untracked entry (the supervisor's purge thread, once a second; HAProxy's expire task). Returns how many.</summary>
    public int Purge(long now)
    {
        int freed = 0;
        int limit = Math.Min(Volatile.Read(ref *(int*)(_base + HNextUnused)), Layout.EntryCount);
        for (int i = 0; i < limit; i++)
        {
            byte* e = Entry(i);
            if (LinkedBucket(e) < 0 || !Expired(e, now)) continue;
            if (Unlink(i, now, requireExpired: true)) { Free(i); freed++; }
        }
        return freed;
    }

    /// <summary>`clear table NAME [key K]`: frees the entries (one key, or all) that nothing tracks; returns how many.</summary>
    public int Clear(ReadOnlySpan<byte> key, bool all, long now)
    {
        if (!all)
        {
            var r = Find(key, long.MinValue / 2);
            if (r.IsNone || !Unlink(r.Index, now, requireExpired: false)) return 0;
            Free(r.Index);
            return 1;
        }
        int freed = 0;
        int limit = Math.Min(Volatile.Read(ref *(int*)(_base + HNextUnused)), Layout.EntryCount);
        for (int i = 0; i < limit; i++)
            if (LinkedBucket(Entry(i)) >= 0 && Unlink(i, now, requireExpired: false)) { Free(i); freed++; }
        return freed;
    }

    /// <summary>
    /// The worker of board slot <paramref name="column"/> was reaped (it writes no more): its conn_cur cells go to 0 in
    /// every entry, so a killed worker's tracked connections do not stay counted.
    /// </summary>
    public void ZeroColumn(int column)
    {
        int off = Layout.OffsetOf(StickDataType.ConnCur);
        if (off < 0 || (uint)column >= (uint)Layout.Columns) return;
        int limit = Math.Min(Volatile.Read(ref *(int*)(_base + HNextUnused)), Layout.EntryCount);
        for (int i = 0; i < limit; i++)
        {
            byte* e = Entry(i);
            if (Volatile.Read(ref *((int*)(e + off) + column)) == 0) continue;
            int b = LinkedBucket(e);
            if (b < 0) { Volatile.Write(ref *((int*)(e + off) + column), 0); continue; }
            int* bucket = Bucket(b);
            Lock(bucket);
            *((int*)(e + off) + column) = 0;
            Unlock(bucket);
        }
    }

    /// <summary>The key of an entered entry.</summary>
    public ReadOnlySpan<byte> KeyOf(byte* e) => new(e + EKey, Math.Min((int)*(ushort*)(e + EKeyLength), Layout.KeyLength));

    /// <summary>Worker side: threads hold entry pointers until the process ends, so Dispose leaves it mapped.</summary>
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
