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
        // A table a `stick` rule uses stores server_id and server_key whatever its `store` says (HAProxy's
        // check_config_validity allocates both), in HAProxy's order of data types.
        for (int i = 0; i < list.Count; i++)
        {
            var t = list[i];
            if (!UsedByStickRule(proxies, t.Name)) continue;
            var store = new List<Tables.StickDataSpec>(t.Store);
            foreach (var type in (ReadOnlySpan<Tables.StickDataType>)[Tables.StickDataType.ServerId, Tables.StickDataType.ServerKey])
                if (t.Find(type) is null) store.Add(new Tables.StickDataSpec(type));
            store.Sort((a, b) => a.Type.CompareTo(b.Type));
            list[i] = t with { Store = store.ToArray() };
        }
        return list;
    }

    private static bool UsedByStickRule(IReadOnlyList<ProxyDraft> proxies, string table)
    {
        foreach (var p in proxies)
            foreach (var rule in p.StickRules)
                if (rule.Table == table) return true;
        return false;
    }
}
