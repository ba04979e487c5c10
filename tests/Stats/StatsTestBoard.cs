using Proxy.Shared.Stats;

namespace Proxy.Tests.Stats;

/// <summary>A temporary directory and a small object list shared by the stats tests.</summary>
internal sealed class StatsTestBoard : IDisposable
{
    public static readonly StatObjectDescriptor[] Objects =
    [
        StatObjectDescriptor.Frontend("www"),
        StatObjectDescriptor.Listener("www", "0.0.0.0:80"),
        StatObjectDescriptor.Backend("app"),
        StatObjectDescriptor.Server("app", "web1"),
        StatObjectDescriptor.Server("app", "web2"),
    ];

    public string Directory { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "stats-" + Guid.NewGuid().ToString("N"));

    public StatsTestBoard() => System.IO.Directory.CreateDirectory(Directory);

    public string Path => System.IO.Path.Combine(Directory, "board.stats");

    public StatsBoard Create(int slots = 4, IReadOnlyList<StatObjectDescriptor>? objects = null) =>
        StatsBoard.Create(Path, objects ?? Objects, slots);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
