using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Issue 18's leftovers through the real supervisor and one worker, one instance: `global set-var|set-var-fmt` (3.1)
/// read by a rule, set-var conditions (2.6) on the actions and the converter, and `use_backend` with a log-format
/// name (4.2), an unknown name falling to the default backend; `http-request set-dst|set-dst-port` seen by `dst`,
/// `%fi:%fp` and a port-less server; `http-after-response` on the stats page and the Prometheus exporter; `dresp` counting an `http-response deny`. The same
/// config passes `haproxy -c`, and HAProxy 2.6 answers these requests alike.
/// </summary>
[TestFixture]
public sealed class RuleLeftoversEndToEndTests
{
    private OriginProcess _a = null!;
    private OriginProcess _b = null!;
    private ProxyInstance _proxy = null!;
    private int _port;

    private string ConfigText => $$"""
        defaults plain
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
        frontend web from plain
            bind 127.0.0.1:{{_port}}
            stats uri /stats
            http-request use-service prometheus-exporter if { path /metrics }
            http-after-response set-header X-After %[var(proc.prio)]
            http-request set-dst-port int({{_b.Port}}) if { path /to-port }
            http-request set-dst req.hdr(x-dst) if { req.hdr(x-dst) -m found }
            http-request return status 200 content-type text/plain lf-string "dst=%[dst]:%[dst_port] fi=%fi:%fp" if { path /dst }
            http-request set-var(txn.first,ifnotempty) req.hdr(x-first)
            http-request set-var(txn.first,ifnotset) str(unset)
            http-request set-var(txn.low,ifgt) req.hdr(x-n,1),add(0) if { req.hdr(x-n) -m found }
            http-request set-var(txn.low,ifgt) int(50)
            http-request set-var(txn.seen) req.hdr(x-n),set-var(txn.conv,ifnotempty)
            http-request return status 200 content-type text/plain lf-string "t=%[var(proc.threshold)] b=%[var(proc.boot)] f=%[var(txn.first)] low=%[var(txn.low)] c=%[var(txn.conv,none)]" if { path /vars }
            use_backend be_port if { path /to-port }
            use_backend be_%[req.hdr(x-to),lower] if { req.hdr(x-to) -m found }
            default_backend be_a
        backend be_a from plain
            server o1 127.0.0.1:{{_a.Port}}
        backend be_b from plain
            http-response deny if { path /denied }
            server o2 127.0.0.1:{{_b.Port}}
        backend be_port from plain
            server o3 127.0.0.1
        """;

    private const string Variables = """
            set-var proc.prio int(100)
            set-var proc.threshold int(200),sub(proc.prio)
            set-var-fmt proc.boot "b-%pid"

        """;

    [OneTimeSetUp]
    public void Start()
    {
        _a = new OriginProcess("o1");
        _b = new OriginProcess("o2");
        _port = Ports.Free();
        _proxy = new ProxyInstance(ConfigText, global: "    nbproc 1\n" + Variables).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _a?.Dispose();
        _b?.Dispose();
    }

    private async Task<string> ExchangeAsync(string request) =>
        Encoding.ASCII.GetString(await TrafficLogTests.ExchangeAsync(_port, request));

    private static string Body(string response) => response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];

    private static string? Header(string response, string name) => response.Split("\r\n")
        .FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();

    [Test]
    public void Config_PassesHaproxyCheck() => HaproxyCheck.AssertAccepts("global\n" + Variables + ConfigText);   // no nbproc: 2.6 removed it

    [Test]
    public async Task GlobalVariables_ReadByRules_PidIsTheSupervisors()
    {
        var r = await ExchangeAsync("GET /vars HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(Body(r), Does.StartWith($"t=100 b=b-{_proxy.SupervisorPid} "));
    }

    [Test]
    public async Task SetVarConditions_DecideAsHaproxy()
    {
        var none = await ExchangeAsync("GET /vars HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(Body(none), Does.EndWith("f=unset low=50 c=none"), "ifnotempty: no header, so ifnotset sets the fallback");
        var given = await ExchangeAsync("GET /vars HTTP/1.1\r\nHost: x\r\nX-First: abc\r\nX-N: 70\r\nConnection: close\r\n\r\n");
        Assert.That(Body(given), Does.EndWith("f=abc low=50 c=70"), "ifnotset kept abc; ifgt: 70 > 50, so 50 replaced it");
        var higher = await ExchangeAsync("GET /vars HTTP/1.1\r\nHost: x\r\nX-N: 20\r\nConnection: close\r\n\r\n");
        Assert.That(Body(higher), Does.EndWith("f=unset low=20 c=20"), "ifgt: 20 is not greater than 50, so 20 stays");
    }

    [Test]
    public async Task UseBackend_LogFormatName_ResolvedPerRequest()
    {
        var b = await ExchangeAsync("GET / HTTP/1.1\r\nHost: x\r\nX-To: B\r\nConnection: close\r\n\r\n");
        Assert.That(Header(b, "X-Origin"), Is.EqualTo("o2"), "be_%[req.hdr(x-to),lower] named be_b");
        var unknown = await ExchangeAsync("GET / HTTP/1.1\r\nHost: x\r\nX-To: nowhere\r\nConnection: close\r\n\r\n");
        Assert.That(Header(unknown, "X-Origin"), Is.EqualTo("o1"), "an unknown name falls to default_backend");
        var plain = await ExchangeAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(Header(plain, "X-Origin"), Is.EqualTo("o1"));
    }

    [Test]
    public async Task SetDst_SeenByDstAndLog_AndAPortlessServerConnectsToTheNewPort()
    {
        var moved = await ExchangeAsync("GET /dst HTTP/1.1\r\nHost: x\r\nX-Dst: 10.1.2.3\r\nConnection: close\r\n\r\n");
        Assert.That(Body(moved), Is.EqualTo($"dst=10.1.2.3:{_port} fi=10.1.2.3:{_port}"), "set-dst keeps the port");
        var kept = await ExchangeAsync("GET /dst HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(Body(kept), Is.EqualTo($"dst=127.0.0.1:{_port} fi=127.0.0.1:{_port}"));
        var ported = await ExchangeAsync("GET /to-port HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(Header(ported, "X-Origin"), Is.EqualTo("o2"), "server o3 127.0.0.1 (no port) connects to the rewritten destination port");
    }

    [TestCase("/stats;csv")]
    [TestCase("/metrics")]
    public async Task AfterResponseRules_ApplyToStatsAndPrometheusAnswers(string path)
    {
        var r = await ExchangeAsync($"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(r, Does.StartWith("HTTP/1.1 200"));
        Assert.That(Header(r, "X-After"), Is.EqualTo("100"), "http-after-response applies to the proxy's applets (2.6)");
    }

    [Test]
    public async Task HttpResponseDeny_CountedInDresp_OnFrontendBackendAndServer()
    {
        var denied = await ExchangeAsync("GET /denied HTTP/1.1\r\nHost: x\r\nX-To: b\r\nConnection: close\r\n\r\n");
        Assert.That(denied, Does.StartWith("HTTP/1.1 502"));
        var csv = Body(await ExchangeAsync("GET /stats;csv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).Split('\n');
        int column = Array.IndexOf(csv[0][2..].Split(','), "dresp");
        string Cell(string proxy, string name) => csv.Single(l => l.StartsWith($"{proxy},{name},", StringComparison.Ordinal)).Split(',')[column];
        Assert.That((Cell("web", "FRONTEND"), Cell("be_b", "BACKEND"), Cell("be_b", "o2"), Cell("be_a", "BACKEND")),
            Is.EqualTo(("1", "1", "1", "0")));
    }
}
