using Proxy.Shared.Config;
using Proxy.Shared.Tables;

namespace Proxy.Worker.Tables;

/// <summary>
/// The stick tables this worker maps (Proxy.Shared.Tables), by name, and the conn_cur column it counts in (its board
/// slot, unique among live workers of every generation). Opened once by WorkerHost before the engine is built; an
/// engine built alone (tests) has none, and its tracking and table fetches then do nothing and yield no sample.
/// </summary>
internal static class StickTables
{
    private static Dictionary<string, StickTableFile> _tables = new(StringComparer.Ordinal);

    /// <summary>This worker's conn_cur cell in every entry.</summary>
    public static int Column { get; private set; }

    /// <summary>Maps the table files the supervisor created beside the board at <paramref name="boardPath"/>.</summary>
    public static void Open(ProxyConfig config, string boardPath, int column, NLog.ILogger log)
    {
        var tables = new Dictionary<string, StickTableFile>(StringComparer.Ordinal);
        foreach (var t in config.Tables)
        {
            try
            {
                var file = StickTableFile.Open(StickTableFile.PathFor(boardPath, t.Name), t);
                file.KeepMappedUntilExit();   // sessions hold entry pointers while they run
                tables[t.Name] = file;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                log.Error($"stick table '{t.Name}' not mapped: {e.Message}");
            }
        }
        Column = column;
        _tables = tables;
    }

    /// <summary>For tests: the tables an engine built in this process uses.</summary>
    internal static void Use(IEnumerable<StickTableFile> tables, int column)
    {
        var d = new Dictionary<string, StickTableFile>(StringComparer.Ordinal);
        foreach (var t in tables) d[t.Config.Name] = t;
        Column = column;
        _tables = d;
    }

    public static StickTableFile? Find(string? name) => name is not null && _tables.TryGetValue(name, out var t) ? t : null;

    /// <summary>The table of the proxy whose name is <paramref name="nameBytes"/>, through <paramref name="cache"/> (no allocation once cached).</summary>
    public static StickTableFile? FindByName(ReadOnlySpan<byte> nameBytes, ref NameCache? cache)
    {
        var c = Volatile.Read(ref cache);
        if (c is not null && nameBytes.SequenceEqual(c.Name)) return c.Table;
        var name = System.Text.Encoding.UTF8.GetString(nameBytes);
        Volatile.Write(ref cache, new NameCache(nameBytes.ToArray(), Find(name)));
        return Find(name);
    }

    /// <summary>A proxy name and its table, as last resolved by one fetch.</summary>
    internal sealed record NameCache(byte[] Name, StickTableFile? Table);
}
