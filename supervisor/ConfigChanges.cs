using Proxy.Shared.Config;

namespace Proxy.Supervisor;

/// <summary>Lists what a reload adds and removes: listeners, backends, servers (matched by name, as the stats board is).</summary>
public static class ConfigChanges
{
    public static List<string> Describe(ProxyConfig before, ProxyConfig after)
    {
        var changes = new List<string>();
        Compare("listener", Binds(before), Binds(after), changes);
        Compare("frontend", Names(before.Frontends.Select(f => f.Name)), Names(after.Frontends.Select(f => f.Name)), changes);
        Compare("backend", Names(before.Backends.Select(b => b.Name)), Names(after.Backends.Select(b => b.Name)), changes);
        Compare("server", Servers(before), Servers(after), changes);
        return changes;
    }

    private static SortedSet<string> Names(IEnumerable<string> names) => new(names, StringComparer.Ordinal);

    private static SortedSet<string> Binds(ProxyConfig c) =>
        Names(c.Frontends.SelectMany(f => f.Binds.Select(b => $"{f.Name} {b.Key}")));

    private static SortedSet<string> Servers(ProxyConfig c) =>
        Names(c.Backends.SelectMany(b => b.Servers.Select(s => $"{b.Name}/{s.Name}")));

    private static void Compare(string kind, SortedSet<string> before, SortedSet<string> after, List<string> changes)
    {
        foreach (var name in after) if (!before.Contains(name)) changes.Add($"added {kind} {name}");
        foreach (var name in before) if (!after.Contains(name)) changes.Add($"removed {kind} {name}");
    }
}
