using System.Text.RegularExpressions;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.Packaging;

/// <summary>
/// The deb and rpm packages (packaging/). The quick checks always run; the full acceptance script
/// (packaging/test-packages.sh: builds both packages, lintian, a real dpkg install, start, reload,
/// remove, purge, rpm --root) takes minutes and needs root, so it runs only with PROXY_PACKAGE_TESTS=1.
/// </summary>
[NonParallelizable]
[TestFixture]
public sealed class PackageTests
{
    private static string Packaging => Path.Combine(Artifacts.RepoRoot, "packaging");

    [Test]
    public void PackagedConfig_IsValid()
    {
        var r = ProcessRunner.Run(Artifacts.Proxyctl, ["check", "-f", Path.Combine(Packaging, "proxy.cfg")]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout, Does.Contain("Configuration file is valid"));
    }

    [Test]
    public void PackagedConfig_KeepsItsRuntimeFilesInTheUnitsRuntimeDirectory()
    {
        string cfg = File.ReadAllText(Path.Combine(Packaging, "proxy.cfg"));
        string unit = File.ReadAllText(Path.Combine(Packaging, "proxy.service"));
        Assert.That(cfg, Does.Match(@"(?m)^\s*stats socket /run/proxy/proxy\.sock\b"));
        Assert.That(cfg, Does.Match(@"(?m)^\s*pidfile /run/proxy/proxy\.pid\b"));
        Assert.That(unit, Does.Match(@"(?m)^RuntimeDirectory=proxy$"));
        // The unit runs as _proxy: user/group/chroot would need a root supervisor.
        Assert.That(cfg, Does.Not.Match(@"(?m)^\s*(user|group|chroot)\s"));
    }

    [Test]
    public void Unit_ChecksBeforeStartAndReloadsThroughProxyctl()
    {
        string unit = File.ReadAllText(Path.Combine(Packaging, "proxy.service"));
        Assert.That(unit, Does.Match(@"(?m)^ExecStartPre=/usr/lib/proxy/proxyctl check -f "));
        Assert.That(unit, Does.Match(@"(?m)^ExecStart=/usr/lib/proxy/proxy-supervisor -f "));
        Assert.That(unit, Does.Match(@"(?m)^ExecReload=/usr/lib/proxy/proxyctl reload -f "));
        Assert.That(unit, Does.Match(@"(?m)^KillMode=mixed$"));
    }

    [Test]
    public void Version_ComesFromDirectoryBuildProps()
    {
        string props = File.ReadAllText(Path.Combine(Artifacts.RepoRoot, "Directory.Build.props"));
        Assert.That(Regex.IsMatch(props, @"<Version>\d+\.\d+\.\d+</Version>"), "one <Version> the packaging script reads");
        foreach (var template in new[] { "debian/control.in", "debian/changelog.in", "rpm/proxy.spec.in", "proxyctl.1" })
            Assert.That(File.ReadAllText(Path.Combine(Packaging, template)), Does.Contain("@VERSION@"), template);
    }

    // Longer than the suite's 90 s limit (Proxy.Tests.runsettings): the script gets 10 minutes of its own below.
    // [Timeout] is obsolete on .NET only because it cannot abort the thread; it still fails the test in time.
#pragma warning disable CS0618
    [Test, Timeout(11 * 60 * 1000)]
#pragma warning restore CS0618
    public void AcceptanceScript_BuildsInstallsRunsAndRemovesThePackages()
    {
        if (Environment.GetEnvironmentVariable("PROXY_PACKAGE_TESTS") != "1")
            Assert.Ignore("set PROXY_PACKAGE_TESTS=1 to run packaging/test-packages.sh (minutes; root for the dpkg part)");
        var r = ProcessRunner.Run(Path.Combine(Packaging, "test-packages.sh"), [], TimeSpan.FromMinutes(10),
            new Dictionary<string, string> { ["PROXY_PACKAGE_XZ_LEVEL"] = "1" });
        TestContext.Out.WriteLine(r.All);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout, Does.Contain("package tests: OK"));
    }
}
