using System.Text.Json;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Tests.Support;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// TLS keywords (TlsParser.cs, CertificateLoader.cs): `bind ... ssl crt ...` and its options (5.1), the TLS globals
/// (3.1, 3.2), and every certificate error at FILE:LINE with the path.
/// </summary>
public class TlsConfigTests
{
    private TestPki _pki = null!;
    private string _site = null!;

    [OneTimeSetUp]
    public void MakePki()
    {
        _pki = new TestPki();
        _site = _pki.Issue("site.pem", "site.test", ["site.test", "*.site.test"]);
    }

    [OneTimeTearDown]
    public void DropPki() => _pki.Dispose();

    private static string Frontend(string bind, params string[] global) =>
        Lines([.. (global.Length > 0 ? new[] { "global" }.Concat(global) : []), "frontend f", bind, "default_backend b", "backend b"]);

    [Test]
    public void BindSsl_LoadsTheCertificateBytesWithDefaults()
    {
        var config = ParseValid(Frontend($"bind :443 ssl crt {_site}"));
        var tls = config.Frontends[0].Binds[0].Tls!;
        Assert.That(tls.Certificates.Single().Pem, Is.EqualTo(File.ReadAllBytes(_site)));
        Assert.That((tls.Options.Versions, tls.Verify, tls.StrictSni, tls.Alpn.Count),
            Is.EqualTo((TlsVersions.TlsV12 | TlsVersions.TlsV13, TlsVerify.None, false, 0)), "HAProxy 2.2+: TLSv1.2 and up");
    }

    [Test]
    public void BindSsl_TravelsInTheWorkerModel()
    {
        var config = ParseValid(Frontend($"bind :443 ssl crt {_site} alpn http/1.1 strict-sni"));
        var init = new WorkerInit(0, 1, [0], config, [], "/board", 1, [], RunsHealthChecks: true, DownServers: []);
        var back = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(init, ControlJsonContext.Default.WorkerInit),
            ControlJsonContext.Default.WorkerInit)!.Config.Frontends[0].Binds[0].Tls!;
        Assert.That((back.Certificates[0].Pem, back.Alpn, back.StrictSni), Is.EqualTo((File.ReadAllBytes(_site), new[] { "http/1.1" }, true)));
    }

    [Test]
    public void Versions_MinMaxAndNoOptions_Combine()
    {
        var config = ParseValid(Frontend($"bind :443 ssl crt {_site} ssl-min-ver TLSv1.0 no-tlsv11"));
        Assert.That(config.Frontends[0].Binds[0].Tls!.Options.Versions, Is.EqualTo(TlsVersions.TlsV10 | TlsVersions.TlsV12 | TlsVersions.TlsV13));
        config = ParseValid(Frontend($"bind :443 ssl crt {_site}", "ssl-default-bind-options ssl-min-ver TLSv1.3 no-tls-tickets"));
        var tls = config.Frontends[0].Binds[0].Tls!;
        Assert.That((tls.Options.Versions, tls.Options.NoTlsTickets), Is.EqualTo((TlsVersions.TlsV13, true)));
        config = ParseValid(Frontend($"bind :443 ssl crt {_site} force-tlsv12"));
        Assert.That(config.Frontends[0].Binds[0].Tls!.Options.Versions, Is.EqualTo(TlsVersions.TlsV12));
    }

    [Test]
    public void Versions_NoneLeft_IsAnError()
    {
        var errors = ParseErrors(Frontend($"bind :443 ssl crt {_site} ssl-max-ver TLSv1.3 no-tlsv12 no-tlsv13"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:2: ").And.Contains("no protocol version"));
    }

    [Test]
    public void Alpn_H2_IsDroppedWithAWarning()
    {
        var result = Parse(Frontend($"bind :443 ssl crt {_site} alpn h2,http/1.1"));
        Assert.That(result.Config!.Frontends[0].Binds[0].Tls!.Alpn, Is.EqualTo(new[] { "http/1.1" }));
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.StartsWith("test.cfg:2: 'bind alpn': 'h2' is not offered"));
    }

    [Test]
    public void CrtBase_AndDirectory_LoadEveryCertificateInNameOrder()
    {
        string dir = Path.Combine(_pki.Directory, "certs");
        Directory.CreateDirectory(dir);
        File.Copy(_site, Path.Combine(dir, "b.pem"), true);
        _pki.Issue("certs/a.pem", "a.test", ["a.test"], ecdsa: true, keyApart: true);
        var config = ParseValid(Frontend("bind :443 ssl crt certs", $"crt-base {_pki.Directory}"));
        Assert.That(config.Frontends[0].Binds[0].Tls!.Certificates.Select(c => Path.GetFileName(c.Path)), Is.EqualTo(new[] { "a.pem", "b.pem" }),
            "a.pem.key is the key of a.pem, not a certificate");
    }

    [Test]
    public void CrtList_TakesSniFilters()
    {
        string list = Path.Combine(_pki.Directory, "list.txt");
        File.WriteAllText(list, $"# comment\n{_site} www.example.org Other.Example.org\n\n{_site}\n");
        var config = ParseValid(Frontend($"bind :443 ssl crt-list {list}"));
        var certs = config.Frontends[0].Binds[0].Tls!.Certificates;
        Assert.That((certs.Count, certs[0].SniFilters, certs[1].SniFilters.Count), Is.EqualTo((2, new[] { "www.example.org", "other.example.org" }, 0)));
    }

    [Test]
    public void CertificateErrors_NameFileLineAndPath()
    {
        string missing = Path.Combine(_pki.Directory, "missing.pem");
        string expired = _pki.Issue("expired.pem", "old.test", ["old.test"], notBefore: DateTimeOffset.UtcNow.AddYears(-2), notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        string wrongKey = _pki.WithWrongKey(_site, "wrongkey.pem");
        string noKey = Path.Combine(_pki.Directory, "nokey.pem");
        File.WriteAllText(noKey, File.ReadAllText(_site)[..File.ReadAllText(_site).IndexOf("-----BEGIN PRIVATE KEY", StringComparison.Ordinal)]);
        var errors = ParseErrors(Lines("frontend f", $"bind :1 ssl crt {missing}", $"bind :2 ssl crt {expired}", $"bind :3 ssl crt {wrongKey}",
            $"bind :4 ssl crt {noKey}", "bind :5 ssl", $"bind :6 ssl crt {_site} verify required", "default_backend b", "backend b"));
        Assert.That(errors, Has.Some.StartsWith($"test.cfg:2: 'bind crt': cannot read certificate '{missing}'"));
        Assert.That(errors, Has.Some.StartsWith($"test.cfg:3: 'bind crt': certificate '{expired}': expired on"));
        Assert.That(errors, Has.Some.EqualTo($"test.cfg:4: 'bind crt': certificate '{wrongKey}': the private key does not match the certificate"));
        Assert.That(errors, Has.Some.StartsWith($"test.cfg:5: 'bind crt': no private key in '{noKey}'"));
        Assert.That(errors, Has.Some.EqualTo("test.cfg:6: 'bind': 'ssl' needs at least one certificate ('crt' or 'crt-list')"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:7: 'bind': 'verify required' needs 'ca-file'"));
    }

    [Test]
    public void ClientVerification_CaAndCrl_AreLoaded()
    {
        string crl = _pki.Crl("crl.pem");
        var config = ParseValid(Frontend($"bind :443 ssl crt {_site} ca-file ca.pem verify optional crl-file crl.pem", $"ca-base {_pki.Directory}"));
        var tls = config.Frontends[0].Binds[0].Tls!;
        Assert.That((tls.Verify, tls.CaFile, tls.CrlFile), Is.EqualTo((TlsVerify.Optional, File.ReadAllBytes(_pki.CaPath), File.ReadAllBytes(crl))));
        var errors = ParseErrors(Frontend($"bind :443 ssl crt {_site} ca-file {_site}.nope verify required crl-file {_site}"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:2: 'bind ca-file': cannot read CA file"));
        Assert.That(errors, Has.Some.StartsWith($"test.cfg:2: 'bind crl-file': no CRL in '{_site}'"));
    }

    [TestCase("ssl-default-server-ciphers ECDHE+AESGCM", "no effect here")]
    [TestCase("ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256", "no effect here")]
    [TestCase("tune.ssl.default-dh-param 2048", "no DH parameters")]
    public void GlobalsWithoutEffect_AreWarnedAtTheirLine(string keyword, string reason)
    {
        var result = Parse(Frontend($"bind :443 ssl crt {_site}", keyword));
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.StartsWith("test.cfg:2: ").And.Contains(reason));
    }

    [Test]
    public void CipherCurveAndSignatureLists_AreCheckedAsOpenSslTakesThem()
    {
        var options = ParseValid(Frontend($"bind :443 ssl crt {_site} ciphers ECDHE-RSA-AES128-GCM-SHA256 ciphersuites TLS_CHACHA20_POLY1305_SHA256 "
            + "curves X25519:P-256 sigalgs RSA-PSS+SHA256:ECDSA+SHA256 client-sigalgs ECDSA+SHA256 prefer-client-ciphers")).Frontends[0].Binds[0].Tls!.Options;
        Assert.That((options.Ciphers, options.CipherSuites, options.Curves, options.Sigalgs, options.ClientSigalgs, options.PreferClientCiphers),
            Is.EqualTo(("ECDHE-RSA-AES128-GCM-SHA256", "TLS_CHACHA20_POLY1305_SHA256", "X25519:P-256", "RSA-PSS+SHA256:ECDSA+SHA256", "ECDSA+SHA256", true)));
        var defaults = ParseValid(Frontend($"bind :443 ssl crt {_site}", "ssl-default-bind-ciphers ECDHE+AESGCM",
            "ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256", "ssl-default-bind-curves P-384", "ssl-default-bind-options prefer-client-ciphers")).Frontends[0].Binds[0].Tls!.Options;
        Assert.That((defaults.Ciphers, defaults.CipherSuites, defaults.Curves, defaults.PreferClientCiphers), Is.EqualTo(("ECDHE+AESGCM", "TLS_AES_128_GCM_SHA256", "P-384", true)));
        var errors = ParseErrors(Frontend($"bind :443 ssl crt {_site} ciphers NOSUCHCIPHER curves P-999 sigalgs RSA+NOPE", "ssl-default-bind-curves nocurve"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:2: 'ssl-default-bind-curves': OpenSSL refuses 'nocurve'"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:4: 'bind ciphers': OpenSSL refuses 'NOSUCHCIPHER'"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:4: 'bind curves': OpenSSL refuses 'P-999'"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:4: 'bind sigalgs': OpenSSL refuses 'RSA+NOPE'"));
    }

    [Test]
    public void SessionCacheSizeAndLifetime_TakeEffect_SecondsByDefault()
    {
        var defaults = ParseValid(Frontend($"bind :443 ssl crt {_site}")).Global.Tls;
        Assert.That((defaults.SessionCacheSize, defaults.SessionLifetimeSeconds), Is.EqualTo((20000, (int?)null)), "HAProxy's defaults: OpenSSL's lifetime");
        var result = Parse(Frontend($"bind :443 ssl crt {_site}", "tune.ssl.cachesize 0", "tune.ssl.lifetime 600"));
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.None.Contains("tune.ssl"), "both take effect");
        var tls = result.Config!.Global.Tls;
        Assert.That((tls.SessionCacheSize, tls.SessionLifetimeSeconds), Is.EqualTo((0, (int?)600)));
        Assert.That(ParseValid(Frontend($"bind :443 ssl crt {_site}", "tune.ssl.lifetime 10m")).Global.Tls.SessionLifetimeSeconds, Is.EqualTo(600));
        var limits = Parse(Frontend($"bind :443 ssl crt {_site}", "maxsslconn 1000", "maxsslrate 100"));
        Assert.That(limits.Warnings.Select(w => w.ToString()), Has.None.Contains("maxssl"), "both take effect");
        Assert.That((limits.Config!.Global.Tls.MaxSslConn, limits.Config.Global.Tls.MaxSslRate), Is.EqualTo((1000, 100)));
        var record = Parse(Frontend($"bind :443 ssl crt {_site}", "tune.ssl.maxrecord 1400"));
        Assert.That(record.Warnings.Select(w => w.ToString()), Has.None.Contains("maxrecord"), "takes effect (TlsRecordTests)");
        Assert.That((record.Config!.Global.Tls.MaxRecord, defaults.MaxRecord), Is.EqualTo((1400, 0)));
    }

    [Test]
    public void TlsTicketKeys_AsHAProxyReadsThem()
    {
        static string Keys(params int[] sizes) => string.Join("\n", sizes.Select(n => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(n)))) + "\n";
        string good = Path.Combine(_pki.Directory, "keys"), two = Path.Combine(_pki.Directory, "keys2"), mixed = Path.Combine(_pki.Directory, "keys-mixed");
        File.WriteAllText(good, Keys(80, 80, 80, 80));
        File.WriteAllText(two, Keys(48, 48));
        File.WriteAllText(mixed, Keys(80, 48, 80));
        var tls = ParseValid(Frontend($"bind :443 ssl crt {_site} tls-ticket-keys {good}")).Frontends[0].Binds[0].Tls!;
        Assert.That(tls.TicketKeys!.Select(Convert.ToBase64String), Is.EqualTo(File.ReadAllLines(good).Where(l => l.Length > 0)), "every key, in order");
        Assert.That(ParseErrors(Frontend($"bind :443 ssl crt {_site} tls-ticket-keys {two}")),
            Has.Some.StartsWith("test.cfg:2: 'bind tls-ticket-keys': ").And.Contains("at least 3 keys"));
        Assert.That(ParseErrors(Frontend($"bind :443 ssl crt {_site} tls-ticket-keys {mixed}")),
            Has.Some.StartsWith("test.cfg:2: 'bind tls-ticket-keys': ").And.Contains("wrong sized key on line 2"));
        Assert.That(ParseErrors(Frontend($"bind :443 ssl crt {_site} tls-ticket-keys {good}.nope")),
            Has.Some.StartsWith("test.cfg:2: 'bind tls-ticket-keys': cannot read"));
    }

    [Test]
    public void HealthChecks_OverTls_WhereHAProxyDoes()
    {
        ServerConfig Server(string options) =>
            ParseValid(Lines("backend b", "mode http", $"server s 127.0.0.1:443 {options}")).Backends[0].Servers[0];
        var plain = Server($"ssl ca-file {_pki.CaPath} check check-sni site.test");
        Assert.That((plain.CheckTls, plain.CheckTls?.CheckSni), Is.EqualTo((plain.Tls, "site.test")), "ssl, no port/addr: the checks use the server's TLS");
        Assert.That(Server("ssl verify none check port 80").CheckTls, Is.Null, "an explicit port: checks in clear");
        Assert.That(Server("ssl verify none check addr 127.0.0.2").CheckTls, Is.Null, "an explicit addr: checks in clear");
        var forced = Server("check check-ssl verify none port 8443");
        Assert.That((forced.Tls, forced.CheckTls?.Verify), Is.EqualTo(((TlsServerConfig?)null, (TlsVerify?)TlsVerify.None)), "check-ssl alone: TLS for checks only");
        Assert.That(Server("ssl verify none").CheckTls, Is.Null, "no check");
        Assert.That(ParseErrors(Lines("backend b", "server s 127.0.0.1:443 check check-ssl")),
            Has.Some.StartsWith("test.cfg:2: ").And.Contains("verify is enabled by default but no CA file specified"), "haproxy -c refuses it too");
    }

    [Test]
    public void SslServerVerify_AndBadValues()
    {
        var config = ParseValid(Frontend($"bind :443 ssl crt {_site}", "ssl-server-verify none"));
        Assert.That(config.Global.Tls.ServerVerify, Is.EqualTo(TlsVerify.None));
        var errors = ParseErrors(Frontend($"bind :443 ssl crt {_site} ssl-min-ver TLSv9 verify sometimes", "ssl-server-verify maybe"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:2: 'ssl-server-verify': expected none or required"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:4: 'bind ssl-min-ver': expected SSLv3"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:4: 'bind verify': expected none, optional or required"));
    }

    [Test]
    public void SslFetches_AreAclCriteria_BooleansWithoutValues()
    {
        var config = ParseValid(Lines("frontend f", "mode http", "bind :80", "acl tls ssl_fc", "acl named ssl_fc_sni -i www.example.org",
            "http-request redirect scheme https unless tls || { ssl_c_used } { ssl_fc_protocol TLSv1.3 } { ssl_fc_alpn http/1.1 }",
            "default_backend b", "backend b", "mode http"));
        var action = config.Frontends[0].Http.RequestActions.Single();
        Assert.That(action.Condition!.AnyOf.SelectMany(all => all).SelectMany(t => t.Acls).Select(a => a.Expr.Fetch.Kind),
            Is.EqualTo(new[] { SampleFetchKind.SslFc, SampleFetchKind.SslCUsed, SampleFetchKind.SslFcProtocol, SampleFetchKind.SslFcAlpn }));
    }

    [Test]
    public void ServerSsl_OptionsAndHaproxysVerifyError()
    {
        var config = ParseValid(Lines("global", $"ca-base {_pki.Directory}", "backend b", "mode http",
            "server s 127.0.0.1:443 ssl ca-file ca.pem sni req.hdr(host) verifyhost origin.test alpn h2,http/1.1 no-ssl-reuse",
            "server t 127.0.0.1:443 ssl verify none sni str(t.example)"));
        var s = config.Backends[0].Servers[0].Tls!;
        Assert.That((s.Verify, s.SniFromHost, s.VerifyHost, s.Alpn.Single(), s.NoSslReuse), Is.EqualTo((TlsVerify.Required, true, "origin.test", "http/1.1", true)));
        Assert.That(config.Backends[0].Servers[1].Tls!.Sni, Is.EqualTo("t.example"));
        var errors = ParseErrors(Lines("backend b", "mode http", "server s 127.0.0.1:443 ssl", "server t 127.0.0.1:443 ssl verify none sni hdr(x-foo)"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:3: 'server': verify is enabled by default but no CA file specified"));
        Assert.That(errors, Has.Some.StartsWith("test.cfg:4: 'server sni': only str(NAME) and req.hdr(host) are supported yet"));
        Assert.That(ParseValid(Lines("backend b", "mode tcp", "server s 127.0.0.1:443 ssl verify none")).Backends[0].Servers[0].Tls, Is.Not.Null, "mode tcp too");
        var tcp = ParseErrors(Lines("backend b", "mode tcp", "tcp-response content accept", "server s 127.0.0.1:443 ssl verify none"));
        Assert.That(tcp, Has.Some.StartsWith("test.cfg:4: 'server s': 'ssl' to a server is not supported yet with 'tcp-response content' rules"));
    }
}
