using NUnit.Framework;

namespace Proxy.Tests.Support;

/// <summary>
/// Debian's HAProxy 2.6 (`haproxy -c`) on a test's configuration: the configs end-to-end tests use must be valid
/// HAProxy unless a test is about a deliberate difference. Not a skip: without HAProxy the check fails (.ci/run installs it).
/// </summary>
public static class HaproxyCheck
{
    private const string HaproxyPath = "/usr/sbin/haproxy";

    public static void AssertAccepts(string config)
    {
        var r = Check(config);
        Assert.That(r.ExitCode, Is.EqualTo(0), $"haproxy -c refuses the config:\n{r.All}\n{config}");
    }

    /// <summary>For a config error reproduced from HAProxy: HAProxy refuses the same config.</summary>
    public static void AssertRefuses(string config)
    {
        var r = Check(config);
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), $"haproxy -c accepts the config:\n{r.All}\n{config}");
    }

    private static ProcessRunner.Result Check(string config)
    {
        Assert.That(File.Exists(HaproxyPath), Is.True, $"{HaproxyPath} is missing: apt-get install haproxy (.ci/run does)");
        string path = Path.Combine(Path.GetTempPath(), $"haproxy-check-{Environment.ProcessId}-{Guid.NewGuid():N}.cfg");
        File.WriteAllText(path, config.EndsWith('\n') ? config : config + "\n");
        try
        {
            return ProcessRunner.Run(HaproxyPath, ["-c", "-q", "-f", path]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
