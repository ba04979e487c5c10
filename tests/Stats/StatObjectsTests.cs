using System.Net;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Stats;

namespace Proxy.Tests.Stats;

public class StatObjectsTests
{
    private static readonly SourceLocation s_at = new("test.cfg", 1);

    private static ProxyConfig Config()
    {
        var bind = new BindAddress(new IPEndPoint(IPAddress.Any, 80), null, s_at);
        var fe = new FrontendConfig("www", ProxyMode.Http, [bind], "app", 1000, Timeouts.None, s_at);
        ServerConfig Server(string name) => new(name, "127.0.0.1", new IPEndPoint(IPAddress.Loopback, 8080), 1, 0,
            false, TimeSpan.FromSeconds(2), 2, 3, false, false, s_at);
        var be = new BackendConfig("app", ProxyMode.Http, BalanceAlgorithm.RoundRobin, [Server("web1"), Server("web2")],
            Timeouts.None, 3, false, s_at);
        return new ProxyConfig("test.cfg", GlobalSettings.Default, [fe], [be]);
    }

    [Test]
    public void FromConfig_FrontendAndBackend_ListsEveryObjectInConfigOrder()
    {
        var keys = StatObjects.FromConfig(Config()).Select(o => o.Key);
        Assert.That(keys, Is.EqualTo(new[] { "www/FRONTEND", "www/0.0.0.0:80", "app/BACKEND", "app/web1", "app/web2" }));
    }

    [Test]
    public void Create_FromConfig_BoardHasEveryObject()
    {
        using var tmp = new StatsTestBoard();
        using var board = StatsBoard.Create(tmp.Path, Config(), StatsBoard.DefaultSlotCount(workerCount: 2));
        Assert.Multiple(() =>
        {
            Assert.That(board.SlotCount, Is.EqualTo(4));
            Assert.That(board.IndexOf("app/web2"), Is.EqualTo(4));
            Assert.That(board.TryIndexOf("app/web9", out _), Is.False);
        });
    }
}
