namespace Proxy.Shared.Stats;

// The board file, every value little-endian and 8-byte aligned so that a plain 64-bit load or
// store is atomic (no torn reads); areas start on 64-byte cache lines so that two workers never
// write the same line (no false sharing between slots).
//
//   [header, 256 B]
//   [object table: objectCount x 256 B entries: u16 kind, u16 mode, u16 pxLen, u16 svLen, UTF-8 px then sv]
//   [retired area: objectCount x fieldCount i64, then infoCount i64]  totals of gone workers
//   [slot 0][slot 1]...[slot slotCount-1]
//
// Slot: [identity, 64 B: state, pid, slot, generation, cpu, startedMs, heartbeatMs, reserved]
//       [infoCount i64][objectCount x fieldCount i64], rounded up to 64 B.

/// <summary>Offsets of every area of a board file, computed from its sizes; the reader recomputes them from the header.</summary>
internal readonly record struct BoardLayout(int ObjectCount, int SlotCount, int FieldCount, int InfoCount)
{
    public const ulong Magic = 0x3144524F42585250; // "PRXBORD1" read as little-endian bytes
    public const int Version = 7;   // 2: health-check fields (hanafail, check_*); 3: workers count in place, timer sums, StatSchema order, object mode; 4: comp_* and CompressBps*; 5: ssl_* and SslRate; 6: dresp; 7: ssl_reused_sess, SslFrontendKeyRate
    public const int HeaderSize = 256;
    public const int ObjectEntrySize = 256;
    public const int ObjectNameBytes = ObjectEntrySize - 8;
    public const int SlotIdentitySize = 64;

    // Header offsets.
    public const int HMagic = 0, HVersion = 8, HHeaderSize = 12, HObjectCount = 16, HSlotCount = 20,
        HFieldCount = 24, HInfoCount = 28, HObjectEntrySize = 32, HObjectTable = 40, HRetired = 48,
        HSlots = 56, HSlotSize = 64, HFileSize = 72, HGeneration = 80, HCreatedMs = 88, HSupervisorPid = 96,
        HRetiredValueGeneration = 104;

    /// <summary>
    /// The fold sequence (a seqlock): odd while the supervisor changes which slots count
    /// (claim, retire); readers retry a copy that saw it odd or changed. Alone on its cache line.
    /// </summary>
    public const int HFoldSeq = 128;

    // Slot identity offsets.
    public const int SState = 0, SPid = 8, SSlot = 16, SGeneration = 24, SCpu = 32, SStartedMs = 40, SHeartbeatMs = 48;

    public long ObjectTableOffset => HeaderSize;

    public long RetiredOffset => ObjectTableOffset + Align((long)ObjectCount * ObjectEntrySize);

    /// <summary>Values per slot (and in the retired area): the info fields, then every object's fields.</summary>
    public int ValueCount => InfoCount + ObjectCount * FieldCount;

    public long SlotsOffset => RetiredOffset + Align((long)ValueCount * 8);

    public long SlotSize => Align(SlotIdentitySize + (long)ValueCount * 8);

    public long FileSize => SlotsOffset + SlotSize * SlotCount;

    public long SlotOffset(int slot) => SlotsOffset + SlotSize * slot;

    /// <summary>Index of a value inside a slot's (or the retired area's) value array.</summary>
    public int ValueIndex(int objectIndex, int field) => InfoCount + objectIndex * FieldCount + field;

    private static long Align(long n) => (n + 63) & ~63L;
}
