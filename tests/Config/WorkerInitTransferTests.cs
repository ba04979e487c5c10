using System.Net;
using System.Text.Json;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// The model the supervisor parsed travels whole to the workers (WorkerInit.Config, source-generated JSON): what a
/// worker reads back is the same model, with the supervisor's resolved addresses and file contents.
/// </summary>
[TestFixture]
public sealed class WorkerInitTransferTests
{
    private string _dir = "";

    [SetUp]
    public void CreateFiles() => _dir = Directory.CreateTempSubdirectory("proxy-transfer-").FullName;

    [TearDown]
    public void DeleteFiles() => Directory.Delete(_dir, recursive: true);

    private ProxyConfig RichConfig()
    {
        string errorFile = Path.Combine(_dir, "503.http");
        File.WriteAllBytes(errorFile, "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nbusy\xff\n"u8.ToArray());
        string returnFile = Path.Combine(_dir, "ok.txt");
        File.WriteAllText(returnFile, "fine\n");
        return ParseValid(Lines(
            "global",
            "    maxconn 1000",
            "    nbproc 2",
            "    cpu-map auto:1-2 0-1",
            "    stats socket /tmp/x.sock mode 660 level admin",
            "    log stdout format raw local0 info",
            "    hard-stop-after 3s",
            "    nosplice",
            "defaults",
            "    mode http",
            AllTimeouts.TrimEnd('\n'),
            "    timeout http-request 4s",
            "frontend fe",
            "    bind 127.0.0.1:8080,[::1]:8081",
            "    bind :9000-9001",
            "    option forwardfor except 10.0.0.0/8 header X-Client",
            "    option httplog",
            "    log global",
            "    acl api path_beg /api",
            "    acl internal src 10.0.0.0/8 192.168.1.1",
            "    acl re path_reg ^/x[0-9]+$",
            "    http-request set-header X-A b if api !internal || re",
            "    http-request deny deny_status 429 if { hdr(x-bad) -i yes }",
            $"    http-request return status 200 content-type text/plain file {returnFile} if {{ path /ok }}",
            "    http-request redirect prefix /new code 301 drop-query if { path_beg /old }",
            "    use_backend be if api",
            "    default_backend be",
            "backend be",
            "    balance uri len 10 depth 2 whole",
            "    hash-type consistent djb2 avalanche",
            $"    errorfile 503 {errorFile}",
            "    option httpchk",
            "    http-check send meth GET uri /hc ver HTTP/1.1 hdr Host example.com",
            "    http-check expect status 200-299,304",
            "    http-check expect rstring ok$",
            "    option redispatch",
            "    retries 3",
            "    server s1 app.internal:80 check inter 1s fastinter 200ms port 81 addr 10.0.0.6 observe layer7 error-limit 5 on-error mark-down",
            "    server s2 v6.internal:80 weight 3 maxconn 7 backup",
            "backend tcpbe",
            "    mode tcp",
            "    option splice-auto",
            "    server t1 127.0.0.1:9 disabled"));
    }

    private static WorkerInit RoundTrip(WorkerInit init) =>
        JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(init, ControlJsonContext.Default.WorkerInit),
            ControlJsonContext.Default.WorkerInit)!;

    private static WorkerInit InitFor(ProxyConfig config) =>
        new(0, 1, [0], config, [new ListenerRef("fe", "127.0.0.1:8080")], "/board", 3, [], RunsHealthChecks: true, DownServers: ["be/s1"])
        { Workers = 2 };

    [Test]
    public void RoundTrip_RichConfig_SerializesToTheSameJsonAgain()
    {
        var init = InitFor(RichConfig());
        var json = JsonSerializer.Serialize(init, ControlJsonContext.Default.WorkerInit);
        var back = RoundTrip(init);
        Assert.That(JsonSerializer.Serialize(back, ControlJsonContext.Default.WorkerInit), Is.EqualTo(json));
        Assert.That(back.Workers, Is.EqualTo(2));
        Assert.That(back.DownServers, Is.EqualTo(new[] { "be/s1" }));
    }

    [Test]
    public void RoundTrip_ResolvedServerAddresses_AreTheSupervisorsNotResolvedAgain()
    {
        var back = RoundTrip(InitFor(RichConfig())).Config;
        var be = back.FindBackend("be")!;
        Assert.That(be.Servers[0].EndPoint, Is.EqualTo(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 80)));
        Assert.That(be.Servers[0].Host, Is.EqualTo("app.internal"));
        Assert.That(be.Servers[1].EndPoint, Is.EqualTo(new IPEndPoint(IPAddress.Parse("fd00::5"), 80)));
        Assert.That(be.Servers[0].CheckSettings.Address, Is.EqualTo(IPAddress.Parse("10.0.0.6")));
        Assert.That(be.Servers[0].CheckSettings.Port, Is.EqualTo(81));
        Assert.That(be.Servers[0].CheckSettings.FastInter, Is.EqualTo(TimeSpan.FromMilliseconds(200)));
        Assert.That(be.Servers[0].CheckSettings.OnError, Is.EqualTo(OnErrorAction.MarkDown));
        Assert.That(be.Servers[1].Backup, Is.True);
        Assert.That(back.FindBackend("tcpbe")!.Servers[0].Disabled, Is.True);
        Assert.That(back.Frontends[0].Binds.Select(b => b.Key), Is.EqualTo(new[] { "127.0.0.1:8080", "[::1]:8081", "0.0.0.0:9000", "0.0.0.0:9001" }));
    }

    [Test]
    public void RoundTrip_FileContents_TravelAsBytes()
    {
        var back = RoundTrip(InitFor(RichConfig())).Config;
        Assert.That(back.FindBackend("be")!.Http.ErrorFiles[503],
            Is.EqualTo("HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nbusy\xff\n"u8.ToArray()));
        var ret = back.Frontends[0].Http.RequestActions.Single(a => a.Kind == HttpRequestActionKind.Return);
        Assert.That(ret.Body, Is.EqualTo("fine\n"u8.ToArray()));
        Assert.That(ret.ContentType, Is.EqualTo("text/plain"));
    }

    [Test]
    public void RoundTrip_ConditionsChecksAndOptions_Survive()
    {
        var back = RoundTrip(InitFor(RichConfig())).Config;
        var fe = back.Frontends[0];
        Assert.That(fe.Http.ForwardFor!.Except, Is.EqualTo(IPNetwork.Parse("10.0.0.0/8")));
        Assert.That(fe.Http.ForwardFor.HeaderName, Is.EqualTo("X-Client"));
        var rule = fe.Http.RequestRules.Single();
        Assert.That(rule.Condition!.AnyOf, Has.Count.EqualTo(2));
        Assert.That(rule.Condition.AnyOf[0][1].Negated, Is.True);
        Assert.That(rule.Condition.AnyOf[0][1].Acls[0].Values, Is.EqualTo(new[] { "10.0.0.0/8", "192.168.1.1" }));
        Assert.That((rule.Condition.AnyOf[0][1].Acls[0].Match, rule.Condition.AnyOf[0][1].Acls[0].Expr.Fetch.Kind), Is.EqualTo((PatternMatch.Ip, SampleFetchKind.Src)));
        Assert.That(rule.Condition.AnyOf[1][0].Acls[0].Values, Is.EqualTo(new[] { "^/x[0-9]+$" }));
        Assert.That(fe.Http.UseBackends.Single().Backend, Is.EqualTo("be"));
        var redirect = fe.Http.RequestActions.Single(a => a.Kind == HttpRequestActionKind.Redirect);
        Assert.That((redirect.Status, redirect.Redirect, redirect.Target, redirect.DropQuery), Is.EqualTo((301, RedirectKind.Prefix, "/new", true)));

        var be = back.FindBackend("be")!;
        var check = be.HttpCheck!;
        Assert.That(check.Headers, Is.EqualTo(new[] { ("Host", "example.com") }));
        Assert.That(check.Expects[0].Statuses, Is.EqualTo(new[] { (200, 299), (304, 304) }));
        Assert.That(check.Expects[1].Regex!.IsMatch("all ok"), Is.True);
        Assert.That(check.Expects[1].Regex!.MatchTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(100)));
        Assert.That(be.BalanceOptions, Is.EqualTo(RichConfig().FindBackend("be")!.BalanceOptions));
        Assert.That(be.Timeouts, Is.EqualTo(RichConfig().FindBackend("be")!.Timeouts));
        Assert.That(back.FindBackend("tcpbe")!.Splice, Is.EqualTo(SpliceDirections.Both));
        Assert.That(back.Global.NoSplice, Is.True);
        Assert.That(back.Global.CpuMaps.Single().Cpus, Is.EqualTo(new[] { 0, 1 }));
        Assert.That(back.Global.StatsSocket, Is.EqualTo(RichConfig().Global.StatsSocket));
        Assert.That(back.Global.HardStopAfter, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(fe.Logs.Single().Target, Is.EqualTo("stdout"));
        Assert.That(fe.LogFormat, Is.EqualTo(TrafficLogFormat.Http));
    }
}
