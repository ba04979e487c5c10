using System.Runtime.InteropServices;
using NLog;

namespace Proxy.Supervisor;

/// <summary>
/// `ulimit-n N` (doc/configuration.txt 3.1): RLIMIT_NOFILE of the supervisor, and so of every worker it starts from
/// then on (exec keeps resource limits). As HAProxy, the soft limit is set to N; above the hard limit, the hard one is
/// raised too where the process may (root), else the soft limit stops at the hard one with a warning.
/// </summary>
internal static unsafe class FileDescriptorLimit
{
    private const int RlimitNoFile = 7;   // RLIMIT_NOFILE on Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetLimit(int resource, RLimit* limit);

    [DllImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static extern int SetLimit(int resource, RLimit* limit);

    /// <summary>Applies `ulimit-n` (<paramref name="wanted"/>; null leaves the inherited limit); problems are logged, never fatal.</summary>
    public static void Apply(int? wanted, ILogger log)
    {
        if (wanted is not { } n) return;
        RLimit limit;
        if (GetLimit(RlimitNoFile, &limit) == -1)   // getrlimit(2): -1 on error, errno set
        {
            log.Warn($"ulimit-n: getrlimit(RLIMIT_NOFILE) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            return;
        }
        var next = new RLimit { Current = (ulong)n, Maximum = Math.Max(limit.Maximum, (ulong)n) };
        if (SetLimit(RlimitNoFile, &next) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        // Not allowed to raise the hard limit: go as far as it allows, as HAProxy 2.6 does.
        next = new RLimit { Current = Math.Min((ulong)n, limit.Maximum), Maximum = limit.Maximum };
        if (SetLimit(RlimitNoFile, &next) == 0)
            log.Warn($"ulimit-n {n}: cannot raise the hard limit ({Marshal.GetPInvokeErrorMessage(errno)}): the limit is {next.Current} file descriptors");
        else
            log.Warn($"ulimit-n {n}: setrlimit(RLIMIT_NOFILE) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }
}
