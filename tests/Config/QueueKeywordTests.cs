using NUnit.Framework;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>The keywords behind server connection limits and queueing: server `maxconn`, `timeout queue`.</summary>
public class QueueKeywordTests
{
    private static string Backend(params string[] lines) =>
        Lines(["frontend f", "bind :80", "default_backend b", "backend b", .. lines]);

    [Test]
    public void ServerMaxConn_FromDefaultServerThenOverridden()
    {
        var be = ParseValid(Backend("default-server maxconn 20", "server a 10.0.0.1:80", "server b 10.0.0.2:80 maxconn 5",
            "server c 10.0.0.3:80 maxconn 0")).Backends[0];
        Assert.That(be.Servers.Select(s => s.MaxConn), Is.EqualTo(new[] { 20, 5, 0 }), "0: no limit, as in HAProxy");
    }

    [Test]
    public void TimeoutQueue_InheritedFromDefaults_AndOverriddenByTheBackend()
    {
        var config = ParseValid(Lines("defaults", "timeout queue 2s", "backend x", "backend y", "timeout queue 150ms"));
        Assert.That(config.Backends.Select(b => b.Timeouts.Queue),
            Is.EqualTo(new TimeSpan?[] { TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(150) }));
    }

    [Test]
    public void TimeoutQueue_Unset_IsNull_SoTheEngineFallsBackToTimeoutConnect()
        => Assert.That(ParseValid(Backend("timeout connect 3s", "server a 10.0.0.1:80")).Backends[0].Timeouts.Queue, Is.Null);

    [TestCase("server a 10.0.0.1:80 maxconn -1", "test.cfg:5: 'server maxconn': expected an integer between 0 and 2147483647, got '-1'")]
    [TestCase("server a 10.0.0.1:80 maxconn many", "test.cfg:5: 'server maxconn': expected an integer between 0 and 2147483647, got 'many'")]
    [TestCase("server a 10.0.0.1:80 maxconn", "test.cfg:5: 'server': option 'maxconn' needs a value")]
    [TestCase("default-server maxconn x", "test.cfg:5: 'default-server maxconn': expected an integer between 0 and 2147483647, got 'x'")]
    [TestCase("server a 10.0.0.1:80 maxqueue x", "test.cfg:5: 'server maxqueue': expected an integer between 0 and 2147483647, got 'x'")]
    [TestCase("server a 10.0.0.1:80 minconn x", "test.cfg:5: 'server minconn': expected an integer between 0 and 2147483647, got 'x'")]
    [TestCase("timeout queue soon", "test.cfg:5: 'timeout queue': expected a time like 5s, got 'soon' (units: us ms s m h d, at most 24d)")]
    public void Mistake_NamesFileLineAndKeyword(string line, string expected)
        => Assert.That(ParseErrors(Backend(line)), Is.EqualTo(new[] { expected }));

    [Test]
    public void TimeoutQueue_InAFrontend_WarnsAndHasNoEffect()
    {
        var result = Parse(Lines("backend b", "frontend f", "bind :80", "default_backend b", "timeout queue 1s"));
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Warnings.Select(w => w.ToString()),
            Has.Member("test.cfg:5: 'timeout queue' has no effect in frontend 'f', which has no backend capability: ignored"));
        Assert.That(result.Config!.Frontends[0].Timeouts.Queue, Is.Null);
    }
}
