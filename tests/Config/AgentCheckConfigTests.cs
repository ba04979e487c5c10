using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`agent-check` and its options, `slowstart`, `on-marked-down`, `on-marked-up` (5.2), with HAProxy 2.6's refusals.</summary>
public class AgentCheckConfigTests
{
    // Line 5 is the first line given to Backend().
    private static string Backend(params string[] lines) => Lines(
        [
            "defaults",
            "    mode tcp",
            "    timeout connect 5s",
            "backend app",
            .. lines,
        ]);

    [Test]
    public void AgentOptions_AreParsed()
    {
        var s = ParseValid(Backend("    server s1 127.0.0.1:80 check agent-check agent-port 9999 agent-inter 500ms agent-addr 127.0.0.2 agent-send \"hello\\n\""))
            .Backends[0].Servers[0].CheckSettings.Agent;
        Assert.That((s.Enabled, s.Port, s.Inter, s.Send, s.Address?.ToString()),
            Is.EqualTo((true, (int?)9999, (TimeSpan?)TimeSpan.FromMilliseconds(500), "hello\n", "127.0.0.2")));
    }

    [Test]
    public void AgentCheck_FromDefaultServer_AndNoAgentCheck()
    {
        var backend = ParseValid(Backend("    default-server agent-check agent-port 9999", "    server s1 127.0.0.1:80",
            "    server s2 127.0.0.1:81 no-agent-check")).Backends[0];
        Assert.That(backend.Servers[0].CheckSettings.Agent.Enabled, Is.True);
        Assert.That(backend.Servers[0].CheckSettings.Agent.Interval, Is.EqualTo(TimeSpan.FromSeconds(2)), "HAProxy's default agent-inter");
        Assert.That(backend.Servers[1].CheckSettings.Agent.Enabled, Is.False);
    }

    [Test]
    public void AgentCheck_WithoutAgentPort_IsAnError()
    {
        // HAProxy 2.6: "server s1 does not have agent port. Agent check has been disabled." (an alert: the start fails).
        Assert.That(ParseErrors(Backend("    server s1 127.0.0.1:80 agent-check")),
            Has.Some.Contains(":5").And.Contains("agent-port"));
    }

    [Test]
    public void SlowStartAndMarkedActions_AreParsed()
    {
        var c = ParseValid(Backend("    server s1 127.0.0.1:80 check slowstart 30s on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions"))
            .Backends[0].Servers[0].CheckSettings;
        Assert.That((c.SlowStart, c.ShutdownSessionsOnDown, c.ShutdownBackupSessionsOnUp), Is.EqualTo((TimeSpan.FromSeconds(30), true, true)));
    }

    [TestCase("on-marked-down shutdown-backup-sessions", "shutdown-sessions")]
    [TestCase("on-marked-up shutdown-sessions", "shutdown-backup-sessions")]
    [TestCase("slowstart soon", "slowstart")]
    [TestCase("agent-port 0", "agent-port")]
    [TestCase("agent-inter 0", "agent-inter")]
    public void BadValues_AreErrorsAtTheLine(string options, string expected)
    {
        Assert.That(ParseErrors(Backend($"    server s1 127.0.0.1:80 {options}")), Has.Some.Contains(":5").And.Contains(expected));
    }

    [Test]
    public void InitState_IsUnknownAsInHaproxy26()
    {
        // `init-state` came after 2.6: HAProxy 2.6 says "unknown keyword 'init-state'".
        Assert.That(ParseErrors(Backend("    server s1 127.0.0.1:80 init-state up")), Has.Some.Contains("unknown option").And.Contains("init-state"));
    }
}
