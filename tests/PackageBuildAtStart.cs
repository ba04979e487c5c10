using NUnit.Framework;
using Proxy.Tests.Packaging;

namespace Proxy.Tests;

/// <summary>
/// Starts <see cref="PackageBuild"/> before the first test of the run (namespace Proxy.Tests: the whole assembly); stops
/// it at the end. At the run's start, not lazily with the Packaging fixtures, which NUnit runs late: the build is there
/// to overlap the rest of the suite. NUnit shows a setup fixture no test filter, so a filtered run with
/// PROXY_PACKAGE_TESTS=1 that leaves the acceptance test out still builds (and stops it at the end). A build that cannot
/// start fails only the acceptance test (PackageBuild.Launch never throws).
/// </summary>
[SetUpFixture]
public sealed class PackageBuildAtStart
{
    [OneTimeSetUp]
    public void StartPackageBuild()
    {
        if (PackageBuild.Wanted) PackageBuild.Start();
    }

    [OneTimeTearDown]
    public void StopPackageBuild() => PackageBuild.StopIfRunning();
}
