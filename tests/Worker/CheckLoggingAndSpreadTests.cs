using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Worker.Health;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Worker;

/// <summary>`option log-health-checks` (4.2) and global `spread-checks` (3.2), in the parser and in one engine.</summary>
public class CheckLoggingAndSpreadTests
{
    [Test]
    public void SpreadChecks_IsParsed_0To50()
    {
        string tail = Lines("defaults", "    mode tcp", "    timeout connect 1s", "backend b", "    server s1 127.0.0.1:80");
        Assert.That(ParseValid(Lines("global", "    spread-checks 5") + tail).Global.SpreadChecks, Is.EqualTo(5));
        Assert.That(ParseErrors(Lines("global", "    spread-checks 60") + tail), Has.Some.Contains(":2").And.Contains("spread-checks"));
    }

    [Test]
    public void SpreadChecks_MovesEachIntervalWithinPercentEitherWay()
    {
        var waits = Enumerable.Range(0, 500).Select(_ => CheckSpread.Apply(TimeSpan.FromSeconds(1), 10).TotalMilliseconds).ToList();
        Assert.That(waits, Has.All.InRange(900.0, 1100.0));
        Assert.That(waits.Max() - waits.Min(), Is.GreaterThan(100), "randomized, both ways");
        Assert.That(CheckSpread.Apply(TimeSpan.FromSeconds(1), 0), Is.EqualTo(TimeSpan.FromSeconds(1)), "0: exact intervals");
    }

    [Test]
    public void LogHealthChecks_IsParsed_AndInheritedFromDefaults()
    {
        var config = ParseValid(Lines("defaults", "    mode tcp", "    timeout connect 1s", "    option log-health-checks",
            "backend a", "    server s1 127.0.0.1:80 check", "backend b", "    no option log-health-checks", "    server s1 127.0.0.1:80 check"));
        Assert.That(config.Backends.Select(b => b.LogHealthChecks), Is.EqualTo(new[] { true, false }));
    }

    [Test]
    public async Task LogHealthChecks_LogsEachResultThatMovesHealth_AsHaproxy()
    {
        var (log, memory) = ProxyEngineTests.MemoryLog();
        int closed = Ports.Free();
        await using var proxy = HttpTestKit.StartFromText($"""
            defaults
                mode tcp
                timeout connect 1s
                timeout client 5s
                timeout server 5s
            frontend fe
                bind BIND
                default_backend be
            backend be
                option log-health-checks
                server s1 127.0.0.1:{closed} check inter 100ms rise 2 fall 2
            """, log);
        // A server starts at health `rise` (HAProxy's too), so its first failure takes it down: status 0/2 DOWN.
        // The state change's own line follows the check's line: wait for both.
        await Poll.UntilAsync(() => memory.Logs.Any(l => l.Contains("status: 0/2 DOWN."))
            && memory.Logs.Any(l => l.StartsWith("Server be/s1 is DOWN", StringComparison.Ordinal)), "the check that takes s1 down logged");
        Assert.That(memory.Logs, Has.Some.Matches<string>(l =>
            l.StartsWith("Health check for server be/s1 failed, reason: Layer4 connection problem, info: \"", StringComparison.Ordinal)
            && l.Contains("\", check duration: ", StringComparison.Ordinal)
            && l.EndsWith("ms, status: 0/2 DOWN.", StringComparison.Ordinal)), string.Join('\n', memory.Logs));
        Assert.That(memory.Logs, Has.Some.StartsWith("Server be/s1 is DOWN, reason: Layer4 connection problem"));
    }
}
