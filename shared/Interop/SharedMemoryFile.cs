using System.IO.MemoryMappedFiles;

namespace Proxy.Shared.Interop;

/// <summary>
/// The files the supervisor shares with its workers by mapping them (the maxconn counts, the stick tables): created
/// under a name nobody can guess with O_EXCL and mode 0600, their header written, then renamed into place, so a
/// reader never maps a half-made file and a local user cannot plant the file or a link to another one before root
/// opens it (the directory may be /tmp). Opening maps a file its caller has checked the header of.
/// </summary>
public static class SharedMemoryFile
{
    /// <summary>
    /// Creates <paramref name="path"/> of <paramref name="size"/> bytes (sparse), maps it through
    /// <paramref name="wrap"/>, lets <paramref name="writeHeader"/> fill it, then moves it into place.
    /// </summary>
    public static T Create<T>(string path, long size, Func<MemoryMappedFile, MemoryMappedViewAccessor, T> wrap, Action<T> writeHeader)
    {
        string temp = $"{path}.new.{Environment.ProcessId}.{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}";
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite | FileShare.Delete,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        var fs = new FileStream(temp, options);
        try
        {
            fs.SetLength(size);
            var created = Map(fs, size, wrap);
            writeHeader(created);
            File.Move(temp, path, overwrite: true);
            return created;
        }
        catch
        {
            fs.Dispose();
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> read-write; <paramref name="checkAndMap"/> reads and checks its header (throwing
    /// InvalidDataException when it is not the file expected) and maps it with <see cref="Map"/>.
    /// </summary>
    public static T Open<T>(string path, Func<FileStream, T> checkAndMap)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            return checkAndMap(fs);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>Maps the first <paramref name="size"/> bytes of <paramref name="fs"/> read-write (the map owns the stream).</summary>
    public static T Map<T>(FileStream fs, long size, Func<MemoryMappedFile, MemoryMappedViewAccessor, T> wrap)
    {
        var file = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        var view = file.CreateViewAccessor(0, size, MemoryMappedFileAccess.ReadWrite);
        return wrap(file, view);
    }
}
