using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests;

/// <summary>Runs once after every test in namespace Proxy.Tests and below (the whole assembly): stops what tests left running.</summary>
[SetUpFixture]
public sealed class LeftoversTearDown
{
    [OneTimeTearDown]
    public void StopWhatTestsLeftRunning() => Leftovers.DisposeAll();
}
