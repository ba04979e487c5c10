using System.Reflection;
using NUnit.Framework;
using NUnit.Framework.Internal;

namespace Proxy.Tests.Support;

/// <summary>
/// No test can hang the run: each one has a time limit that fails it (Proxy.Tests.runsettings), and nothing
/// switches that limit off. `./build.sh test` adds `--blame-hang` as the backstop for what the limit cannot
/// reach (a hang in a fixture's one-time set-up, or in the test host itself).
/// </summary>
public sealed class TimeLimitTests
{
    [Test]
    public void EveryTest_RunsUnderATimeLimit()
    {
        Assert.That(TestExecutionContext.CurrentContext.TestCaseTimeout, Is.GreaterThan(0),
            "no per-test time limit: run through `dotnet test` on tests/Proxy.Tests.csproj (it reads Proxy.Tests.runsettings)");
    }

    /// <summary>
    /// [CancelAfter] replaces the time limit with a cancellation token: a test that does not take the token
    /// and pass it on is then not limited at all (its deadlock hangs the run).
    /// </summary>
    [Test]
    public void CancelAfter_OnlyOnTestsThatTakeTheToken()
    {
        var offenders = new List<string>();
        foreach (var type in typeof(TimeLimitTests).Assembly.GetTypes())
        {
            bool onFixture = type.IsDefined(typeof(CancelAfterAttribute), inherit: true);
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static))
            {
                bool isTest = method.IsDefined(typeof(TestAttribute)) || method.IsDefined(typeof(TestCaseAttribute))
                    || method.IsDefined(typeof(TestCaseSourceAttribute));
                if (!isTest || !(onFixture || method.IsDefined(typeof(CancelAfterAttribute)))) continue;
                bool takesToken = false;
                foreach (var p in method.GetParameters()) takesToken |= p.ParameterType == typeof(CancellationToken);
                if (!takesToken) offenders.Add($"{type.FullName}.{method.Name}");
            }
        }
        Assert.That(offenders, Is.Empty, "[CancelAfter] on tests that ignore its token: they run without a time limit");
    }
}
