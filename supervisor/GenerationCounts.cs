using Proxy.Shared.Config;
using Proxy.Shared.Limits;

namespace Proxy.Supervisor;

/// <summary>
/// The `maxconn` counts files (Proxy.Shared.Limits.SharedCounts), one per generation, beside the stats board
/// (`BOARD.counts.G`), each sized from its generation's config and worker slots; the worker of slot k counts in
/// row k. A reaped worker's row is zeroed here, so a crash gives its reservations back before the slot is
/// respawned. Files are tracked per worker process, not per generation number: a worker of a failed reload reaped
/// after the next attempt created its generation's file again cannot zero a row of the new file. A file goes
/// once no worker uses it and its generation is not the current one. A reload's two generations count apart, as
/// HAProxy's old and new processes do. Supervisor bookkeeping: called under the supervisor's lock only.
/// </summary>
internal sealed class GenerationCounts : IDisposable
{
    private readonly Dictionary<int, SharedCounts> _byGeneration = [];   // the file new workers of a generation get
    private readonly Dictionary<int, (SharedCounts Counts, int Generation)> _byPid = [];   // the file each live worker uses

    /// <summary>Creates the file of <paramref name="generation"/>, replacing one a failed reload left.</summary>
    public void Create(string boardPath, int generation, ProxyConfig config, int workerSlots)
    {
        if (_byGeneration.Remove(generation, out var stale) && !InUse(stale)) Delete(stale, removePath: false);   // the new file takes the path
        _byGeneration.Add(generation, SharedCounts.Create($"{boardPath}.counts.{generation}", config, workerSlots));
    }

    /// <summary>The file of <paramref name="generation"/>, null when none was created.</summary>
    public string? PathOf(int generation) => _byGeneration.TryGetValue(generation, out var c) ? c.Path : null;

    /// <summary>Worker <paramref name="pid"/> of <paramref name="generation"/> was spawned with <see cref="PathOf"/>.</summary>
    public void Attach(int pid, int generation)
    {
        if (_byGeneration.TryGetValue(generation, out var c)) _byPid[pid] = (c, generation);
    }

    /// <summary>
    /// Worker <paramref name="pid"/> of slot <paramref name="slot"/> was reaped (waitpid: it writes no more): its
    /// reservations go back; its file goes when nobody else uses it and it is not <paramref name="currentGeneration"/>'s.
    /// </summary>
    public void Retire(int pid, int slot, int currentGeneration)
    {
        if (!_byPid.Remove(pid, out var used)) return;
        var (counts, generation) = used;
        if (slot < counts.RowCount) counts.ZeroRow(slot);
        if (InUse(counts) || (generation == currentGeneration && _byGeneration.GetValueOrDefault(generation) == counts)) return;
        if (_byGeneration.GetValueOrDefault(generation) == counts) _byGeneration.Remove(generation);
        // A failed reload's file may have been replaced at the same path by the next attempt: that one keeps the path.
        bool pathTaken = false;
        foreach (var c in _byGeneration.Values) pathTaken |= c.Path == counts.Path;
        Delete(counts, removePath: !pathTaken);
    }

    public void Dispose()
    {
        var all = new HashSet<SharedCounts>(_byGeneration.Values);
        foreach (var (counts, _) in _byPid.Values) all.Add(counts);
        foreach (var counts in all) Delete(counts, removePath: true);
        _byGeneration.Clear();
        _byPid.Clear();
    }

    private bool InUse(SharedCounts counts)
    {
        foreach (var (c, _) in _byPid.Values) if (c == counts) return true;
        return false;
    }

    /// <summary>Unmaps <paramref name="counts"/> here and removes its path; a worker still mapping the file (being killed) keeps valid memory.</summary>
    private static void Delete(SharedCounts counts, bool removePath)
    {
        counts.Dispose();
        if (!removePath) return;
        try
        {
            File.Delete(counts.Path);
        }
        catch (IOException)
        {
            // left behind: the next generation with this number replaces it
        }
    }
}
