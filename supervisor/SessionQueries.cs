using System.Collections.Concurrent;
using Proxy.Shared.Control;

namespace Proxy.Supervisor;

/// <summary>
/// `show sess` (and `show errors`, and the `sync` barrier after a server change) across workers: the supervisor sends `show-sess ID` (`show-errors ID`) to each running worker of the current generation
/// and gathers the `sess ID LINE` answers until every one has sent `sess-end ID`, or a short deadline passes (a worker
/// that does not answer in time is left out rather than holding the command).
/// </summary>
public sealed class SessionQueries
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<int, Query> _open = new();
    private int _nextId;

    private sealed class Query(int workers)
    {
        public readonly ConcurrentQueue<string> Lines = new();
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _left = workers;

        public void EndOfOne()
        {
            if (Interlocked.Decrement(ref _left) <= 0) Done.TrySetResult();
        }
    }

    /// <summary>Asks <paramref name="workers"/> for their sessions (or <paramref name="request"/>); their lines, in the order they came.</summary>
    public async Task<List<string>> AskAsync(IReadOnlyList<WorkerProcess> workers, string request = WorkerMessages.ShowSess)
    {
        int id = Interlocked.Increment(ref _nextId);
        var query = new Query(workers.Count);
        if (workers.Count == 0) return [];
        _open[id] = query;
        try
        {
            foreach (var w in workers) await w.SendAsync($"{request} {id}");
            await Task.WhenAny(query.Done.Task, Task.Delay(Deadline));
        }
        finally
        {
            _open.TryRemove(id, out _);
        }
        return [.. query.Lines];
    }

    /// <summary>A worker's `sess ID LINE` or `sess-end ID`; false when <paramref name="line"/> is neither.</summary>
    public bool OnMessage(string line)
    {
        if (line.StartsWith(WorkerMessages.SessEnd + " ", StringComparison.Ordinal))
        {
            if (int.TryParse(line.AsSpan(WorkerMessages.SessEnd.Length + 1), out int endId) && _open.TryGetValue(endId, out var ended))
                ended.EndOfOne();
            return true;
        }
        if (!line.StartsWith(WorkerMessages.Sess + " ", StringComparison.Ordinal)) return false;
        int start = WorkerMessages.Sess.Length + 1, space = line.IndexOf(' ', start);
        if (space > start && int.TryParse(line.AsSpan(start, space - start), out int id) && _open.TryGetValue(id, out var query))
            query.Lines.Enqueue(line[(space + 1)..]);
        return true;
    }
}
