using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`cookie`, server `cookie`, `option persist`, `force-persist`, `ignore-persist`, `use-server` (4.2, 5.2).</summary>
public class PersistenceKeywordTests
{
    private static string Backend(params string[] lines) =>
        Lines(["defaults", "mode http", "frontend f", "bind :80", "default_backend b", "backend b", .. lines]);

    [Test]
    public void Cookie_EveryOption_ReachesTheModel()
    {
        var be = ParseValid(Backend("cookie SRV insert indirect nocache postonly preserve httponly secure domain .a.example domain .b.example maxidle 30m maxlife 2h attr SameSite=Lax",
            "server a 10.0.0.1:80 cookie s1", "server b 10.0.0.2:80")).Backends[0];
        var c = be.Persistence.Cookie!;
        Assert.That((c.Name, c.Mode, c.Indirect, c.NoCache, c.PostOnly, c.Preserve, c.HttpOnly, c.Secure),
            Is.EqualTo(("SRV", CookieMode.Insert, true, true, true, true, true, true)));
        Assert.That((c.Domains, c.Attributes, c.MaxIdleSeconds, c.MaxLifeSeconds),
            Is.EqualTo((new[] { ".a.example", ".b.example" }, new[] { "SameSite=Lax" }, 1800, 7200)));
        Assert.That(be.Servers.Select(s => s.Cookie), Is.EqualTo(new[] { "s1", null }));
    }

    [Test]
    public void Cookie_AndOptionPersist_AreInheritedFromDefaults_Rules_AreNot()
    {
        var be = ParseValid(Lines("defaults", "mode http", "cookie SRV prefix", "option persist", "backend b", "server a 10.0.0.1:80 cookie x",
            "use-server a if { path_beg /a }", "force-persist if { src 10.0.0.0/8 }", "ignore-persist unless { path_beg /a }")).Backends[0];
        Assert.That((be.Persistence.Cookie?.Mode, be.Persistence.Persist), Is.EqualTo((CookieMode.Prefix, true)));
        Assert.That(be.Persistence.UseServers.Select(r => r.Server), Is.EqualTo(new[] { "a" }));
        Assert.That(be.Persistence.PersistRules.Select(r => r.Force), Is.EqualTo(new[] { true, false }));
    }

    [Test]
    public void Cookie_WithoutMode_IsPassive() =>
        Assert.That(ParseValid(Backend("cookie SRV", "server a 10.0.0.1:80 cookie s1")).Backends[0].Persistence.Cookie!.Mode, Is.EqualTo(CookieMode.Passive));

    [TestCase("cookie", "test.cfg:7: 'cookie' expects <cookie_name> as argument")]
    [TestCase("cookie SRV rewrite indirect", "test.cfg:7: 'cookie': 'rewrite' and 'indirect' modes are incompatible")]
    [TestCase("cookie SRV insert prefix", "test.cfg:7: 'cookie': 'rewrite', 'insert' and 'prefix' modes are incompatible")]
    [TestCase("cookie SRV preserve", "test.cfg:7: 'cookie': 'preserve' requires at least 'insert' or 'indirect'")]
    [TestCase("cookie SRV insert maxidle soon", "test.cfg:7: 'cookie': 'maxidle' expects a time in seconds (a unit may be given), got 'soon'")]
    [TestCase("cookie SRV insert domain", "test.cfg:7: 'cookie': 'domain' requires an argument")]
    [TestCase("dynamic-cookie-key a b", "test.cfg:7: 'dynamic-cookie-key' expects exactly one argument, the key")]
    [TestCase("cookie SRV insert sometimes", "test.cfg:7: 'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'preserve', 'httponly', 'secure', 'domain', 'maxidle', 'maxlife', 'dynamic' and 'attr' options, got 'sometimes'")]
    [TestCase("server a 10.0.0.1:80 cookie", "test.cfg:7: 'server': option 'cookie' needs a value")]
    [TestCase("server a 10.0.0.1:80 cookie a;b", "test.cfg:7: 'server': invalid cookie value 'a;b' (RFC 6265 4.1.1: cookie-octets only)")]
    [TestCase("force-persist", "test.cfg:7: 'force-persist' requires either 'if' or 'unless' followed by a condition")]
    [TestCase("use-server nope", "test.cfg:7: 'use-server': backend 'b' has no server named 'nope'")]
    public void Mistake_NamesFileLineAndKeyword(string line, string expected) =>
        Assert.That(ParseErrors(Backend(line)), Is.EqualTo(new[] { expected }));

    [Test]
    public void HashBalanceFactor_ReachesTheBalanceOptions_AndWarnsWithoutConsistentHashing()
    {
        Assert.That(ParseValid(Backend("balance source", "hash-type consistent", "hash-balance-factor 150", "server a 10.0.0.1:80"))
            .Backends[0].BalanceOptions.HashBalanceFactor, Is.EqualTo(150));
        var result = Parse(Backend("balance source", "hash-balance-factor 150", "server a 10.0.0.1:80"));
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.EqualTo("test.cfg:8: 'hash-balance-factor' has no effect in 'b' without 'hash-type consistent'"));
    }

    [TestCase("hash-balance-factor 100", "test.cfg:7: 'hash-balance-factor' must be 0 or greater than 100")]
    [TestCase("hash-balance-factor x", "test.cfg:7: 'hash-balance-factor': expected an integer between 0 and 65535, got 'x'")]
    public void HashBalanceFactor_Mistake(string line, string expected) =>
        Assert.That(ParseErrors(Backend(line)), Is.EqualTo(new[] { expected }));
}
