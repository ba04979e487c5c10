using NUnit.Framework;
using Proxy.Tests.Packaging;

namespace Proxy.Tests;

/// <summary>Starts <see cref="PackageBuild"/> before the first test of the run (namespace Proxy.Tests: the whole assembly); stops it at the end.</summary>
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
