using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Proxy.Shared.Interop;

/// <summary>CPU affinity through sched_getaffinity(2)/sched_setaffinity(2).</summary>
public static unsafe class CpuAffinity
{
    /// <summary>The CPUs this process may run on, ascending (what `nbproc auto` counts).</summary>
    public static int[] AllowedCpus()
    {
        cpu_set_t set;
        if (sched_getaffinity(0, (size_t)sizeof(cpu_set_t), &set) == -1)
        {
            var all = new int[Environment.ProcessorCount];
            for (int i = 0; i < all.Length; i++) all[i] = i;
            return all;
        }
        var cpus = new List<int>();
        for (int cpu = 0; cpu < sizeof(cpu_set_t) * 8; cpu++)
            if (CPU_ISSET(cpu, &set)) cpus.Add(cpu);
        return cpus.ToArray();
    }

    /// <summary>
    /// Pins every thread of this process to <paramref name="cpus"/>. sched_setaffinity(0) changes only the
    /// calling thread, and the runtime has started several already, so each task in /proc/self/task is set;
    /// threads created later inherit the mask of their creator. Returns 0 or the first errno.
    /// </summary>
    public static int PinProcess(IReadOnlyList<int> cpus)
    {
        cpu_set_t set;
        CPU_ZERO(&set);
        foreach (int cpu in cpus) CPU_SET(cpu, &set);
        int firstError = 0;
        foreach (string dir in Directory.GetDirectories("/proc/self/task"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int tid)) continue;
            if (sched_setaffinity(tid, (size_t)sizeof(cpu_set_t), &set) == -1)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != ESRCH && firstError == 0) firstError = errno; // ESRCH: that thread just exited
            }
        }
        return firstError;
    }
}
