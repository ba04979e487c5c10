namespace Proxy.Shared.Config;

/// <summary>
/// `cpu-map [auto:]PROCESS-SET CPU-SET...` (doc/configuration.txt 3.1 "cpu-map"):
/// - `cpu-map 1 0`: process 1 on CPU 0;
/// - `cpu-map 1-2 0-1`: processes 1 and 2 each allowed on CPUs 0 and 1;
/// - `cpu-map auto:1-4 0-3`: process 1 on CPU 0, 2 on 1, and so on; both sets must have the same size.
/// Process numbers start at 1, CPU numbers at 0; `all` means every process. `odd`/`even` and open CPU ranges (`0-`)
/// are not supported yet.
/// HAProxy 2.x's thread form `PROCESS/THREAD-SET` (`cpu-map auto:1/1-4 0-3`, `cpu-map 1/2 1`): HAProxy 2.6 has one
/// process whose threads are numbered from 1; here each of those threads is a worker (`nbthread N` = N workers), so
/// the thread set is read as the worker set. The process part must be 1 or `all` (2.6 has no other process).
/// </summary>
internal static class CpuMapParser
{
    private const string Usage = "cpu-map [auto:]PROCESS[-PROCESS] CPU[-CPU]...";

    /// <summary>Parses one line; returns null after reporting.</summary>
    public static CpuMapEntry? Parse(ConfigDiagnostics diag, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        if (w.Count < 3)
        {
            diag.Error(n, $"'cpu-map': missing argument, expected '{Usage}'");
            return null;
        }
        var processSet = w[1];
        bool auto = processSet.StartsWith("auto:", StringComparison.Ordinal);
        if (auto) processSet = processSet["auto:".Length..];
        int slash = processSet.IndexOf('/');
        if (slash >= 0)
        {
            if (processSet[..slash] is not ("1" or "all"))
            {
                diag.Error(n, $"'cpu-map': in 'PROCESS/THREAD' the process must be 1 or all (HAProxy 2.6 runs one process), got {ConfigDiagnostics.Quote(w[1])}");
                return null;
            }
            processSet = processSet[(slash + 1)..];
        }
        int first, last;
        if (processSet == "all")
        {
            (first, last) = (1, GlobalSectionParser.MaxProcesses);
        }
        else if (processSet is "odd" or "even")
        {
            diag.Error(n, $"'cpu-map': '{processSet}' process sets are not supported yet");
            return null;
        }
        else if (!TryRange(processSet, 1, GlobalSectionParser.MaxProcesses, openEnded: true, out first, out last))
        {
            diag.Error(n, $"'cpu-map': expected a process number or range between 1 and {GlobalSectionParser.MaxProcesses} like 1 or 1-4, got {ConfigDiagnostics.Quote(w[1])}");
            return null;
        }

        var cpus = new SortedSet<int>();
        for (int i = 2; i < w.Count; i++)
        {
            if (!TryRange(w[i], 0, GlobalSectionParser.MaxCpu, openEnded: false, out int lo, out int hi))
            {
                diag.Error(n, $"'cpu-map': expected a CPU number or range like 0 or 0-3, got {ConfigDiagnostics.Quote(w[i])}");
                return null;
            }
            for (int c = lo; c <= hi; c++) cpus.Add(c);
        }

        int processes = last - first + 1;
        if (auto && processes != cpus.Count)
        {
            diag.Error(n, $"'cpu-map': with 'auto:' the process set ({processes}) and the CPU set ({cpus.Count}) must have the same size");
            return null;
        }
        return new CpuMapEntry(auto, first, last, cpus.ToArray(), diag.At(n));
    }

    /// <summary>`N` or `N-M` (or `N-` when <paramref name="openEnded"/>, meaning up to <paramref name="max"/>) within [min, max].</summary>
    private static bool TryRange(string text, int min, int max, bool openEnded, out int first, out int last)
    {
        first = last = 0;
        int dash = text.IndexOf('-');
        if (dash < 0)
        {
            if (!IntValue.TryParse(text, out first)) return false;
            last = first;
        }
        else
        {
            if (!IntValue.TryParse(text[..dash], out first)) return false;
            var rest = text[(dash + 1)..];
            if (rest.Length == 0 && openEnded) last = max;
            else if (!IntValue.TryParse(rest, out last)) return false;
        }
        return first >= min && last <= max && first <= last;
    }
}
