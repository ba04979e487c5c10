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
    private static Run? s_run;

    /// <summary>
    /// The shell between setsid and the build. It prints its process group first (setsid made it the session's and the
    /// group's leader, whether or not setsid had to fork first, so the group is not necessarily setsid's pid), then
    /// leaves a watchdog that kills the whole group once the test host ($1) is gone: a killed host never runs
    /// OneTimeTearDown, and the build, in a session of its own, would outlive it. The watchdog also ends with the
    /// build (the leader's pid). The autogroup file is missing on a kernel without autogroups: then nice alone ranks
    /// the build.
    /// </summary>
    private const string Wrapper = """
        read -r _ _ _ _ group _ < /proc/$$/stat
        echo "build-group $group"
        ( while kill -0 "$1" 2>/dev/null && kill -0 "$group" 2>/dev/null; do sleep 1; done; kill -- -"$group" ) >/dev/null 2>&1 </dev/null &
        echo 19 > /proc/self/autogroup 2>/dev/null
        exec nice -n 19 ionice -c 3 "$0"
        """;

    /// <summary>One started build: its process (null when it could not start), its process group, its end.</summary>
    internal sealed record Run(Process? Process, Task<int> Group, Task<ProcessRunner.Result> Done);

    /// <summary>Starts the build once (later calls return the same run).</summary>
    public static Task<ProcessRunner.Result> Start()
    {
        lock (s_gate)
        {
            s_run ??= Launch(Path.Combine(Artifacts.RepoRoot, "packaging", "build-packages.sh"), Environment.ProcessId,
                new Dictionary<string, string>
                {
                    ["PROXY_PACKAGE_XZ_LEVEL"] = "1",   // compressing ~90 MB at xz -9 took minutes and tests nothing (build-packages.sh)
                    ["MSBUILDDISABLENODEREUSE"] = "1",
                    ["UseSharedCompilation"] = "false",
                });
            return s_run.Done;
        }
    }

    /// <summary>
    /// Starts <paramref name="script"/> in a session of its own at the lowest priority, killed with its group when
    /// the process <paramref name="hostPid"/> ends. Never throws: a process that cannot start is a faulted
    /// <see cref="Run.Done"/>, which only the test waiting for the build reports (not every test of the run).
    /// </summary>
    internal static Run Launch(string script, int hostPid, IReadOnlyDictionary<string, string>? environment = null, string launcher = "setsid")
    {
        var psi = new ProcessStartInfo(launcher)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Artifacts.RepoRoot,
        };
        // --wait: setsid forks when it cannot make the caller a session leader; the process waited for is the build.
        foreach (var a in new[] { "--wait", "bash", "-c", Wrapper, script, hostPid.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (name, value) in environment) psi.Environment[name] = value;
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + script);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            var failed = Task.FromException<ProcessRunner.Result>(new InvalidOperationException("cannot start " + script + ": " + e.Message, e));
            return new Run(null, Task.FromException<int>(e), failed);
        }
        var group = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdout = Task.Run(async () =>
        {
            string? first = await process.StandardOutput.ReadLineAsync();
            if (first is not null && first.StartsWith("build-group ", StringComparison.Ordinal)
                && int.TryParse(first.AsSpan("build-group ".Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int g))
                group.TrySetResult(g);
            else
                group.TrySetException(new InvalidOperationException("the build's wrapper did not print its group: " + first));
            return await process.StandardOutput.ReadToEndAsync();
        });
        var stderr = process.StandardError.ReadToEndAsync();
        var done = Task.Run(async () =>
        {
            await process.WaitForExitAsync();
            return new ProcessRunner.Result(process.ExitCode, await stdout, await stderr);
        });
        return new Run(process, group.Task, done);
    }

    /// <summary>
    /// The build, back at normal CPU and I/O priority: for the acceptance test, which runs alone, waiting for it. Raising
    /// a priority needs root (the acceptance test's dpkg part does too); without it the build stays low.
    /// </summary>
    public static Task<ProcessRunner.Result> AtNormalPriority()
    {
        var done = Start();
        Run? run;
        lock (s_gate) run = s_run;
        if (run is { Process.HasExited: false } && run.Group.Wait(TimeSpan.FromSeconds(10)) && run.Group.IsCompletedSuccessfully)
        {
            // The group the wrapper printed holds the build's processes (the session's leader leads it), and the
            // children they start from now on inherit the priority.
            string group = run.Group.Result.ToString(System.Globalization.CultureInfo.InvariantCulture);
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
            if (s_run?.Process is { HasExited: false } p)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
        }
    }
}
