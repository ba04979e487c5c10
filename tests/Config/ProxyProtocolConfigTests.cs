using System.Text.Json;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// PROXY protocol keywords: `bind ... accept-proxy` (5.1), `tcp-request connection expect-proxy layer4` (4.2), the server's
/// `send-proxy*`, `proxy-v2-options`, `check-send-proxy` (5.2) and global `pp2-never-send-local` (3.1).
/// </summary>
public class ProxyProtocolConfigTests
{
    [Test]
    public void AcceptProxy_AppliesToEveryAddressOfItsBindLineOnly()
    {
        var config = ParseValid(Lines("frontend f", "bind 127.0.0.1:80,127.0.0.1:81 accept-proxy", "bind 127.0.0.1:82", "default_backend b", "backend b"));
        Assert.That(config.Frontends[0].Binds.Select(b => b.AcceptProxy), Is.EqualTo(new[] { true, true, false }));
    }

    [Test]
    public void ExpectProxy_Unconditional_IsAcceptProxyOnEveryBind()
    {
        var config = ParseValid(Lines("frontend f", "bind :80", "bind :81", "tcp-request connection expect-proxy layer4", "default_backend b", "backend b"));
        Assert.That(config.Frontends[0].Binds.Select(b => b.AcceptProxy), Is.EqualTo(new[] { true, true }));
    }

    [Test]
    public void ExpectProxy_WithCondition_KeepsTheBindsAndCarriesTheCondition()
    {
        var config = ParseValid(Lines("frontend f", "mode tcp", "bind :80", "acl local src 127.0.0.1 10.0.0.0/8",
            "tcp-request connection expect-proxy layer4 if local || { src 192.0.2.1 }",
            "tcp-request connection expect-proxy layer4 unless TRUE", "default_backend b", "backend b", "mode tcp"));
        var fe = config.Frontends[0];
        Assert.That(fe.Binds.Select(b => b.AcceptProxy), Is.EqualTo(new[] { false }), "the header is not expected on every connection");
        Assert.That(fe.ExpectProxyConditions, Has.Count.EqualTo(2));
        var first = fe.ExpectProxyConditions[0];
        Assert.That((first.Unless, first.AnyOf.Count, first.AnyOf[0][0].Acls[0].Criterion, first.AnyOf[1][0].Acls[0].Criterion),
            Is.EqualTo((false, 2, "src", "src")));
        Assert.That(fe.ExpectProxyConditions[1].Unless, Is.True);
    }

    [Test]
    public void ExpectProxy_WithCondition_SurvivesTheWorkerModel()
    {
        var config = ParseValid(Lines("frontend f", "bind :80", "tcp-request connection expect-proxy layer4 unless { src 10.0.0.0/8 }", "default_backend b", "backend b"));
        var init = new WorkerInit(0, 1, [0], config, [new ListenerRef("f", "0.0.0.0:80")], "/board", 1, [], RunsHealthChecks: true, DownServers: []);
        var back = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(init, ControlJsonContext.Default.WorkerInit),
            ControlJsonContext.Default.WorkerInit)!.Config;
        var condition = back.Frontends[0].ExpectProxyConditions.Single();
        Assert.That((condition.Unless, condition.AnyOf[0][0].Acls[0].Values.Single(), condition.AnyOf[0][0].Acls[0].Expr.Fetch.Kind), Is.EqualTo((true, "10.0.0.0/8", SampleFetchKind.Src)));
    }

    [Test]
    public void ExpectProxy_Unconditional_WinsOverConditionalLines()
    {
        var config = ParseValid(Lines("frontend f", "bind :80", "tcp-request connection expect-proxy layer4 if { src 10.0.0.1 }",
            "tcp-request connection expect-proxy layer4", "default_backend b", "backend b"));
        Assert.That((config.Frontends[0].Binds[0].AcceptProxy, config.Frontends[0].ExpectProxyConditions.Count), Is.EqualTo((true, 0)));
    }

    [TestCase("acl p path_beg /api", "tcp-request connection expect-proxy layer4 if p", "ACL 'p' ('path_beg')")]
    [TestCase("acl l src 10.0.0.1", "tcp-request connection expect-proxy layer4 if l !{ hdr(host) x }", "anonymous ACL ('hdr(host)')")]
    [TestCase("acl l src 10.0.0.1", "tcp-request connection expect-proxy layer4 unless l or METH_GET", "ACL 'METH_GET' ('method')")]
    public void ExpectProxy_WithALayer7Acl_IsAnErrorNamingIt(string acl, string rule, string name)
    {
        var errors = ParseErrors(Lines("frontend f", "mode http", "bind :80", acl, rule));
        Assert.That(errors, Is.EqualTo(new[] { $"test.cfg:5: 'tcp-request connection expect-proxy layer4': {name} needs the HTTP request and cannot be evaluated at 'tcp-request connection' (only layer-4 fetches such as 'src', TRUE and FALSE can)" }));
    }

    [TestCase("tcp-request connection expect-proxy layer4 if nope", "test.cfg:3: 'tcp-request connection expect-proxy layer4': no ACL named 'nope' is declared before this line")]
    [TestCase("tcp-request connection expect-proxy layer4 if", "test.cfg:3: 'tcp-request connection expect-proxy layer4': missing condition after 'if'")]
    [TestCase("tcp-request connection expect-proxy layer4 when x", "test.cfg:3: 'tcp-request connection expect-proxy layer4': unexpected 'when', expected 'if' or 'unless'")]
    public void ExpectProxy_BadCondition_IsAnErrorAtItsLine(string line, string expected) =>
        Assert.That(ParseErrors(Lines("frontend f", "bind :80", line)), Is.EqualTo(new[] { expected }));

    [TestCase("tcp-request connection expect-proxy", "test.cfg:3: 'tcp-request connection expect-proxy': expected 'layer4' after it")]
    [TestCase("tcp-request content set-priority-class int(1)", "test.cfg:3: 'tcp-request content set-priority-class' is not supported yet (only accept, reject, capture, set-var, set-var-fmt, unset-var, set-dst, set-dst-port and track-sc0..2)")]
    [TestCase("tcp-request connection reject if { path /x }", "test.cfg:3: 'tcp-request connection reject': anonymous ACL ('path') needs the HTTP request and cannot be evaluated at 'tcp-request connection' (only layer-4 fetches such as 'src', TRUE and FALSE can)")]
    [TestCase("tcp-request connection reject unless { ssl_fc }", "test.cfg:3: 'tcp-request connection reject': anonymous ACL ('ssl_fc') needs the client's TLS session (known after the handshake) and cannot be evaluated at 'tcp-request connection' (only layer-4 fetches such as 'src', TRUE and FALSE can)")]
    [TestCase("tcp-request session accept", "test.cfg:3: 'tcp-request session accept' is not supported yet (only 'tcp-request connection expect-proxy layer4|accept|reject|set-dst|set-dst-port', 'tcp-request inspect-delay' and 'tcp-request content accept|reject|set-var|set-var-fmt|unset-var|set-dst|set-dst-port')")]
    public void TcpRequest_OtherForms_AreErrors(string line, string expected) =>
        Assert.That(ParseErrors(Lines("frontend f", "bind :80", line)), Is.EqualTo(new[] { expected }));

    [Test]
    public void TcpRequest_InABackend_IsAWarningWithoutEffect()
    {
        var result = Parse(Lines("backend b", "tcp-request connection expect-proxy layer4"));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.StartWith("test.cfg:2: 'tcp-request' has no effect in backend 'b'"));
    }

    [TestCase("send-proxy", true, false, ProxyV2Options.None)]
    [TestCase("send-proxy-v2", false, true, ProxyV2Options.None)]
    [TestCase("send-proxy-v2-ssl", false, true, ProxyV2Options.Ssl)]
    [TestCase("send-proxy-v2-ssl-cn", false, true, ProxyV2Options.Ssl | ProxyV2Options.CertCn)]
    [TestCase("send-proxy-v2 proxy-v2-options authority,crc32c,unique-id", false, true, ProxyV2Options.Authority | ProxyV2Options.Crc32C | ProxyV2Options.UniqueId)]
    [TestCase("send-proxy-v2 proxy-v2-options cert-key", false, true, ProxyV2Options.Ssl | ProxyV2Options.CertKey)]
    [TestCase("send-proxy send-proxy-v2", true, true, ProxyV2Options.None)]
    public void ServerOptions_SetTheProxyProtocol(string options, bool v1, bool v2, ProxyV2Options v2Options)
    {
        var pp = ParseValid(Lines("backend b", $"server s 127.0.0.1:80 {options}")).Backends[0].Servers[0].ProxyProtocol;
        Assert.That((pp.SendV1, pp.SendV2, pp.V2Options, pp.CheckSendProxy), Is.EqualTo((v1, v2, v2Options, false)));
    }

    [Test]
    public void DefaultServer_IsInherited_AndNoSendProxyTurnsItOff()
    {
        var servers = ParseValid(Lines("backend b", "default-server send-proxy-v2 check-send-proxy", "server a 127.0.0.1:80",
            "server c 127.0.0.1:81 no-send-proxy-v2")).Backends[0].Servers;
        Assert.That((servers[0].ProxyProtocol.SendV2, servers[0].ProxyProtocol.CheckSendProxy), Is.EqualTo((true, true)));
        Assert.That((servers[1].ProxyProtocol.SendV2, servers[1].ProxyProtocol.CheckSendProxy), Is.EqualTo((false, true)));
    }

    [Test]
    public void ProxyV2Options_UnknownName_IsAnErrorAtItsLine()
    {
        var errors = ParseErrors(Lines("backend b", "server s 127.0.0.1:80 send-proxy-v2 proxy-v2-options crc32c,bogus"));
        Assert.That(errors, Is.EqualTo(new[] { "test.cfg:2: 'server proxy-v2-options': unknown option 'bogus' (expected ssl, cert-cn, ssl-cipher, cert-sig, cert-key, authority, crc32c or unique-id)" }));
    }

    [Test]
    public void ProxyV2Options_WithoutV2_IsAWarning()
    {
        var result = Parse(Lines("backend b", "server s 127.0.0.1:80 send-proxy proxy-v2-options crc32c"));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Member("test.cfg:2: 'server': 'proxy-v2-options' has no effect without 'send-proxy-v2': ignored"));
    }

    [Test]
    public void Pp2NeverSendLocal_IsParsed()
    {
        Assert.That(ParseValid(Lines("global", "pp2-never-send-local")).Global.Pp2NeverSendLocal, Is.True);
        Assert.That(ParseValid(Lines("global")).Global.Pp2NeverSendLocal, Is.False);
    }

    [Test]
    public void Settings_SurviveTheTransferToWorkers()
    {
        var config = ParseValid(Lines("global", "pp2-never-send-local", "frontend f", "bind :80 accept-proxy", "default_backend b",
            "backend b", "server s 127.0.0.1:80 send-proxy-v2 proxy-v2-options crc32c check-send-proxy"));
        var init = new WorkerInit(0, 1, [0], config, [new ListenerRef("f", "0.0.0.0:80")], "/board", 1, [], RunsHealthChecks: true, DownServers: []);
        var back = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(init, ControlJsonContext.Default.WorkerInit),
            ControlJsonContext.Default.WorkerInit)!.Config;
        Assert.That(back.Global.Pp2NeverSendLocal, Is.True);
        Assert.That(back.Frontends[0].Binds[0].AcceptProxy, Is.True);
        Assert.That(back.Backends[0].Servers[0].ProxyProtocol, Is.EqualTo(config.Backends[0].Servers[0].ProxyProtocol));
    }
}
