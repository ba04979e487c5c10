using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// req.* and res.* layer-6 fetches (7.3.5) only where their side's bytes are: res.* in a tcp-request rule would read
/// the client's bytes, req.* in a tcp-response rule the server's (shared/Config/PayloadDirection.cs).
/// </summary>
public sealed class PayloadDirectionTests
{
    private static string Config(params string[] lines) => Lines([
        "defaults", "    mode tcp", "    timeout connect 1s", "    timeout client 1s", "    timeout server 1s",
        "frontend fe", "    bind 127.0.0.1:18443", "    tcp-request inspect-delay 1s", .. lines, "    default_backend be",
        "backend be", "    tcp-response inspect-delay 1s", "    server s 127.0.0.1:1"]);

    [TestCase("    tcp-request content reject if { res.len gt 0 }", "res.len")]
    [TestCase("    tcp-request content accept if { res.payload(0,1) -m found }", "res.payload")]
    [TestCase("    acl from_server res.len gt 0\n    tcp-request content reject if from_server", "res.len")]
    [TestCase("    tcp-request content set-var(sess.n) res.len", "res.len")]
    [TestCase("    tcp-request content capture res.payload(0,4) len 4", "res.payload")]
    public void AResponseFetchInATcpRequestRule_IsAnErrorNamingIt(string rule, string fetch)
    {
        string config = Config(rule);
        int line = 9;
        var errors = ParseErrors(config);
        Assert.That(errors, Has.Some.StartsWith($"test.cfg:{line + (rule.Contains('\n') ? 1 : 0)}: 'tcp-request content ")
            .And.Some.Contains($"fetch '{fetch}' reads the server's response"), string.Join("\n", errors));
        // HAProxy 2.6 refuses the expressions ("extracts information from 'response buffer', none of which is available
        // here") and only warns that such an ACL never matches: here both are errors (README, deliberate differences).
        if (rule.Contains("set-var") || rule.Contains("capture")) HaproxyCheck.AssertRefuses(config);
    }

    [TestCase("tcp-response content reject if { req.len gt 0 }", "req.len")]
    [TestCase("tcp-response content accept if { req.payload(0,1) -m found }", "req.payload")]
    [TestCase("tcp-response content close if { req.ssl_sni -m found }", "req.ssl_sni")]
    public void ARequestFetchInATcpResponseRule_IsAnErrorNamingIt(string rule, string fetch)
    {
        var errors = ParseErrors(Config().Replace("    server s", $"    {rule}\n    server s"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:12: 'tcp-response content ").And.Some.Contains($"fetch '{fetch}' reads the client's bytes"),
            string.Join("\n", errors));
    }

    [Test]
    public void EachSidesOwnFetches_AreAccepted()
    {
        string config = Config("    tcp-request content reject if { req.len gt 100 }").Replace("    server s",
            "    tcp-response content accept if { res.len ge 4 }\n    tcp-response content reject if { res.payload(0,3) -m found }\n    server s");
        var model = ParseValid(config);
        Assert.That((model.Frontends[0].TcpContentRules.Count, model.Backends[0].TcpResponseRules.Count), Is.EqualTo((1, 2)));
        HaproxyCheck.AssertAccepts(config);
    }
}
