using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>The `resolvers` section, the servers' DNS options, `init-addr` and `server-template` (5.3, 5.2, 4.2).</summary>
public class ResolversConfigTests
{
    // Line 1 is the first line given to Config(); the backend "be" follows the resolvers lines.
    private static string Config(string[] resolvers, params string[] backend) => Lines(
        [
            .. resolvers,
            "defaults",
            "    mode http",
            "    timeout connect 5s",
            "backend be",
            .. backend,
        ]);

    private static readonly string[] Dns = ["resolvers dns", "    nameserver ns1 127.0.0.1:5353"];

    [Test]
    public void Resolvers_EveryKeyword_IsRead()
    {
        var c = ParseValid(Config(
        [
            "resolvers dns",
            "    nameserver ns1 127.0.0.1:5353",
            "    nameserver ns2 tcp@10.0.0.1",
            "    nameserver ns3 udp@[::1]:54",
            "    resolve_retries 5",
            "    timeout resolve 2s",
            "    timeout retry 300ms",
            "    hold valid 7s",
            "    hold obsolete 3s",
            "    hold nx 1s",
            "    hold other 2s",
            "    hold refused 4s",
            "    hold timeout 5s",
            "    accepted_payload_size 8192",
        ], "    server s1 127.0.0.1:80"));
        var r = c.Resolvers.Single();
        Assert.That(r.Name, Is.EqualTo("dns"));
        Assert.That(r.Nameservers.Select(n => (n.Name, n.EndPoint.ToString(), n.Tcp)), Is.EqualTo(new[]
        {
            ("ns1", "127.0.0.1:5353", false), ("ns2", "10.0.0.1:53", true), ("ns3", "[::1]:54", false),
        }));
        Assert.That((r.ResolveRetries, r.ResolveInterval, r.RetryTimeout, r.AcceptedPayloadSize),
            Is.EqualTo((5, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(300), 8192)));
        Assert.That(r.Hold, Is.EqualTo(new ResolversHold(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4),
            TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(3))));
    }

    [Test]
    public void Resolvers_Defaults_AreHAProxys()
    {
        var r = ParseValid(Config(Dns, "    server s1 127.0.0.1:80")).Resolvers.Single();
        Assert.That((r.ResolveRetries, r.ResolveInterval, r.RetryTimeout, r.AcceptedPayloadSize),
            Is.EqualTo((3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 512)));
        Assert.That(r.Hold, Is.EqualTo(ResolversHold.Default));
        Assert.That((r.Hold.Valid, r.Hold.Nx, r.Hold.Obsolete), Is.EqualTo((TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.Zero)));
    }

    [TestCase("    nameserver ns1", "'nameserver': missing argument")]
    [TestCase("    nameserver ns2 127.0.0.1:99999", "invalid port")]
    [TestCase("    nameserver ns1 127.0.0.2:53", "already has a nameserver named 'ns1'")]
    [TestCase("    hold forever 1s", "'hold': expected nx, other")]
    [TestCase("    hold nx soon", "'hold nx'")]
    [TestCase("    timeout connect 1s", "expected 'resolve' or 'retry'")]
    [TestCase("    timeout resolve 0", "'timeout resolve': the time must be above zero")]
    [TestCase("    accepted_payload_size 100", "'accepted_payload_size': expected an integer between 512 and 65535")]
    [TestCase("    resolve_retries 0", "'resolve_retries'")]
    [TestCase("    bogus 1", "unknown keyword 'bogus' in resolvers section 'dns'")]
    public void Resolvers_BadLine_IsAnErrorAtItsLine(string line, string expected)
    {
        var errors = ParseErrors(Config([.. Dns, line], "    server s1 127.0.0.1:80"));
        Assert.That(errors, Has.Some.StartsWith($"{FileName}:3:").And.Contains(expected));
    }

    [Test]
    public void Resolvers_WithoutNameserver_AndDuplicateSection_AreErrors()
    {
        Assert.That(ParseErrors(Config(["resolvers empty"], "    server s1 127.0.0.1:80")),
            Has.Some.StartsWith($"{FileName}:1:").And.Contains("no 'nameserver'"));
        Assert.That(ParseErrors(Config([.. Dns, "resolvers dns", "    nameserver x 127.0.0.1:53"], "    server s1 127.0.0.1:80")),
            Has.Some.StartsWith($"{FileName}:3:").And.Contains("already exists at line 1"));
    }

    [Test]
    public void Server_ResolutionOptions_AreCarriedInTheModel()
    {
        var s = ParseValid(Config(Dns,
            "    server s1 app.internal:80 resolvers dns resolve-prefer ipv4 resolve-net 10.0.0.0/8,192.168.0.0/16 resolve-opts allow-dup-ip,ignore-weight"))
            .Backends[0].Servers[0];
        Assert.That(s.EndPoint.ToString(), Is.EqualTo("10.0.0.5:80"), "libc at load, in the supervisor");
        var r = s.Resolution!;
        Assert.That((r.Resolvers, r.Fqdn, r.Prefer, r.IsSrv, r.Template), Is.EqualTo(("dns", "app.internal", AddressFamily.InterNetwork, false, (string?)null)));
        Assert.That(r.PreferredNetworks.Select(n => n.ToString()), Is.EqualTo(new[] { "10.0.0.0/8", "192.168.0.0/16" }));
        Assert.That(r.Options, Is.EqualTo(ResolveOptions.AllowDupIp | ResolveOptions.IgnoreWeight));
        Assert.That(ParseValid(Config(Dns, "    server s1 app.internal:80 resolvers dns")).Backends[0].Servers[0].Resolution!.Prefer,
            Is.EqualTo(AddressFamily.InterNetworkV6), "HAProxy prefers ipv6 by default");
    }

    [Test]
    public void Server_ResolversOnALiteral_IsAWarning_AndAnUnknownSectionAnError()
    {
        var result = Parse(Config(Dns, "    server s1 127.0.0.1:80 resolvers dns"));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.StartsWith($"{FileName}:7:").And.Contains("has no effect"));
        Assert.That(result.Config!.Backends[0].Servers[0].Resolution, Is.Null);
        Assert.That(ParseErrors(Config(Dns, "    server s1 app.internal:80 resolvers nosuch")),
            Has.Some.StartsWith($"{FileName}:7:").And.Contains("no resolvers section named 'nosuch'"));
    }

    [TestCase("resolve-prefer ipv5", "'server resolve-prefer': expected ipv4 or ipv6")]
    [TestCase("resolve-net 10.0.0.0/33", "'server resolve-net'")]
    [TestCase("resolve-opts dup", "'server resolve-opts': expected allow-dup-ip")]
    [TestCase("init-addr dns", "'server init-addr': expected last, libc, none or an IP address")]
    [TestCase("init-addr", "option 'init-addr' needs a value")]
    public void Server_BadResolutionOption_IsAnError(string option, string expected)
    {
        Assert.That(ParseErrors(Config(Dns, $"    server s1 app.internal:80 {option}")),
            Has.Some.StartsWith($"{FileName}:7:").And.Contains(expected));
    }

    [Test]
    public void InitAddr_Methods_InOrder()
    {
        ServerConfig One(string line) => ParseValid(Config(Dns, line)).Backends[0].Servers[0];
        var none = One("    server s1 nowhere.internal:80 init-addr none");
        Assert.That((none.EndPoint.ToString(), none.Unresolved), Is.EqualTo(("0.0.0.0:80", true)), "none: no address, in maintenance");
        Assert.That(One("    server s1 nowhere.internal:80 init-addr libc,10.9.9.9").EndPoint.ToString(), Is.EqualTo("10.9.9.9:80"));
        Assert.That(One("    server s1 app.internal:80 init-addr last,libc,none").EndPoint.ToString(), Is.EqualTo("10.0.0.5:80"),
            "last finds nothing without a server-state-file; libc answers");
        Assert.That(One("    default-server init-addr none\n    server s1 nowhere.internal:80").Unresolved, Is.True, "from default-server");
        Assert.That(ParseErrors(Config(Dns, "    server s1 nowhere.internal:80 init-addr last,libc")),
            Has.Some.StartsWith($"{FileName}:7:").And.Contains("cannot resolve host name 'nowhere.internal'"));
        Assert.That(ParseErrors(Config(Dns, "    server s1 0.0.0.0:80")), Has.Some.Contains("wildcard"), "a literal 0.0.0.0 is still refused");
    }

    [Test]
    public void ServerTemplate_MakesNamedServers_FromACountOrARange()
    {
        var servers = ParseValid(Config(Dns, "    server-template web 3 app.internal:8080 resolvers dns init-addr none check")).Backends[0].Servers;
        Assert.That(servers.Select(s => s.Name), Is.EqualTo(new[] { "web1", "web2", "web3" }));
        Assert.That(servers.All(s => s.Unresolved && s.Check && s.EndPoint.Port == 8080 && s.Resolution!.Template == "web"), Is.True);
        var range = ParseValid(Config(Dns, "    server-template app- 5-7 app.internal:80")).Backends[0].Servers;
        Assert.That(range.Select(s => s.Name), Is.EqualTo(new[] { "app-5", "app-6", "app-7" }));
        Assert.That(range.All(s => s.EndPoint.ToString() == "10.0.0.5:80" && s.Resolution is null), Is.True, "no resolvers: libc once, fixed");
    }

    [Test]
    public void ServerTemplate_SrvName_NeedsNoPort_AndStartsWithoutAddress()
    {
        var servers = ParseValid(Config(Dns, "    server-template api 2 _api._tcp.service.consul resolvers dns resolve-prefer ipv4")).Backends[0].Servers;
        Assert.That(servers.Select(s => (s.Name, s.EndPoint.ToString(), s.Resolution!.IsSrv)),
            Is.EqualTo(new[] { ("api1", "0.0.0.0:0", true), ("api2", "0.0.0.0:0", true) }));
    }

    [TestCase("    server-template web 0 app.internal:80", "expected a number of servers or a range")]
    [TestCase("    server-template web 3-1 app.internal:80", "expected a number of servers or a range")]
    [TestCase("    server-template web 2", "'server-template': missing argument")]
    [TestCase("    server web1 127.0.0.1:80\n    server-template web 2 app.internal:80", "already has a server named 'web1'")]
    public void ServerTemplate_Errors(string line, string expected)
    {
        Assert.That(ParseErrors(Config(Dns, line)), Has.Some.Contains(expected));
    }

    [Test]
    public void Resolvers_TravelInTheShippedModel()
    {
        var c = ParseValid(Config(Dns, "    server-template web 2 app.internal:80 resolvers dns init-addr none"));
        var init = new WorkerInit(0, 1, [0], c, [], "/board", 3, [], RunsHealthChecks: true, DownServers: []);
        var back = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(init, ControlJsonContext.Default.WorkerInit),
            ControlJsonContext.Default.WorkerInit)!.Config;
        Assert.That(back.Resolvers.Single().Nameservers.Single().EndPoint.ToString(), Is.EqualTo("127.0.0.1:5353"));
        Assert.That(back.Backends[0].Servers.Select(s => (s.Unresolved, s.Resolution!.Fqdn)), Is.EqualTo(new[] { (true, "app.internal"), (true, "app.internal") }));
    }
}
