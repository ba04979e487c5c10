namespace Proxy.Shared.Config;

/// <summary>Whole-file checks of stick tables: every table a rule names exists (4.2 "track-sc0": "table ... must exist").</summary>
internal static class StickTableChecks
{
    /// <summary>Reports each reference to a missing table; returns the tables, in configuration order.</summary>
    public static IReadOnlyList<StickTableConfig> Check(ConfigDiagnostics diag, IReadOnlyList<ProxyDraft> proxies)
    {
        var tables = new Dictionary<string, StickTableConfig>(StringComparer.Ordinal);
        var list = new List<StickTableConfig>();
        foreach (var p in proxies)
        {
            if (p.StickTable is not { } t || !tables.TryAdd(t.Name, t)) continue;
            list.Add(t);
        }
        foreach (var p in proxies)
            foreach (var (table, at, what) in p.TableReferences)
                if (!tables.ContainsKey(table))
                    diag.Error(at, $"'{what}': no stick table named {ConfigDiagnostics.Quote(table)} (a 'stick-table' line in the proxy of that name)");
        return list;
    }
}
