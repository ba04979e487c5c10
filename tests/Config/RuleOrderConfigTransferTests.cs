using System.Text.Json;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// What the workers need of `http-after-response`, `http-reuse`, `tcp-response`, the rules' places in the file (an `allow` ends the
/// header rules written after it) and the regexes' match timeout reaches them through WorkerInit's JSON.
/// </summary>
public sealed class RuleOrderConfigTransferTests
{
    private static ProxyConfig RoundTrip(ProxyConfig config)
    {
        var init = new WorkerInit(0, 1, [0], config, [], "/board", 3, [], RunsHealthChecks: false, DownServers: []);
        var json = JsonSerializer.SerializeToUtf8Bytes(init, ControlJsonContext.Default.WorkerInit);
        return JsonSerializer.Deserialize(json, ControlJsonContext.Default.WorkerInit)!.Config;
    }

    [Test]
    public void AfterResponseRules_Reuse_RuleLocations_AndRegexTimeouts_Survive()
    {
        var back = RoundTrip(ParseValid("""
            defaults
                mode http
            frontend fe
                bind :8080
                http-request allow if { src 10.0.0.0/8 }
                http-request replace-header X-A ^(a|aa)+$ b
                http-after-response set-header X-After 1
                http-after-response set-status 299 if { status 200 }
                default_backend be
            backend be
                http-reuse always
                server a 127.0.0.1:80
            backend tcpbe
                mode tcp
                tcp-response inspect-delay 2s
                tcp-response content reject if { res.payload(0,3) -m str BAD }
                server a 127.0.0.1:80
            """));

        var fe = back.Frontends[0].Http;
        Assert.That(back.Backends[0].HttpReuse, Is.EqualTo(HttpReuseMode.Always));
        Assert.That(fe.AfterResponseRules.Single().Name, Is.EqualTo("X-After"));
        Assert.That(fe.AfterResponseActions.Single().Status, Is.EqualTo(299));
        Assert.That(fe.ResponseRules, Is.Empty, "the after-response rules are theirs alone");
        Assert.That(fe.RequestRules.Single().Location.Line, Is.GreaterThan(fe.RequestActions.Single().Location.Line));
        Assert.That(fe.RequestRules.Single().Pattern!.MatchTimeout, Is.EqualTo(RegexLimits.MatchTimeout));
        var tcp = back.FindBackend("tcpbe")!;
        Assert.That((tcp.ResponseInspectDelay, tcp.TcpResponseRules.Single().Action), Is.EqualTo(((TimeSpan?)TimeSpan.FromSeconds(2), TcpResponseAction.Reject)));
        Assert.That(tcp.TcpResponseRules[0].Condition!.AnyOf[0][0].Acls[0].Expr.Fetch.Kind, Is.EqualTo(SampleFetchKind.ResPayload));
    }
}
