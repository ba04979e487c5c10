using System.Diagnostics;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.Packaging;

/// <summary>
/// `packaging/build-packages.sh` started when the run starts (with PROXY_PACKAGE_TESTS=1), so that its minute of
/// `dotnet publish` and xz overlaps the rest of the suite instead of adding to it: the package acceptance test waits
/// for it, then runs `test-packages.sh --no-build`. It runs at the lowest CPU and I/O priority (nice 19, ionice idle),
/// so it only takes what the tests leave idle (end-to-end tests mostly wait) and never starves a fixture's timing: the
/// reason the acceptance test runs alone. The compiler and MSBuild run in its own processes (no shared compiler server,
/// no reused build node), or their work would escape the low priority.
/// </summary>
public static class PackageBuild
{
    public static bool Wanted => Environment.GetEnvironmentVariable("PROXY_PACKAGE_TESTS") == "1";

    private static readonly object s_gate = new();
    private static Process? s_process;
    private static Task<ProcessRunner.Result>? s_done;

    /// <summary>Starts the build once (later calls return the same run).</summary>
    public static Task<ProcessRunner.Result> Start()
    {
        lock (s_gate)
        {
            if (s_done is not null) return s_done;
            var psi = new ProcessStartInfo("nice")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Artifacts.RepoRoot,
            };
            foreach (var a in new[] { "-n", "19", "ionice", "-c", "3", Path.Combine(Artifacts.RepoRoot, "packaging", "build-packages.sh") })
                psi.ArgumentList.Add(a);
            // Compressing ~90 MB at xz -9 took minutes and tests nothing (build-packages.sh).
            psi.Environment["PROXY_PACKAGE_XZ_LEVEL"] = "1";
            psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
            psi.Environment["UseSharedCompilation"] = "false";
            var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start build-packages.sh");
            s_process = process;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            s_done = Task.Run(async () =>
            {
                await process.WaitForExitAsync();
                return new ProcessRunner.Result(process.ExitCode, await stdout, await stderr);
            });
            return s_done;
        }
    }

    /// <summary>At the end of the run: a build nobody waited for (a filtered run) does not outlive it.</summary>
    internal static void StopIfRunning()
    {
        lock (s_gate)
        {
            if (s_process is { HasExited: false } p)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
        }
    }
}
