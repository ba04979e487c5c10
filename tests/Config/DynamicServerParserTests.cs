using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`add server BE/SRV ADDR[:PORT] [options]` (DynamicServerParser): the `server` line's options, HAProxy 2.6's refusals.</summary>
public sealed class DynamicServerParserTests
{
    private static readonly ProxyConfig Config = ParseValid("""
        defaults
            mode http
            timeout connect 1s
            timeout client 1s
            timeout server 1s
        backend rr
            default-server weight 7 check
            server s1 127.0.0.1:8001
        backend srr
            balance static-rr
            server s1 127.0.0.1:8001
        backend maphash
            balance source
            server s1 127.0.0.1:8001
        backend ringhash
            balance source
            hash-type consistent
            server s1 127.0.0.1:8001

        """);

    private static (ServerConfig? Server, string? Error) Add(string backend, string name, params string[] args) =>
        DynamicServerParser.Parse(Config.FindBackend(backend)!, name, args);

    [Test]
    public void Options_AreTheServerLines_WithoutDefaultServer()
    {
        var (s, error) = Add("rr", "s2", "127.0.0.1:8002", "weight", "3", "maxconn", "10", "check", "inter", "500ms");
        Assert.That(error, Is.Null);
        Assert.That((s!.Name, s.EndPoint.Port, s.Weight, s.MaxConn, s.Check, s.Inter), Is.EqualTo(("s2", 8002, 3, 10, true, TimeSpan.FromMilliseconds(500))));
        var (plain, _) = Add("rr", "s3", "127.0.0.1:8003");
        Assert.That((plain!.Weight, plain.Check), Is.EqualTo((1, false)), "HAProxy reuses no `default-server` setting for a dynamic server");
    }

    [Test]
    public void Refusals_AreHaproxysWords()
    {
        Assert.That(Add("rr", "s1", "127.0.0.1:8009").Error, Is.EqualTo("Already exists a server with the same name in backend."));
        Assert.That(Add("rr", "s9").Error, Is.EqualTo("'server' expects <name> and <addr>[:<port>] as arguments."));
        Assert.That(Add("srr", "s9", "127.0.0.1:8009").Error, Is.EqualTo("Backend must use a dynamic load balancing to support dynamic servers."));
        Assert.That(Add("maphash", "s9", "127.0.0.1:8009").Error, Does.Contain("dynamic load balancing"));
        Assert.That(Add("ringhash", "s9", "127.0.0.1:8009").Error, Is.Null, "a consistent hash is dynamic");
        Assert.That(Add("rr", "s9", "127.0.0.1:8009", "nosuchoption").Error, Does.Contain("nosuchoption"));
        Assert.That(Add("rr", "s9", "127.0.0.1:8009", "weight", "999").Error, Is.Not.Null);
    }
}
