using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `set server BE/SRV agent-addr A [port P] | agent-port P | agent-send STRING` (management.txt 9.3) with 2 workers:
/// the agent check moves to another agent and sends the new string, whose answer then sets the weight in every
/// worker; mistakes get HAProxy 2.6's answers (cli_parse_set_server, srv_update_agent_addr_port).
/// </summary>
[TestFixture]
public sealed class AgentTargetEndToEndTests
{
    [Test]
    public async Task SetServerAgentPortAddrSend_MoveTheAgentCheck_InEveryWorker_AsHaproxy()
    {
        using var origin = new EchoServer();
        using var first = new TestAgent { Reply = "100%\n" };
        using var second = new TestAgent { Reply = "50%\n" };
        int port = Ports.Free();
        var body = $"""
            defaults
                mode tcp
                timeout connect 1s
                timeout client 20s
                timeout server 20s
            frontend fe
                bind 127.0.0.1:{port}
                default_backend be
            backend be
                server s1 127.0.0.1:{origin.Port} weight 100 agent-check agent-port {first.Port} agent-inter 100ms agent-send "hello\n"
                server s2 127.0.0.1:{origin.Port} weight 100
            """;
        HaproxyCheck.AssertAccepts("global\n" + body);
        using var proxy = new ProxyInstance(body).Start();   // nbproc 2
        Task<string> Cli(string command) => ControlClient.SendAsync(proxy.SocketPath, command, TimeSpan.FromSeconds(10));
        List<int> Weights() => WeightRows(proxy.Ctl("stats", "--csv").Stdout);

        await Poll.UntilAsync(() => first.Received == "hello\n", "the configured agent asked with agent-send");
        Assert.That(await Cli($"set server be/s1 agent-port {second.Port}"), Is.EqualTo("\n"));
        await Poll.UntilAsync(Weights, w => w.Count == 3 && w.All(x => x == 50), "the second agent's 50% in every worker");
        Assert.That(await Cli("set server be/s1 agent-send ping"), Is.EqualTo("\n"));
        await Poll.UntilAsync(() => second.Received == "ping", "the new agent-send string");
        Assert.That(await Cli($"set server be/s1 agent-addr 127.0.0.1 port {first.Port}"), Is.EqualTo("\n"));
        await Poll.UntilAsync(Weights, w => w.Count == 3 && w.All(x => x == 100), "back on the first agent: 100%");

        Assert.That(await Cli("set server be/s1 agent-port x"), Is.EqualTo("provided port is not an integer\n"));
        Assert.That(await Cli("set server be/s1 agent-port 70000"), Is.EqualTo("provided port is invalid\n"));
        Assert.That(await Cli("set server be/s1 agent-addr nowhere"), Is.EqualTo("invalid addr 'nowhere'\n"));
        Assert.That(await Cli("set server be/s1 agent-addr"),
            Is.EqualTo("set server <b>/<s> agent-addr requires an address and optionally a port.\n\n"));
        Assert.That(await Cli("set server be/s1 agent-port"), Is.EqualTo("set server <b>/<s> agent-port requires a port.\n\n"));
        Assert.That(await Cli("set server be/s2 agent-port 1"), Is.EqualTo("agent checks are not enabled on this server\n"));
        Assert.That(await Cli("set server be/s2 agent-send x"), Is.EqualTo("agent checks are not enabled on this server.\n\n"));
    }

    /// <summary>The weight column of be/s1's rows in `proxyctl stats --csv` (the total, then one per worker).</summary>
    private static List<int> WeightRows(string csv)
    {
        var lines = csv.Split('\n');
        int weight = Array.IndexOf(lines[0].TrimStart('#', ' ').Split(','), "weight");
        return lines.Where(l => l.StartsWith("be,s1,", StringComparison.Ordinal))
            .Select(l => int.TryParse(l.Split(',')[weight], out int w) ? w : -1).ToList();
    }
}
