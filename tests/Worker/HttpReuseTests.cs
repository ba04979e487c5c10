using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// `http-reuse never|safe|aggressive|always` (doc/configuration.txt 4.2): which requests take an idle server
/// connection another session left in the server's pool.
/// </summary>
public class HttpReuseTests
{
    /// <summary>The engine for <paramref name="config"/>, which HAProxy 2.6 accepts too (`haproxy -c`).</summary>
    private static EngineHarness StartChecked(string config)
    {
        HaproxyCheck.AssertAccepts(config.Replace("BIND", "127.0.0.1:8080"));
        return StartFromText(config);
    }

    /// <summary>
    /// Session A sends <paramref name="firstSessionRequests"/> requests and leaves; then session B's first request.
    /// Returns what the pool held once A was gone, and the connections the origin saw in all.
    /// </summary>
    private static async Task<(int Pooled, int Connections)> TwoSessionsAsync(string reuseLine, int firstSessionRequests)
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartChecked(HttpConfig(Server("a", origin), backendExtra: reuseLine));
        using (var a = await proxy.ConnectAsync())
        {
            var reader = new HttpReader(a);
            for (int i = 0; i < firstSessionRequests; i++)
            {
                await SendAsync(a, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
                Assert.That((await reader.ReadAsync(true))!.Status, Is.EqualTo(200));
            }
        }
        var pool = ((Proxy.Worker.Runtime.BackendRuntime)proxy.Engine.Backends[0]).Servers[0].Pool;
        await Poll.UntilAsync(() => proxy.Engine.ActiveConnections == 0, "session A ended");
        int pooled = pool.IdleCount;
        using (var b = await proxy.ConnectAsync())
        {
            await SendAsync(b, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
            Assert.That((await new HttpReader(b).ReadAsync(true))!.Status, Is.EqualTo(200));
        }
        return (pooled, origin.Connections);
    }

    [Test]
    public async Task Safe_IsTheDefault_AFirstRequestOpensItsOwnConnection()
    {
        Assert.That(await TwoSessionsAsync("", 1), Is.EqualTo((1, 2)));
        Assert.That(await TwoSessionsAsync("    http-reuse safe", 1), Is.EqualTo((1, 2)));
    }

    [Test]
    public async Task Never_ClosesTheIdleConnection_InsteadOfPoolingIt() =>
        Assert.That(await TwoSessionsAsync("    http-reuse never", 2), Is.EqualTo((0, 2)));

    [Test]
    public async Task Always_AFirstRequestTakesAPooledConnection() =>
        Assert.That(await TwoSessionsAsync("    http-reuse always", 1), Is.EqualTo((1, 1)));

    [Test]
    public async Task Aggressive_AFirstRequestTakesOnlyAConnectionAlreadyReused()
    {
        Assert.That(await TwoSessionsAsync("    http-reuse aggressive", 1), Is.EqualTo((1, 2)), "used once: not proven");
        Assert.That(await TwoSessionsAsync("    http-reuse aggressive", 2), Is.EqualTo((1, 1)), "reused by its session: proven");
    }

    [TestCase("http-reuse sometimes", "'http-reuse' expects 'never', 'safe', 'aggressive' or 'always'")]
    [TestCase("http-reuse", "http-reuse never|safe|aggressive|always")]
    public void InvalidLines_AreErrorsNamingTheKeyword(string line, string message)
    {
        var result = Proxy.Shared.Config.ConfigLoader.Parse($"defaults\n    mode http\nbackend be\n    {line}\n    server a 127.0.0.1:80\n", "t.cfg");
        Assert.That(result.Errors.Select(e => e.ToString()), Has.Some.Contains(message).And.Some.Contains("t.cfg:4"));
    }

    [Test]
    public void Frontend_WarnsThatHttpReuseHasNoEffect_DefaultsPassItOn()
    {
        // HAProxy 2.6: "'http-reuse' ignored because frontend 'fe' has no backend capability" (a warning).
        var ignored = Proxy.Shared.Config.ConfigLoader.Parse("frontend fe\n    bind :80\n    http-reuse always\n", "t.cfg");
        Assert.That(ignored.Warnings.Select(w => w.ToString()), Has.Some.Contains("http-reuse").And.Some.Contains("t.cfg:3"));
        var inherited = Proxy.Shared.Config.ConfigLoader.Parse("defaults\n    mode http\n    http-reuse never\nbackend be\n    server a 127.0.0.1:80\n", "t.cfg");
        Assert.That(inherited.Errors, Is.Empty);
        Assert.That(inherited.Config!.Backends[0].HttpReuse, Is.EqualTo(Proxy.Shared.Config.HttpReuseMode.Never));
    }
}
