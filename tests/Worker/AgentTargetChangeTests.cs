using System.Net;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Worker.Balancing;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Worker;

/// <summary>
/// `set server BE/SRV agent-addr A [port P] | agent-port P | agent-send STRING` (management.txt 9.3): the channel line
/// that carries them to the workers and what the worker keeps for its agent check.
/// </summary>
public class AgentTargetChangeTests
{
    [Test]
    public void ChannelLine_CarriesAgentAddressPortAndString_EvenWithSpacesOrADash()
    {
        var change = new ServerOverride("be", "s", null, null) { AgentAddress = IPAddress.Parse("127.0.0.9"), AgentPort = 9999, AgentSend = "- ping me\n" };
        var line = change.ToMessage();
        Assert.That(line.Split(' '), Has.Length.EqualTo(11), "one word per field: the string is escaped");
        Assert.That(ServerOverride.FromMessage(line), Is.EqualTo(change));
        Assert.That(ServerOverride.FromMessage(new ServerOverride("be", "s", null, null) { AgentSend = "" }.ToMessage())!.AgentSend, Is.EqualTo(""),
            "an empty string is kept (nothing sent), not taken for 'as configured'");
    }

    [Test]
    public void Worker_KeepsEachPart_UntilChanged()
    {
        var config = ParseValid(Lines("defaults", "    mode tcp", "    timeout connect 5s", "backend be",
            "    server s 127.0.0.1:80 agent-check agent-port 7000 agent-send hello"));
        var engineLess = new BackendRuntime(config.Backends[0]);
        var s = engineLess.Servers[0];
        Assert.That(s.AgentTarget, Is.EqualTo(new ServerRuntime.AgentTargetOverride(null, null, null)), "as configured");
        s.SetAgentTarget(null, 7001, null);
        s.SetAgentTarget(IPAddress.Parse("127.0.0.9"), null, "ping\n");
        Assert.That(s.AgentTarget, Is.EqualTo(new ServerRuntime.AgentTargetOverride(IPAddress.Parse("127.0.0.9"), 7001, "ping\n")));
    }
}
