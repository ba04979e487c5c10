using System.Diagnostics;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.Packaging;

/// <summary>
/// `packaging/build-packages.sh` started when the run starts (with PROXY_PACKAGE_TESTS=1), so that its minute of
/// `dotnet publish` and xz overlaps the rest of the suite instead of adding to it: the package acceptance test waits
/// for it, then runs `test-packages.sh --no-build`. It runs at the lowest CPU and I/O priority, so it only takes what
/// the tests leave idle (end-to-end tests mostly wait) and never starves a fixture's timing (why the acceptance test
/// itself runs alone). With the kernel's autogroups (sched_autogroup_enabled, Debian's default) a process's nice only
/// ranks it within its session, and every proxy under test is a daemon in a session of its own: so the build gets a
/// session of its own too (setsid) whose autogroup is set to nice 19, besides nice 19 and ionice idle for each process.
/// The compiler and MSBuild run in the build's own processes (no shared compiler server, no reused build node), or
/// their work would escape the low priority. Once the acceptance test waits for it (nothing else runs then), it is
/// put back to normal priority.
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
            var psi = new ProcessStartInfo("setsid")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Artifacts.RepoRoot,
            };
            // --wait: setsid forks when it cannot make the caller a session leader; the process waited for is the build.
            // The autogroup file is missing on a kernel without autogroups: then nice alone ranks the build.
            foreach (var a in new[] { "--wait", "bash", "-c", "echo 19 > /proc/self/autogroup 2>/dev/null; exec nice -n 19 ionice -c 3 \"$0\"",
                         Path.Combine(Artifacts.RepoRoot, "packaging", "build-packages.sh") })
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

    /// <summary>
    /// The build, back at normal CPU and I/O priority: for the acceptance test, which runs alone, waiting for it. Raising
    /// a priority needs root (the acceptance test's dpkg part does too); without it the build stays low.
    /// </summary>
    public static Task<ProcessRunner.Result> AtNormalPriority()
    {
        var done = Start();
        Process? process;
        lock (s_gate) process = s_process;
        if (process is { HasExited: false })
        {
            // The session's leader is its process group's too: the group holds the build's processes, and the children
            // they start from now on inherit the priority.
            string group = process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            try { File.WriteAllText($"/proc/{group}/autogroup", "0"); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            ProcessRunner.Run("renice", ["-n", "0", "-g", group]);
            ProcessRunner.Run("ionice", ["-c", "2", "-n", "4", "-P", group]);
        }
        return done;
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
