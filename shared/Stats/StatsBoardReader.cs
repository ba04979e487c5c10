namespace Proxy.Shared.Stats;

/// <summary>
/// Reads a stats board with nothing but its path: `proxyctl stats` and the control socket use it,
/// and it works while the supervisor is busy. It maps the file read-only and never writes, so it
/// cannot disturb a worker. After a reload renames a new board over the path, this reader keeps
/// showing the old file: open a new reader (or use <see cref="ReadSnapshot(string)"/>) per command.
/// </summary>
public sealed class StatsBoardReader : IDisposable
{
    private readonly BoardMapping _map;
    private readonly StatObjectDescriptor[] _objects;

    private StatsBoardReader(BoardMapping map)
    {
        _map = map;
        _objects = new StatObjectDescriptor[map.Layout.ObjectCount];
        for (int i = 0; i < _objects.Length; i++) _objects[i] = map.ReadObject(i);
    }

    /// <summary>Maps the board at <paramref name="path"/> read-only; throws InvalidDataException for a file that is not one.</summary>
    public static StatsBoardReader Open(string path)
    {
        var map = BoardMapping.Open(path, writable: false);
        try
        {
            return new StatsBoardReader(map);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>Opens, reads one snapshot and closes.</summary>
    public static StatsSnapshot ReadSnapshot(string path)
    {
        using var reader = Open(path);
        return reader.ReadSnapshot();
    }

    public string Path => _map.Path;

    public IReadOnlyList<StatObjectDescriptor> Objects => _objects;

    /// <summary>A consistent, aggregated copy of the board now.</summary>
    public StatsSnapshot ReadSnapshot() => BoardSnapshotReader.Read(_map, _objects);

    public void Dispose() => _map.Dispose();
}
