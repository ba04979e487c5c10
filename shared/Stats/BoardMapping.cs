using System.IO.MemoryMappedFiles;
using System.Text;

namespace Proxy.Shared.Stats;

/// <summary>
/// A mapped board file and the raw, pointer-level access to its areas. Both the writer side
/// (<see cref="StatsBoard"/>) and the reader side (<see cref="StatsBoardReader"/>) sit on it.
/// Every 64-bit value goes through Volatile so that no access is torn or reordered.
/// </summary>
internal sealed unsafe class BoardMapping : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;

    public BoardLayout Layout { get; }
    public string Path { get; }
    public bool Writable { get; }

    private BoardMapping(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, BoardLayout layout, bool writable)
    {
        Path = path;
        _file = file;
        _view = view;
        Layout = layout;
        Writable = writable;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + view.PointerOffset;
    }

    /// <summary>
    /// Creates a new board file beside <paramref name="path"/> (mode 0640) and maps it read-write; the
    /// caller writes the header and objects, then <see cref="Publish"/> renames it over <paramref name="path"/>.
    /// A fresh inode, never a truncated one: processes still mapping the old file keep valid memory
    /// (truncating a mapped file makes their next access SIGBUS) and simply finish with it.
    /// </summary>
    public static BoardMapping Create(string path, BoardLayout layout)
    {
        // The directory may be /tmp: a name nobody can guess, created with O_EXCL (FileMode.CreateNew, which also
        // refuses a symlink), so a local user cannot plant the file or a link to another one before root opens it.
        string tempPath = $"{path}.new.{Environment.ProcessId}.{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}";
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
        };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        var fs = new FileStream(tempPath, options);
        try
        {
            // A sparse, zero-filled file: every slot starts Free and every value at 0.
            fs.SetLength(layout.FileSize);
            var file = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            var view = file.CreateViewAccessor(0, layout.FileSize, MemoryMappedFileAccess.ReadWrite);
            return new BoardMapping(path, file, view, layout, writable: true) { _tempPath = tempPath };
        }
        catch
        {
            fs.Dispose();
            File.Delete(tempPath);
            throw;
        }
    }

    private string? _tempPath;

    /// <summary>Atomically puts a created board at its path (rename(2)); readers opening the path from now on see it.</summary>
    public void Publish()
    {
        if (_tempPath is null) return;
        File.Move(_tempPath, Path, overwrite: true);
        _tempPath = null;
    }

    /// <summary>Maps an existing board, checking its header; read-only for readers, read-write for workers.</summary>
    public static BoardMapping Open(string path, bool writable)
    {
        var fs = new FileStream(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read,
            FileShare.ReadWrite | FileShare.Delete);
        try
        {
            var layout = ReadLayout(fs, path);
            var access = writable ? MemoryMappedFileAccess.ReadWrite : MemoryMappedFileAccess.Read;
            var file = MemoryMappedFile.CreateFromFile(fs, null, 0, access, HandleInheritability.None, leaveOpen: false);
            var view = file.CreateViewAccessor(0, layout.FileSize, access);
            return new BoardMapping(path, file, view, layout, writable);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    // Reads and validates the header with plain file reads before mapping, so a foreign or
    // truncated file is refused with a message rather than an access violation.
    private static BoardLayout ReadLayout(FileStream fs, string path)
    {
        Span<byte> h = stackalloc byte[BoardLayout.HeaderSize];
        if (fs.Length < BoardLayout.HeaderSize || fs.ReadAtLeast(h, h.Length, throwOnEndOfStream: false) < h.Length)
            throw new InvalidDataException($"{path}: too short to be a stats board");
        if (BitConverter.ToUInt64(h[BoardLayout.HMagic..]) != BoardLayout.Magic)
            throw new InvalidDataException($"{path}: not a stats board (bad magic)");
        int version = BitConverter.ToInt32(h[BoardLayout.HVersion..]);
        if (version != BoardLayout.Version)
            throw new InvalidDataException($"{path}: stats board version {version}, expected {BoardLayout.Version}");
        var layout = new BoardLayout(
            BitConverter.ToInt32(h[BoardLayout.HObjectCount..]), BitConverter.ToInt32(h[BoardLayout.HSlotCount..]),
            BitConverter.ToInt32(h[BoardLayout.HFieldCount..]), BitConverter.ToInt32(h[BoardLayout.HInfoCount..]));
        if (layout.FieldCount != StatFields.Count || layout.InfoCount != StatFields.InfoCount
            || layout.ObjectCount < 0 || layout.SlotCount < 1
            || BitConverter.ToInt64(h[BoardLayout.HFileSize..]) != layout.FileSize || fs.Length < layout.FileSize)
            throw new InvalidDataException($"{path}: stats board header does not match its size");
        return layout;
    }

    /// <summary>The 64-bit header word at <paramref name="offset"/>.</summary>
    public ref long HeaderWord(int offset) => ref *(long*)(_base + offset);

    /// <summary>The 64-bit identity word at <paramref name="offset"/> of slot <paramref name="slot"/>.</summary>
    public ref long SlotWord(int slot, int offset) => ref *(long*)(_base + Layout.SlotOffset(slot) + offset);

    /// <summary>The first value of a slot's value array (info fields, then objects' fields).</summary>
    public long* SlotValues(int slot) => (long*)(_base + Layout.SlotOffset(slot) + BoardLayout.SlotIdentitySize);

    /// <summary>The first value of the retired totals array (same shape as a slot's).</summary>
    public long* RetiredValues => (long*)(_base + Layout.RetiredOffset);

    public void WriteHeader(long generation, long createdMs, long supervisorPid)
    {
        *(ulong*)(_base + BoardLayout.HMagic) = BoardLayout.Magic;
        *(int*)(_base + BoardLayout.HVersion) = BoardLayout.Version;
        *(int*)(_base + BoardLayout.HHeaderSize) = BoardLayout.HeaderSize;
        *(int*)(_base + BoardLayout.HObjectCount) = Layout.ObjectCount;
        *(int*)(_base + BoardLayout.HSlotCount) = Layout.SlotCount;
        *(int*)(_base + BoardLayout.HFieldCount) = Layout.FieldCount;
        *(int*)(_base + BoardLayout.HInfoCount) = Layout.InfoCount;
        *(int*)(_base + BoardLayout.HObjectEntrySize) = BoardLayout.ObjectEntrySize;
        *(long*)(_base + BoardLayout.HObjectTable) = Layout.ObjectTableOffset;
        *(long*)(_base + BoardLayout.HRetired) = Layout.RetiredOffset;
        *(long*)(_base + BoardLayout.HSlots) = Layout.SlotsOffset;
        *(long*)(_base + BoardLayout.HSlotSize) = Layout.SlotSize;
        *(long*)(_base + BoardLayout.HFileSize) = Layout.FileSize;
        *(long*)(_base + BoardLayout.HGeneration) = generation;
        *(long*)(_base + BoardLayout.HCreatedMs) = createdMs;
        *(long*)(_base + BoardLayout.HSupervisorPid) = supervisorPid;
        for (int k = 0; k < Layout.SlotCount; k++)
            *(long*)(_base + Layout.SlotOffset(k) + BoardLayout.SSlot) = k;
    }

    public void WriteObject(int index, StatObjectDescriptor obj)
    {
        byte* e = _base + Layout.ObjectTableOffset + (long)index * BoardLayout.ObjectEntrySize;
        var names = new Span<byte>(e + 8, BoardLayout.ObjectNameBytes);
        int px = Encoding.UTF8.GetBytes(obj.ProxyName, names);
        int sv = Encoding.UTF8.GetBytes(obj.ServiceName, names[px..]);
        *(ushort*)e = (ushort)obj.Kind;
        *(ushort*)(e + 2) = (ushort)obj.Mode;
        *(ushort*)(e + 4) = (ushort)px;
        *(ushort*)(e + 6) = (ushort)sv;
    }

    public StatObjectDescriptor ReadObject(int index)
    {
        byte* e = _base + Layout.ObjectTableOffset + (long)index * BoardLayout.ObjectEntrySize;
        int px = Math.Min((int)*(ushort*)(e + 4), BoardLayout.ObjectNameBytes);
        int sv = Math.Min((int)*(ushort*)(e + 6), BoardLayout.ObjectNameBytes - px);
        var names = new ReadOnlySpan<byte>(e + 8, BoardLayout.ObjectNameBytes);
        return new StatObjectDescriptor((StatObjectKind)(*(ushort*)e),
            Encoding.UTF8.GetString(names[..px]), Encoding.UTF8.GetString(names.Slice(px, sv))) { Mode = (StatProxyMode)(*(ushort*)(e + 2)) };
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        if (_tempPath is not null) File.Delete(_tempPath); // created but never published
    }
}
