using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`balance` with every algorithm and argument, `hash-type`, `option allbackups` and server weights (4.2, 5.2).</summary>
public class BalanceKeywordTests
{
    /// <summary>A `mode http` backend "b" whose 4th line is <paramref name="lines"/>[0].</summary>
    private static BackendConfig HttpBackend(params string[] lines)
        => ParseValid(Lines(["defaults", "mode http", "backend b", .. lines])).Backends[0];

    private static string SingleHttpError(string line)
    {
        var errors = ParseErrors(Lines("defaults", "mode http", "backend b", line));
        Assert.That(errors, Has.Count.EqualTo(1), string.Join("\n", errors));
        return errors[0];
    }

    [TestCase("uri", BalanceAlgorithm.Uri)]
    [TestCase("url_param userid", BalanceAlgorithm.UrlParam)]
    [TestCase("hdr(Host)", BalanceAlgorithm.Header)]
    [TestCase("random", BalanceAlgorithm.Random)]
    [TestCase("random(3)", BalanceAlgorithm.Random)]
    [TestCase("source", BalanceAlgorithm.Source)]
    public void Balance_HttpAlgorithms_AreStored(string words, BalanceAlgorithm expected)
    {
        Assert.That(HttpBackend("balance " + words).Balance, Is.EqualTo(expected));
    }

    [Test]
    public void Balance_Uri_DefaultsAreWholePathBeforeQuery()
    {
        var o = HttpBackend("balance uri").BalanceOptions;
        Assert.That((o.UriLength, o.UriDepth, o.UriWhole, o.UriPathOnly), Is.EqualTo((0, 0, false, false)));
    }

    [Test]
    public void Balance_Uri_AllOptionsInAnyOrder()
    {
        var o = HttpBackend("balance uri whole depth 3 path-only len 12").BalanceOptions;
        Assert.That((o.UriLength, o.UriDepth, o.UriWhole, o.UriPathOnly), Is.EqualTo((12, 3, true, true)));
    }

    [Test]
    public void Balance_UrlParamAndHeader_KeepTheirNames()
    {
        Assert.That(HttpBackend("balance url_param session_id").BalanceOptions.UrlParam, Is.EqualTo("session_id"));
        var hdr = HttpBackend("balance hdr(X-User) use_domain_only").BalanceOptions;
        Assert.That((hdr.Header, hdr.UseDomainOnly), Is.EqualTo(("X-User", true)));
        Assert.That(HttpBackend("balance hdr(host)").BalanceOptions.UseDomainOnly, Is.False);
    }

    [TestCase("random", 2)]          // HAProxy: "The default value is 2"
    [TestCase("random()", 2)]
    [TestCase("random(1)", 1)]
    [TestCase("random(5)", 5)]
    public void Balance_Random_Draws(string word, int draws)
    {
        Assert.That(HttpBackend("balance " + word).BalanceOptions.RandomDraws, Is.EqualTo(draws));
    }

    [TestCase("map-based", HashMethod.MapBased, HashFunction.Sdbm, false)]
    [TestCase("consistent", HashMethod.Consistent, HashFunction.Sdbm, false)]
    [TestCase("map-based djb2", HashMethod.MapBased, HashFunction.Djb2, false)]
    [TestCase("consistent wt6", HashMethod.Consistent, HashFunction.Wt6, false)]
    [TestCase("consistent crc32 avalanche", HashMethod.Consistent, HashFunction.Crc32, true)]
    [TestCase("map-based sdbm avalanche", HashMethod.MapBased, HashFunction.Sdbm, true)]
    public void HashType_MethodFunctionModifier(string words, HashMethod method, HashFunction function, bool avalanche)
    {
        var o = HttpBackend("balance uri", "hash-type " + words).BalanceOptions;
        Assert.That((o.HashMethod, o.HashFunction, o.HashAvalanche), Is.EqualTo((method, function, avalanche)));
    }

    [Test]
    public void HashType_Default_IsMapBasedSdbm()
    {
        var o = HttpBackend("balance uri").BalanceOptions;
        Assert.That((o.HashMethod, o.HashFunction, o.HashAvalanche), Is.EqualTo((HashMethod.MapBased, HashFunction.Sdbm, false)));
    }

    [Test]
    public void HashTypeAndBalance_EitherOrder_BothKept()
    {
        var before = HttpBackend("hash-type consistent djb2", "balance url_param id");
        var after = HttpBackend("balance url_param id", "hash-type consistent djb2");
        foreach (var be in new[] { before, after })
        {
            Assert.That(be.Balance, Is.EqualTo(BalanceAlgorithm.UrlParam));
            Assert.That((be.BalanceOptions.UrlParam, be.BalanceOptions.HashMethod, be.BalanceOptions.HashFunction),
                Is.EqualTo(("id", HashMethod.Consistent, HashFunction.Djb2)));
        }
    }

    [Test]
    public void Defaults_PassBalanceHashTypeAndAllBackups()
    {
        var config = ParseValid(Lines("defaults", "mode http", "balance hdr(Host) use_domain_only", "hash-type consistent", "option allbackups",
            "backend b", "backend c", "no option allbackups", "balance roundrobin"));
        var b = config.Backends[0];
        Assert.That((b.Balance, b.BalanceOptions.Header, b.BalanceOptions.UseDomainOnly, b.BalanceOptions.HashMethod, b.AllBackups),
            Is.EqualTo((BalanceAlgorithm.Header, "Host", true, HashMethod.Consistent, true)));
        var c = config.Backends[1];
        Assert.That((c.Balance, c.BalanceOptions.HashMethod, c.AllBackups), Is.EqualTo((BalanceAlgorithm.RoundRobin, HashMethod.Consistent, false)));
    }

    [Test]
    public void AllBackups_OffByDefault_OnWithOption()
    {
        Assert.That(HttpBackend().AllBackups, Is.False);
        Assert.That(HttpBackend("option allbackups").AllBackups, Is.True);
        Assert.That(ParseValid(Lines("listen l", "bind :80", "option allbackups")).Backends[0].AllBackups, Is.True);
    }

    [Test]
    public void Weight_ZeroAnd256_Accepted()
    {
        var be = HttpBackend("server a 10.0.0.1:80 weight 0", "server b 10.0.0.2:80 weight 256", "server c 10.0.0.3:80");
        Assert.That(be.Servers.Select(s => s.Weight), Is.EqualTo(new[] { 0, 256, 1 }));
    }

    [TestCase("server a 10.0.0.1:80 weight 257", "test.cfg:4: 'server weight': expected an integer between 0 and 256, got '257'")]
    [TestCase("server a 10.0.0.1:80 weight -1", "test.cfg:4: 'server weight': expected an integer between 0 and 256, got '-1'")]
    [TestCase("balance uri len", "test.cfg:4: 'balance uri len': missing argument, expected 'balance uri len NUMBER'")]
    [TestCase("balance uri len 0", "test.cfg:4: 'balance uri len': expected an integer between 1 and 2147483647, got '0'")]
    [TestCase("balance uri depth x", "test.cfg:4: 'balance uri depth': expected an integer between 1 and 2147483647, got 'x'")]
    [TestCase("balance uri whole bogus", "test.cfg:4: 'balance uri': unknown option 'bogus' (expected len, depth, whole or path-only)")]
    [TestCase("balance url_param", "test.cfg:4: 'balance url_param': missing argument, expected 'balance url_param NAME'")]
    [TestCase("balance url_param id check_post", "test.cfg:4: 'balance url_param check_post' is not supported yet")]
    [TestCase("balance url_param id extra", "test.cfg:4: 'balance url_param': unexpected 'extra', expected 'balance url_param NAME'")]
    [TestCase("balance hdr()", "test.cfg:4: 'balance': expected 'hdr(NAME)' with a header name, got 'hdr()'")]
    [TestCase("balance hdr(Host", "test.cfg:4: 'balance': expected 'hdr(NAME)' with a header name, got 'hdr(Host'")]
    [TestCase("balance hdr(a@b)", "test.cfg:4: 'balance': expected 'hdr(NAME)' with a header name, got 'hdr(a@b)'")]
    [TestCase("balance hdr(Host) whole", "test.cfg:4: 'balance hdr': unknown option 'whole' (expected use_domain_only)")]
    [TestCase("balance random(0)", "test.cfg:4: 'balance random': expected an integer between 1 and 100, got '0'")]
    [TestCase("balance random(two)", "test.cfg:4: 'balance random': expected an integer between 1 and 100, got 'two'")]
    [TestCase("balance random(2", "test.cfg:4: 'balance': expected 'random' or 'random(DRAWS)', got 'random(2'")]
    [TestCase("balance random(2) x", "test.cfg:4: 'balance': unexpected 'x', expected 'balance random[(DRAWS)]'")]
    [TestCase("balance hash req.cookie(id)", "test.cfg:4: 'balance hash' is not supported yet")]
    [TestCase("balance sticky", "test.cfg:4: 'balance sticky' is not supported yet")]
    [TestCase("hash-type", "test.cfg:4: 'hash-type': missing argument")]
    [TestCase("hash-type ring", "test.cfg:4: 'hash-type': unknown method 'ring' (expected map-based or consistent)")]
    [TestCase("hash-type consistent md5", "test.cfg:4: 'hash-type': unknown function 'md5' (expected sdbm, djb2, wt6 or crc32)")]
    [TestCase("hash-type consistent none", "test.cfg:4: 'hash-type': function 'none' is not supported yet")]
    [TestCase("hash-type consistent avalanche", "test.cfg:4: 'hash-type': unknown function 'avalanche'")]
    [TestCase("hash-type consistent sdbm fast", "test.cfg:4: 'hash-type': unknown modifier 'fast' (expected avalanche)")]
    [TestCase("hash-type consistent sdbm avalanche x", "test.cfg:4: 'hash-type': unexpected 'x'")]
    [TestCase("option allbackups now", "test.cfg:4: 'option allbackups': unexpected 'now'")]
    public void Errors_NameLineAndKeyword(string line, string expected)
    {
        Assert.That(SingleHttpError(line), Does.StartWith(expected));
    }

    [TestCase("option allbackups", "test.cfg:5: 'option allbackups' has no effect in frontend 'f', which has no backend capability: ignored")]
    [TestCase("hash-type consistent", "test.cfg:5: 'hash-type' has no effect in frontend 'f', which has no backend capability: ignored")]
    public void BackendKeywords_InAFrontend_WarnAndHaveNoEffect(string line, string expected)
    {
        // HAProxy's warnifnotcap: accepted with a warning, never an error.
        var result = Parse(Lines("backend b", "frontend f", "bind :80", "default_backend b", line));
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Member(expected));
    }

    [TestCase("uri")]
    [TestCase("url_param id")]
    [TestCase("hdr(Host)")]
    public void Layer7Hash_InTcpBackend_WarnsAtTheBalanceLineAndBalancesRoundRobin(string words)
    {
        // HAProxy: "Layer 7 hash not possible ... Falling back to round robin" (a warning, and that effect).
        var result = Parse(Lines("backend b", "mode tcp", "balance " + words, "server s1 127.0.0.1:80"));
        Assert.That(result.Errors, Is.Empty);
        var keyword = words.StartsWith("hdr") ? "balance hdr" : "balance " + words.Split(' ')[0];
        Assert.That(result.Warnings.Select(w => w.ToString()),
            Has.Member($"test.cfg:3: '{keyword}' needs 'mode http' (backend 'b' is in tcp mode): falling back to round robin"));
        Assert.That(result.Config!.Backends[0].Balance, Is.EqualTo(BalanceAlgorithm.RoundRobin));
    }

    [Test]
    public void Layer7Hash_FromTcpDefaults_WarnsAtDefaultsLineForTcpBackendsOnly()
    {
        var text = Lines("defaults", "mode tcp", "balance url_param id",
            "frontend f", "bind :80", "default_backend h",   // a tcp frontend does not balance: no warning
            "backend h", "mode http",                       // inherits url_param, in http mode: fine
            "backend t");                                   // inherits it in tcp mode: warning at line 3
        var result = Parse(text);
        Assert.That(result.Warnings.Select(w => w.ToString()).Where(w => w.Contains("needs 'mode http'")),
            Is.EqualTo(new[] { "test.cfg:3: 'balance url_param' needs 'mode http' (backend 't' is in tcp mode): falling back to round robin" }));
    }

    [Test]
    public void Layer7Hash_InTcpDefaultsThenHttpBackend_Valid()
    {
        var config = ParseValid(Lines("defaults", "balance uri depth 2", "backend b", "mode http"));
        Assert.That((config.Backends[0].Balance, config.Backends[0].BalanceOptions.UriDepth), Is.EqualTo((BalanceAlgorithm.Uri, 2)));
    }
}
