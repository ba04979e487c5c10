using System.Diagnostics;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.Packaging;

/// <summary>
/// How <see cref="PackageBuild"/> starts the background package build, on stand-in scripts (the real build takes
/// minutes): a start failure stays with the build, the priority restore gets the right group, and the build dies
/// with the test host.
/// </summary>
public sealed class PackageBuildLaunchTests
{
    private string _dir = "";

    [SetUp]
    public void MakeDirectory() => _dir = Directory.CreateTempSubdirectory("proxy-package-launch-").FullName;

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_dir, recursive: true);

    private string Script(string body)
    {
        string path = Path.Combine(_dir, "build.sh");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Test]
    public void ALauncherThatCannotStart_IsAFaultedBuild_NotAnExceptionInTheRunsSetUp()
    {
        PackageBuild.Run? run = null;
        Assert.DoesNotThrow(() => run = PackageBuild.Launch(Script("true"), Environment.ProcessId, launcher: Path.Combine(_dir, "no-such-setsid")));
        Assert.That((run!.Process, run.Done.IsFaulted), Is.EqualTo(((Process?)null, true)));
    }

    [Test]
    public async Task TheWrapperPrintsTheBuildsOwnProcessGroup()
    {
        var run = PackageBuild.Launch(Script("read -r _ _ _ _ g _ < /proc/$$/stat; echo \"own $g\""), Environment.ProcessId);
        var result = await run.Done.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stdout.Trim(), Is.EqualTo($"own {await run.Group}"));
    }

    [Test]
    public async Task TheBuildDiesWithTheTestHost()
    {
        using var host = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        var run = PackageBuild.Launch(Script("exec sleep 60"), host.Id);
        int group = await run.Group.WaitAsync(TimeSpan.FromSeconds(20));
        try
        {
            host.Kill();
            await host.WaitForExitAsync();
            await Poll.UntilAsync(() => run.Done.IsCompleted, "the build killed by its watchdog");
        }
        finally
        {
            if (!run.Done.IsCompleted) ProcessRunner.Run("kill", ["-KILL", "--", "-" + group]);
        }
    }
}
