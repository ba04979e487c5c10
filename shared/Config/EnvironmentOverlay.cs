namespace Proxy.Shared.Config;

/// <summary>
/// The variables that `"${NAME}"` expands to while a file is read: the process environment, changed line by line by the
/// global keywords `setenv NAME VALUE`, `presetenv NAME VALUE` (only when NAME is not set), `unsetenv NAME...` and
/// `resetenv [NAME...]` (keep only those), doc/configuration.txt 3.1. HAProxy changes its own environment as it reads
/// each of these lines; here the changes apply to the expansion of the lines below and the process environment is
/// left alone (parsing has no side effect, so `proxyctl check` and a reload read the same file the same way).
/// </summary>
internal sealed class EnvironmentOverlay(Func<string, string?> baseEnv)
{
    private readonly Dictionary<string, string?> _changes = new(StringComparer.Ordinal);
    private HashSet<string>? _kept;                     // after `resetenv`: the names still visible from the base

    public string? Get(string name)
    {
        if (_changes.TryGetValue(name, out var changed)) return changed;
        if (_kept is not null && !_kept.Contains(name)) return null;
        return baseEnv(name);
    }

    /// <summary>Applies <paramref name="line"/> when it is one of the four keywords (its arguments checked by the global parser).</summary>
    public void Apply(ConfigLine line)
    {
        var w = line.Words;
        switch (line.Keyword)
        {
            case "setenv" when w.Count == 3:
                _changes[w[1]] = w[2];
                break;
            case "presetenv" when w.Count == 3:
                if (Get(w[1]) is null) _changes[w[1]] = w[2];
                break;
            case "unsetenv":
                for (int i = 1; i < w.Count; i++) _changes[w[i]] = null;
                break;
            case "resetenv":
                var keep = new HashSet<string>(w.Skip(1), StringComparer.Ordinal);
                foreach (var name in _changes.Keys.Where(k => !keep.Contains(k)).ToList()) _changes[name] = null;
                _kept = _kept is null ? keep : [.. _kept.Where(keep.Contains)];
                break;
        }
    }
}
