using System.Net;
using System.Text.Json;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// HAProxy's address forms on `bind` and `server` (doc/configuration.txt 11): `unix@PATH` and `/PATH`, `abns@NAME`,
/// `ipv4@`/`ipv6@`, and a server without a port (the client's destination port, shifted by `+N`/`-N`).
/// </summary>
public class AddressFormTests
{
    private static ProxyConfig ParseProxy(string frontendLines, string serverAddress, string serverOptions = "") => ParseValid(
        "defaults\n    mode http\n" + AllTimeouts +
        $"frontend fe\n{frontendLines}    default_backend be\n" +
        $"backend be\n    server s {serverAddress}{serverOptions}\n");

    [Test]
    public void UnixBind_KeepsThePath_AndTheFileOptions()
    {
        var bind = ParseProxy("    bind unix@/run/lb.sock mode 660 uid 0 group adm\n", "127.0.0.1:80").Frontends[0].Binds.Single();
        Assert.That(bind.UnixPath, Is.EqualTo("/run/lb.sock"));
        Assert.That(bind.EndPoint, Is.Null);
        Assert.That(bind.Key, Is.EqualTo("unix@/run/lb.sock"));
        Assert.That(bind.UnixFile, Is.EqualTo(new UnixSocketFile(Convert.ToInt32("660", 8), 0, null, null, "adm")));
    }

    [Test]
    public void BarePathBind_IsAUnixSocket_AndARelativeOneIsMadeAbsolute()
    {
        var binds = ParseProxy("    bind /run/a.sock,unix@rel.sock\n", "127.0.0.1:80").Frontends[0].Binds;
        Assert.That(binds.Select(b => b.UnixPath), Is.EqualTo(new[] { "/run/a.sock", Path.GetFullPath("rel.sock") }));
    }

    [Test]
    public void AbnsBind_IsAnAbstractName()
    {
        var bind = ParseProxy("    bind abns@lb-front\n", "127.0.0.1:80").Frontends[0].Binds.Single();
        Assert.That(bind.UnixPath, Is.EqualTo("\0lb-front"));
        Assert.That(bind.Key, Is.EqualTo("abns@lb-front"));
    }

    [Test]
    public void AbnsEndPoint_IsPaddedToTheWholeSunPath_AsHAProxyBindsIt()
    {
        var ep = UnixAddress.EndPoint("\0name");
        // sun_family (2 bytes) + sun_path (108 bytes): HAProxy passes sizeof(struct sockaddr_un) as the length.
        Assert.That(ep.Serialize().Size, Is.EqualTo(110));
        Assert.That(UnixAddress.EndPoint("/run/x.sock").Serialize().Size, Is.LessThan(110));
    }

    [Test]
    public void TooLongUnixPath_IsAnError()
    {
        var errors = ParseErrors("defaults\n    mode http\n" + AllTimeouts +
            $"frontend fe\n    bind unix@/{new string('a', 120)}\n    default_backend be\nbackend be\n    server s 127.0.0.1:80\n");
        Assert.That(errors, Has.Some.Contains("is too long"));
    }

    [Test]
    public void UnixServer_KeepsThePath_AndIsNotUnresolved()
    {
        var server = ParseProxy("    bind :80\n", "unix@/run/app.sock").Backends[0].Servers.Single();
        Assert.That(server.UnixPath, Is.EqualTo("/run/app.sock"));
        Assert.That(server.Unresolved, Is.False);
        Assert.That(server.Host, Is.EqualTo("unix@/run/app.sock"));
    }

    [Test]
    public void AbnsServer_IsAnAbstractName()
    {
        var server = ParseProxy("    bind :80\n", "abns@next-hop").Backends[0].Servers.Single();
        Assert.That(server.UnixPath, Is.EqualTo("\0next-hop"));
    }

    [TestCase("10.0.0.2", 0)]
    [TestCase("10.0.0.2:+1000", 1000)]
    [TestCase("10.0.0.2:-80", -80)]
    [TestCase("ipv6@[fd00::2]:+1", 1)]
    public void ServerWithoutPort_TakesTheClientsPort_WithItsOffset(string address, int offset)
    {
        var server = ParseProxy("    bind :80\n", address).Backends[0].Servers.Single();
        Assert.That(server.ClientPort, Is.True);
        Assert.That(server.PortOffset, Is.EqualTo(offset));
        Assert.That(server.EndPoint.Port, Is.EqualTo(0));
        Assert.That(server.Unresolved, Is.False);
    }

    [Test]
    public void ServerWithoutPort_IsCheckedAtItsCheckPort()
    {
        var server = ParseProxy("    bind :80\n", "10.0.0.2", " check port 8080").Backends[0].Servers.Single();
        Assert.That(server.ClientPort, Is.True);
        Assert.That(server.CheckSettings.Port, Is.EqualTo(8080));
    }

    [Test]
    public void ServerWithPort_IsNotPortMapped()
    {
        var server = ParseProxy("    bind :80\n", "ipv4@10.0.0.2:81").Backends[0].Servers.Single();
        Assert.That(server.ClientPort, Is.False);
        Assert.That(server.EndPoint, Is.EqualTo(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 81)));
    }

    [Test]
    public void UnixAndPortMappedServers_SurviveTheWorkersJson()
    {
        var config = ParseValid("defaults\n    mode http\n" + AllTimeouts +
            "frontend fe\n    bind abns@x mode 600\n    default_backend be\n" +
            "backend be\n    server u unix@/run/app.sock\n    server m 10.0.0.2:-5\n");
        var init = new WorkerInit(0, 1, [0], config, [], "/board", 3, [], RunsHealthChecks: true, DownServers: []);
        var copy = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(init, ControlJsonContext.Default.WorkerInit),
            ControlJsonContext.Default.WorkerInit)!.Config;
        Assert.That(copy.Frontends[0].Binds[0].UnixPath, Is.EqualTo("\0x"));
        Assert.That(copy.Backends[0].Servers[0].UnixPath, Is.EqualTo("/run/app.sock"));
        Assert.That((copy.Backends[0].Servers[1].ClientPort, copy.Backends[0].Servers[1].PortOffset), Is.EqualTo((true, -5)));
    }
}
