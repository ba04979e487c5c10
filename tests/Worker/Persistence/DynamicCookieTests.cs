using System.Net;
using System.Text;
using NUnit.Framework;
using Proxy.Worker.Persistence;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Worker.Persistence;

/// <summary>`cookie ... dynamic` and `dynamic-cookie-key` (4.2): the cookie HAProxy 2.6 gives a server, byte for byte.</summary>
public sealed class DynamicCookieTests
{
    [Test]
    public void XxHash64_SpecificationVectors()
    {
        Assert.That(XxHash64.Hash([]), Is.EqualTo(0xEF46DB3751D8E999UL), "XXH64 of nothing, seed 0");
        // 32 bytes and more take the four-lane path.
        Assert.That(XxHash64.Hash(Encoding.ASCII.GetBytes("Nobody inspects the spammish repetition")), Is.EqualTo(0xFBCEA83C8A378BF1UL));
    }

    [Test]
    public void ServerCookie_IsHaproxys()
    {
        // What Debian's HAProxy 2.6.12 set for `dynamic-cookie-key secretkey` and `server s1 127.0.0.1:47772`
        // (Set-Cookie: SRV=b9ac6665c45a4aa4; path=/).
        Assert.That(Encoding.ASCII.GetString(DynamicCookie.For("secretkey", new IPEndPoint(IPAddress.Loopback, 47772))), Is.EqualTo("b9ac6665c45a4aa4"));
    }

    [Test]
    public void Config_DynamicAndKey_Parsed_KeyInheritedFromDefaults()
    {
        var config = ParseValid(Lines(
        [
            "defaults", "  mode http", "  timeout connect 1s", "  timeout client 1s", "  timeout server 1s", "  dynamic-cookie-key secretkey",
            "frontend fe", "  bind 127.0.0.1:8080", "  default_backend be",
            "backend be", "  cookie SRV insert dynamic", "  server s1 127.0.0.1:8081", "  server s2 127.0.0.1:8082 cookie fixed",
        ]));
        var p = config.Backends.Single().Persistence;
        Assert.That((p.Cookie!.Dynamic, p.DynamicCookieKey), Is.EqualTo((true, "secretkey")));
        // The worker's view: s1 gets its dynamic cookie, s2 keeps the one it was given.
        var bp = BackendPersistence.Create(new Proxy.Worker.Runtime.BackendRuntime(config.Backends.Single()))!;
        Assert.That(bp.ServerCookies.Select(c => Encoding.ASCII.GetString(c!)),
            Is.EqualTo(new[] { Encoding.ASCII.GetString(DynamicCookie.For("secretkey", new IPEndPoint(IPAddress.Loopback, 8081))), "fixed" }));
    }

    [Test]
    public void DynamicCookieKey_WithoutKey_IsAnError()
    {
        var errors = ParseErrors(Lines(
        [
            "defaults", "  mode http", "  timeout connect 1s", "  timeout client 1s", "  timeout server 1s",
            "frontend fe", "  bind 127.0.0.1:8080", "  default_backend be",
            "backend be", "  dynamic-cookie-key", "  server s1 127.0.0.1:8081",
        ]));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:10:").And.Some.Contains("dynamic-cookie-key"), string.Join("\n", errors));
    }
}
