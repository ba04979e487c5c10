using Proxy.Shared.Config;
using Proxy.Shared.Tables;
using Proxy.Shared.Threading;

namespace Proxy.Supervisor;

/// <summary>
/// The instance's stick tables (shared/Tables): the supervisor creates each file beside the stats board from the
/// config, keeps it over a reload whose definition is unchanged (type, len, size, board slots, store list), frees
/// expired entries once a second (HAProxy's expire task) on a thread of its own, started once some table has `expire`,
/// and gives back the conn_cur cells of every worker it reaps, in current and replaced files alike. `show table` and
/// `clear table` read and change the mapping here. Called under the supervisor's lock, except the purge, which only
/// touches the files: it may wait on a bucket lock that a stopped worker holds, so it never shares the watchdog's thread.
/// </summary>
internal sealed class StickTableStore : IDisposable
{
    private Dictionary<string, StickTableFile> _current = new(StringComparer.Ordinal);
    private readonly List<StickTableFile> _replaced = [];   // files a reload replaced: old workers may still count in them
    private static readonly NLog.Logger Log = NLog.LogManager.GetLogger("supervisor");
    private TickThread? _purge;   // under the lock of _replaced; null until a table has `expire`

    /// <summary>Maps (or creates) the tables of <paramref name="config"/>; a table whose definition is unchanged keeps its entries.</summary>
    public void Apply(ProxyConfig config, string boardPath, int columns, bool starting = false)
    {
        var next = new Dictionary<string, StickTableFile>(StringComparer.Ordinal);
        lock (_replaced)
        {
            foreach (var t in config.Tables)
            {
                string path = StickTableFile.PathFor(boardPath, t.Name);
                var layout = new StickTableLayout(t, columns);
                if (_current.Remove(t.Name, out var kept) && kept.Path == path && kept.Layout.Definition == layout.Definition)
                {
                    kept.UseConfig(t);
                    next[t.Name] = kept;
                    continue;
                }
                if (kept is not null) _replaced.Add(kept);
                var file = StickTableFile.OpenOrCreate(path, t, columns, out bool carried);
                // A previous run's workers are all gone: none of their conn_cur cells may stay counted.
                if (carried && starting) for (int c = 0; c < columns; c++) file.ZeroColumn(c);
                Log.Info($"stick table '{t.Name}': {(carried ? "kept" : "created")} {file.Layout.EntryCount} entries of {file.Layout.EntrySize} bytes at {path}");
                next[t.Name] = file;
            }
            foreach (var gone in _current.Values)
            {
                _replaced.Add(gone);
                if (!next.Values.Any(f => f.Path == gone.Path)) TryDelete(gone.Path);
            }
            _current = next;
            if (_purge is null && next.Values.Any(f => f.Config.ExpireMs > 0))
                _purge = new TickThread("table-purge", TimeSpan.FromSeconds(1), Purge);
        }
    }

    public StickTableFile? Find(string name)
    {
        lock (_replaced) return _current.GetValueOrDefault(name);
    }

    /// <summary>The tables in configuration order (as `show table` lists them).</summary>
    public IReadOnlyList<StickTableFile> All(ProxyConfig config)
    {
        var list = new List<StickTableFile>();
        lock (_replaced)
            foreach (var t in config.Tables)
                if (_current.TryGetValue(t.Name, out var f)) list.Add(f);
        return list;
    }

    /// <summary>The worker of board slot <paramref name="boardSlot"/> was reaped: its conn_cur cells go back to 0 everywhere.</summary>
    public void WorkerReaped(int boardSlot)
    {
        lock (_replaced)
        {
            foreach (var f in _current.Values) f.ZeroColumn(boardSlot);
            foreach (var f in _replaced) f.ZeroColumn(boardSlot);
        }
    }

    /// <summary>Stops the purge's thread; completes once a purge in progress has ended (before <see cref="Dispose"/>).</summary>
    public ValueTask StopPurgeAsync()
    {
        TickThread? purge;
        lock (_replaced) purge = _purge;
        return purge?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    private void Purge()
    {
        long now = Environment.TickCount64;
        lock (_replaced)
            foreach (var f in _current.Values)
                if (f.Config.ExpireMs > 0) f.Purge(now);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // left behind: the next table of that name replaces it
        }
    }

    public void Dispose()
    {
        lock (_replaced)
        {
            foreach (var f in _current.Values) f.Dispose();
            foreach (var f in _replaced) f.Dispose();
            _current.Clear();
            _replaced.Clear();
        }
    }
}
