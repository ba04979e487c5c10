using System.Diagnostics;
using System.Net.Sockets;
using NLog.Config;
using NLog.Targets;
using NUnit.Framework;
using Proxy.Shared.Stats;
using Proxy.Worker.Balancing;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// Active HTTP/TCP checks and passive `observe` in one engine, with real servers on 127.0.0.1: states, timing
/// (fall x inter), traffic avoidance, HAProxy's log lines and the check figures behind `show stat`.
/// </summary>
[NonParallelizable]
[TestFixture]
public sealed class HealthCheckTests
{
    /// <summary>An HTTP origin whose /health answers <see cref="HealthStatus"/> with <see cref="HealthBody"/>; / answers <see cref="RootStatus"/>.</summary>
    private sealed class HealthOrigin : IAsyncDisposable
    {
        private readonly HttpOrigin _origin;
        private int _healthChecks, _requests;

        public HealthOrigin(string name)
        {
            _origin = new HttpOrigin(name, req =>
            {
                if (req.StartLine.Split(' ')[1] == "/health")
                {
                    Interlocked.Increment(ref _healthChecks);
                    return HttpOrigin.Response(HealthStatus, HealthBody);
                }
                Interlocked.Increment(ref _requests);
                return HttpOrigin.Response(RootStatus, $"hello from {name}", ("X-Origin", name));
            });
        }

        public volatile int HealthStatus = 200;
        public volatile string HealthBody = "ok";
        public volatile int RootStatus = 200;
        public int HealthChecks => Volatile.Read(ref _healthChecks);
        public int Requests => Volatile.Read(ref _requests);
        public int Port => _origin.EndPoint.Port;
        public List<(int Connection, HttpMessage Request)> Received => _origin.Requests;
        public ValueTask DisposeAsync() => _origin.DisposeAsync();
    }

    private static string Config(string backendLines, string servers, string mode = "http") => $"""
        defaults
            mode {mode}
            timeout connect 1s
            timeout client 10s
            timeout server 10s
            timeout check 2s
        frontend fe
            bind BIND
            default_backend be
        backend be
        {backendLines}
        {servers}
        """;

    private static (NLog.ILogger, MemoryTarget) MemoryLog() => ProxyEngineTests.MemoryLog();

    private static async Task<long> WaitUntilAsync(Func<bool> condition, int timeoutMs = 5000, string what = "condition")
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.ElapsedMilliseconds > timeoutMs) Assert.Fail($"{what} not reached in {timeoutMs} ms");
            await Task.Delay(10);
        }
        return watch.ElapsedMilliseconds;
    }

    private static async Task<HttpMessage> GetAsync(EngineHarness proxy, string path = "/")
    {
        using var s = await proxy.ConnectAsync();
        await HttpTestKit.SendAsync(s, $"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        return (await new HttpReader(s).ReadAsync(isResponse: true))!;
    }

    private static ServerRuntime Server(EngineHarness proxy, string name) => proxy.Engine.Backends[0].Servers.Single(s => s.Name == name);

    [Test]
    public async Task Httpchk_503GoesDownWithinFallTimesInter_GetsNoTraffic_ThenBackAfterRise()
    {
        var (log, memory) = MemoryLog();
        await using var a = new HealthOrigin("a");
        await using var b = new HealthOrigin("b");
        await using var proxy = HttpTestKit.StartFromText(Config("    option httpchk GET /health",
            $"    server a 127.0.0.1:{a.Port} check inter 100ms rise 2 fall 3\n    server b 127.0.0.1:{b.Port} check inter 100ms"), log);
        var sa = Server(proxy, "a");
        await WaitUntilAsync(() => sa.CheckStats.LastStatus == CheckStatusCode.L7Ok && sa.CheckStats.Health == 4, what: "a checked healthy");
        Assert.That(sa.CheckStats.LastCode, Is.EqualTo(200));
        var check = a.Received.First(r => r.Request.StartLine.Contains("/health")).Request;
        Assert.That(check.StartLine, Is.EqualTo("GET /health HTTP/1.0"));
        Assert.That(check.Header("Connection"), Is.EqualTo("close"));

        a.HealthStatus = 503;
        long downMs = await WaitUntilAsync(() => !sa.IsUp, what: "a DOWN");
        Assert.That(downMs, Is.LessThan(3 * 100 + 700), "fall x inter plus slack");
        Assert.That(sa.CheckStats.LastStatus, Is.EqualTo(CheckStatusCode.L7Sts));
        Assert.That(sa.CheckStats.FailedChecks, Is.EqualTo(3));
        Assert.That(sa.CheckStats.Downs, Is.EqualTo(1));
        int before = a.Requests;
        for (int i = 0; i < 6; i++) Assert.That((await GetAsync(proxy)).Header("X-Origin"), Is.EqualTo("b"));
        Assert.That(a.Requests, Is.EqualTo(before), "a DOWN server receives no traffic");

        a.HealthStatus = 200;
        await WaitUntilAsync(() => sa.IsUp, what: "a back UP");
        var seen = new HashSet<string?>();
        for (int i = 0; i < 4; i++) seen.Add((await GetAsync(proxy)).Header("X-Origin"));
        Assert.That(seen, Is.EquivalentTo(new[] { "a", "b" }));
        Assert.That(memory.Logs, Has.Some.Matches<string>(l => l.StartsWith("Server be/a is DOWN, reason: Layer7 wrong status, code: 503, info: \"X\", check duration: ")
            && l.EndsWith("ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.")));
        Assert.That(memory.Logs, Has.Some.Matches<string>(l => l.StartsWith("Server be/a is UP, reason: Layer7 check passed, code: 200, info: \"X\", check duration: ")
            && l.EndsWith("ms. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.")));
    }

    [Test]
    public async Task HttpCheckExpectStatus204_OnlyA204Passes()
    {
        await using var ok = new HealthOrigin("ok") { HealthStatus = 204 };
        await using var bad = new HealthOrigin("bad") { HealthStatus = 200 };
        await using var proxy = HttpTestKit.StartFromText(Config("    option httpchk\n    http-check send meth GET uri /health ver HTTP/1.1 hdr Host app.example\n    http-check expect status 204",
            $"    server ok 127.0.0.1:{ok.Port} check inter 100ms fall 1\n    server bad 127.0.0.1:{bad.Port} check inter 100ms fall 1"));
        var sOk = Server(proxy, "ok");
        var sBad = Server(proxy, "bad");
        await WaitUntilAsync(() => !sBad.IsUp, what: "bad DOWN");
        await WaitUntilAsync(() => sOk.CheckStats.LastStatus == CheckStatusCode.L7Ok, what: "ok checked");
        Assert.That(sOk.IsUp, Is.True);
        Assert.That(sBad.CheckStats.LastStatus, Is.EqualTo(CheckStatusCode.L7Sts));
        Assert.That(sBad.CheckStats.LastCode, Is.EqualTo(200));
        var sent = ok.Received.First().Request;
        Assert.That(sent.StartLine, Is.EqualTo("GET /health HTTP/1.1"));
        Assert.That(sent.Header("Host"), Is.EqualTo("app.example"));
    }

    [Test]
    public async Task HttpCheckExpectString_MatchesTheBody()
    {
        await using var ready = new HealthOrigin("ready") { HealthBody = "state: ready" };
        await using var starting = new HealthOrigin("starting") { HealthBody = "state: starting" };
        await using var proxy = HttpTestKit.StartFromText(Config("    option httpchk GET /health\n    http-check expect string ready",
            $"    server ready 127.0.0.1:{ready.Port} check inter 100ms fall 1\n    server starting 127.0.0.1:{starting.Port} check inter 100ms fall 1"));
        var sStarting = Server(proxy, "starting");
        await WaitUntilAsync(() => !sStarting.IsUp, what: "starting DOWN");
        Assert.That(sStarting.CheckStats.LastStatus, Is.EqualTo(CheckStatusCode.L7Rsp));
        var sReady = Server(proxy, "ready");
        await WaitUntilAsync(() => sReady.CheckStats.LastStatus == CheckStatusCode.L7Ok, what: "ready checked");
        Assert.That(sReady.IsUp, Is.True);
        // And the other way round: the body changes, the server follows.
        starting.HealthBody = "state: ready";
        await WaitUntilAsync(() => sStarting.IsUp, what: "starting UP");
    }

    [Test]
    public async Task KilledServer_DownWithinFallTimesInter_GetsNothing_BackAfterRise()
    {
        var (log, memory) = MemoryLog();
        var one = TestServer.Identify(1);
        var ep = one.EndPoint;
        await using var two = TestServer.Identify(2);
        await using var proxy = EngineHarness.Start(
            [TcpTestKit.Server("s1", ep, check: true, interMs: 100, rise: 2, fall: 2), TcpTestKit.Server("s2", two.EndPoint, check: true, interMs: 100)],
            log: log);
        var s1 = Server(proxy, "s1");
        await WaitUntilAsync(() => s1.CheckStats.Health == 3, what: "s1 fully up");
        await one.DisposeAsync();
        long downMs = await WaitUntilAsync(() => !s1.IsUp, what: "s1 DOWN");
        Assert.That(downMs, Is.LessThan(2 * 100 + 700));
        Assert.That(s1.CheckStats.LastStatus, Is.EqualTo(CheckStatusCode.L4Con));
        for (int i = 0; i < 6; i++)
        {
            using var c = await proxy.ConnectAsync();
            Assert.That(await ReadToEndAsync(c), Is.EqualTo(new byte[] { 2 }));
        }
        await using (var again = TestServer.Identify(1, ep))
        {
            long upMs = await WaitUntilAsync(() => s1.IsUp, what: "s1 UP again");
            Assert.That(upMs, Is.LessThan(2 * 100 + 700), "rise x inter plus slack");
            Assert.That(s1.CheckStats.LastStatus, Is.EqualTo(CheckStatusCode.L4Ok));
        }
        Assert.That(memory.Logs, Has.Some.StartsWith("Server be/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: "));
        Assert.That(memory.Logs, Has.Some.StartsWith("Server be/s1 is UP, reason: Layer4 check passed, check duration: "));
    }

    [Test]
    public async Task EveryServerDown_Http_503AtOnce()
    {
        await using var a = new HealthOrigin("a") { HealthStatus = 500 };
        await using var proxy = HttpTestKit.StartFromText(Config("    option httpchk GET /health", $"    server a 127.0.0.1:{a.Port} check inter 100ms fall 1"));
        await WaitUntilAsync(() => !Server(proxy, "a").IsUp, what: "a DOWN");
        var watch = Stopwatch.StartNew();
        var response = await GetAsync(proxy);
        Assert.That(response.Status, Is.EqualTo(503));
        Assert.That(watch.ElapsedMilliseconds, Is.LessThan(500));
        Assert.That(a.Requests, Is.Zero);
    }

    [Test]
    public async Task EveryServerDown_Tcp_ConnectionClosed()
    {
        var server = TestServer.Identify(1);
        await using var proxy = EngineHarness.Start([TcpTestKit.Server("s1", server.EndPoint, check: true, interMs: 100, rise: 1, fall: 1)]);
        await server.DisposeAsync();
        await WaitUntilAsync(() => !Server(proxy, "s1").IsUp, what: "s1 DOWN");
        var watch = Stopwatch.StartNew();
        using var c = await proxy.ConnectAsync();
        Assert.That(await ReadToEndAsync(c), Is.Empty);
        Assert.That(watch.ElapsedMilliseconds, Is.LessThan(500));
    }

    [Test]
    public async Task PortAndAddr_CheckGoesThere()
    {
        // The server's own port has nothing: only a check sent to `addr`:`port` can find it healthy.
        await using var health = new HealthOrigin("health");
        var dead = DeadEndPoint();
        await using var proxy = HttpTestKit.StartFromText(Config("    option httpchk GET /health",
            $"    server s1 127.0.0.1:{dead.Port} check inter 100ms rise 1 fall 1 addr 127.0.0.1 port {health.Port}"));
        var s1 = Server(proxy, "s1");
        await WaitUntilAsync(() => s1.CheckStats.LastStatus == CheckStatusCode.L7Ok && health.HealthChecks >= 2, what: "checks on the check port");
        Assert.That(s1.IsUp, Is.True);
    }

    [Test]
    public async Task Downinter_SlowsChecksOfADownServer_FastinterSpeedsTransitions()
    {
        await using var down = new HealthOrigin("down") { HealthStatus = 503 };
        await using var up = new HealthOrigin("up");
        await using var proxy = HttpTestKit.StartFromText(Config("    option httpchk GET /health",
            $"    server down 127.0.0.1:{down.Port} check inter 100ms downinter 1500ms fall 1\n"
            + $"    server up 127.0.0.1:{up.Port} check inter 20s fastinter 100ms rise 2 fall 3"));
        await WaitUntilAsync(() => !Server(proxy, "down").IsUp, what: "down DOWN");
        int atDown = down.HealthChecks;
        // `up` starts at health rise (2 of 4, "UP 1/3"): its first check comes within fastinter, not inter (20 s), and
        // one success takes it to full health (HAProxy jumps to rise+fall-1), after which inter applies.
        await WaitUntilAsync(() => Server(proxy, "up").CheckStats.Health == 4, 1500, "up fully healthy on fastinter");
        await Task.Delay(1000);
        Assert.That(down.HealthChecks - atDown, Is.InRange(0, 2), "downinter 1.5s, not inter 100ms, while DOWN");
        Assert.That(up.HealthChecks, Is.EqualTo(1), "inter 20s once fully up");
    }

    [Test]
    public async Task ObserveLayer7_500sToRealTraffic_MarkDown_ThenActiveCheckBringsItBack()
    {
        var (log, memory) = MemoryLog();
        await using var a = new HealthOrigin("a") { RootStatus = 500 };
        await using var spare = new HealthOrigin("spare");
        await using var proxy = HttpTestKit.StartFromText(Config("    option httpchk GET /health",
            $"    server a 127.0.0.1:{a.Port} check inter 300ms rise 2 fall 3 observe layer7 error-limit 3 on-error mark-down\n"
            + $"    server spare 127.0.0.1:{spare.Port} backup"), log);
        var sa = Server(proxy, "a");
        for (int i = 0; i < 3; i++) Assert.That((await GetAsync(proxy)).Status, Is.EqualTo(500));
        await WaitUntilAsync(() => !sa.IsUp, 2000, "a marked DOWN by the passive check");
        Assert.That(sa.CheckStats.PassiveActions, Is.EqualTo(1));
        Assert.That(sa.CheckStats.Downs, Is.EqualTo(1));
        Assert.That((await GetAsync(proxy)).Header("X-Origin"), Is.EqualTo("spare"));
        // No check duration: no check ran (HAProxy omits it for a passive action).
        Assert.That(memory.Logs, Has.Some.Matches<string>(l => l.StartsWith(
            "Server be/a is DOWN, reason: Health analyze, info: \"Detected 3 consecutive errors, last one was: Wrong http response\". 0 active and 1 backup servers left. ")));
        // /health still answers 200: `rise` checks bring it back.
        await WaitUntilAsync(() => sa.IsUp, 3000, "a UP again through the active check");
    }

    [Test]
    public async Task OnErrorFastinter_BringsTheNextCheckForward_WithoutFailingIt()
    {
        await using var a = new HealthOrigin("a") { RootStatus = 502 };
        // fall 1: full health from the start, so the checks run every inter (60 s) until the passive error.
        await using var proxy = HttpTestKit.StartFromText(Config("    option httpchk GET /health",
            $"    server a 127.0.0.1:{a.Port} check inter 60s fastinter 100ms fall 1 observe layer7 error-limit 1 on-error fastinter"));
        var sa = Server(proxy, "a");
        int before = a.HealthChecks;
        Assert.That((await GetAsync(proxy)).Status, Is.EqualTo(502));
        await WaitUntilAsync(() => a.HealthChecks > before, 1500, "a check at fastinter after the passive error");
        Assert.That(sa.IsUp, Is.True);
        Assert.That(sa.CheckStats.PassiveActions, Is.EqualTo(1));
        Assert.That(sa.CheckStats.FailedChecks, Is.Zero);
    }

    [Test]
    public async Task ObserveLayer7_SuccessesResetTheCount_And501IsNoError()
    {
        await using var a = new HealthOrigin("a");
        await using var proxy = HttpTestKit.StartFromText(Config("    option httpchk GET /health",
            $"    server a 127.0.0.1:{a.Port} check inter 5s observe layer7 error-limit 2 on-error mark-down"));
        var sa = Server(proxy, "a");
        for (int i = 0; i < 3; i++)
        {
            a.RootStatus = 503;
            await GetAsync(proxy);
            a.RootStatus = 200;
            await GetAsync(proxy);
        }
        a.RootStatus = 501;
        for (int i = 0; i < 3; i++) await GetAsync(proxy);
        await Task.Delay(200);
        Assert.That(sa.IsUp, Is.True);
        Assert.That(sa.CheckStats.PassiveActions, Is.Zero);
    }

    [Test]
    public async Task ObserveLayer4_ConnectFailures_FailCheck_CostHealth()
    {
        // fail-check (the default): each time the limit is reached, one simulated failed check.
        var dead = DeadEndPoint();
        await using var proxy = HttpTestKit.StartFromText(Config("",
            $"    server a 127.0.0.1:{dead.Port} check inter 100s rise 1 fall 2 observe layer4 error-limit 1", mode: "tcp"));
        var sa = Server(proxy, "a");
        Assert.That(sa.IsUp, Is.True);
        using (var c = await proxy.ConnectAsync()) await ReadToEndAsync(c);   // retries 3: 4 failed connects
        await WaitUntilAsync(() => !sa.IsUp, 2000, "a DOWN after simulated failed checks");
        Assert.That(sa.CheckStats.LastStatus, Is.EqualTo(CheckStatusCode.Hana));
    }
}
