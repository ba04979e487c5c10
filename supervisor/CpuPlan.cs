using Proxy.Shared.Config;

namespace Proxy.Supervisor;

/// <summary>
/// How many workers run and which CPUs each is pinned to: `nbproc` and `cpu-map` (HAProxy syntax,
/// process numbers 1-based). Without cpu-map, slot k runs on the k-th CPU this process may use.
/// </summary>
public static class CpuPlan
{
    /// <summary>Returns, for each slot, the CPUs its worker is pinned to.</summary>
    public static int[][] Compute(GlobalSettings global, int[] allowedCpus)
    {
        int workers = global.NbProc ?? Math.Max(1, allowedCpus.Length);
        var plan = new int[workers][];
        for (int slot = 0; slot < workers; slot++)
            plan[slot] = [allowedCpus[slot % allowedCpus.Length]];

        foreach (var map in global.CpuMaps)
        {
            for (int process = map.FirstProcess; process <= map.LastProcess; process++)
            {
                int slot = process - 1;
                if (slot < 0 || slot >= workers) continue; // a map for a process that does not run
                if (map.Auto)
                {
                    // `auto:1-4 0-3`: process n gets the n-th CPU of the list, one each.
                    int index = process - map.FirstProcess;
                    if (index < map.Cpus.Count) plan[slot] = [map.Cpus[index]];
                }
                else
                {
                    // `1-2 0-1`: every listed process may run on every listed CPU.
                    plan[slot] = [.. map.Cpus];
                }
            }
        }
        return plan;
    }
}
