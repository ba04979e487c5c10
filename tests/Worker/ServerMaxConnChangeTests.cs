using System.Net;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Worker.Balancing;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// A server's maxconn changed at run time (`set maxconn server`, an agent's `maxconn:N`), as HAProxy 2.6's
/// server_parse_maxconn_change_request(): what the worker applies and the channel line that carries it.
/// </summary>
public class ServerMaxConnChangeTests
{
    private static ServerRuntime ServerWith(int minConn, int maxConn) =>
        new BackendRuntime(TcpTestKit.Backend([Server("s", new IPEndPoint(IPAddress.Loopback, 1), maxConn: maxConn) with { MinConn = minConn }])
            with { FullConn = 8 }).Servers[0];

    [Test]
    public void StaticLimit_MovesMinConnAndMaxConn_DynamicOnlyMaxConn()
    {
        var fixedLimit = ServerWith(minConn: 4, maxConn: 4);
        Assert.That(fixedLimit.SetMaxConn(2), Is.Null);
        Assert.That((fixedLimit.MinConn, fixedLimit.MaxConn, fixedLimit.DynamicMaxConn(Environment.TickCount64)), Is.EqualTo((2, 2, 2L)));
        var dynamic = ServerWith(minConn: 1, maxConn: 4);
        Assert.That(dynamic.SetMaxConn(8), Is.Null);
        Assert.That((dynamic.MinConn, dynamic.MaxConn), Is.EqualTo((1, 8)));
        for (int i = 0; i < 4; i++) dynamic.Backend.Enter();
        Assert.That(dynamic.DynamicMaxConn(Environment.TickCount64), Is.EqualTo(4), "4 * 8 / 8");
    }

    [Test]
    public void LoweredLimit_RefusesNewPermits_ZeroLiftsIt_PermitsStayCounted()
    {
        var s = ServerWith(minConn: 3, maxConn: 3);
        Assert.That(s.TryTakePermit() && s.TryTakePermit(), Is.True);
        Assert.That(s.SetMaxConn(1), Is.Null);
        Assert.That(s.TryTakePermit(), Is.False, "2 held, limit 1: the held ones go on, no new one");
        Assert.That(s.SetMaxConn(0), Is.Null);
        Assert.That(s.TryTakePermit(), Is.True, "0: no limit");
        Assert.That(s.Served, Is.EqualTo(3), "still counted, so releases after the change balance");
        s.Backend.Queue.Release(s); s.Backend.Queue.Release(s); s.Backend.Queue.Release(s);
        Assert.That(s.Served, Is.Zero);
    }

    [Test]
    public void ServerWithoutConfiguredMaxConn_RefusesALimit()
    {
        var s = ServerWith(minConn: 0, maxConn: 0);
        Assert.That(s.SetMaxConn(5), Does.Contain("no maxconn in the config"));
        Assert.That(s.MaxConn, Is.Zero);
    }

    [Test]
    public void AgentMaxConn_IsSentAsASetting_ForACountedServer_AndRefusedOncePerValueOtherwise()
    {
        var sent = new List<ServerOverride>();
        var counted = ServerWith(minConn: 4, maxConn: 4);
        var agent = new Proxy.Worker.Health.AgentChecker(counted, NLog.LogManager.GetLogger("test"), null, sent.Add);
        agent.Apply(Proxy.Worker.Health.AgentReply.Parse("maxconn:30")!, 1);
        Assert.That(sent, Is.EqualTo(new[] { new ServerOverride("be", "s", null, null) { MaxConn = 30 } }),
            "to the supervisor, which sets it in every worker as `set maxconn server`");
        sent.Clear();
        var uncounted = ServerWith(minConn: 0, maxConn: 0);
        var other = new Proxy.Worker.Health.AgentChecker(uncounted, NLog.LogManager.GetLogger("test"), null, sent.Add);
        other.Apply(Proxy.Worker.Health.AgentReply.Parse("maxconn:30")!, 1);
        Assert.That(sent, Is.Empty, "a server without maxconn in the config is not counted: not applied (logged)");
    }

    [Test]
    public void ChannelLine_CarriesMaxConn_AndOlderFormsStillParse()
    {
        var change = new ServerOverride("be", "s", null, null) { MaxConn = 7 };
        Assert.That(change.ToMessage(), Is.EqualTo("server be s - - - - 7 - - -"));
        Assert.That(ServerOverride.FromMessage(change.ToMessage()), Is.EqualTo(change));
        Assert.That(ServerOverride.FromMessage("server be s drain 3 - -")!.MaxConn, Is.Null);
        Assert.That(ServerOverride.FromMessage("server be s drain 3")!.Weight, Is.EqualTo(3));
    }
}
