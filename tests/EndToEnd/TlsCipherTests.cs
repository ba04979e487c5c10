using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// A bind's `ciphers`, `ciphersuites` and `curves` take effect (issue 16), with the server's preference order unless
/// `prefer-client-ciphers`, as in HAProxy; checked with `openssl s_client`, which prints what was negotiated.
/// </summary>
[TestFixture]
public sealed class TlsCipherTests
{
    private TestPki _pki = null!;
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private int _tls12, _tls13, _clientOrder;

    [OneTimeSetUp]
    public void StartProxy()
    {
        _pki = new TestPki();
        // One certificate per bind: SslStream keys its OpenSSL context by certificate and versions (README, TLS).
        string rsa = _pki.Issue("rsa.pem", "rsa.test", ["rsa.test"]);
        string ecdsa = _pki.Issue("ecdsa.pem", "ecdsa.test", ["ecdsa.test"], ecdsa: true);
        string client = _pki.Issue("client-order.pem", "client-order.test", ["client-order.test"]);
        _origin = new OriginProcess("cipher-origin");
        (_tls12, _tls13, _clientOrder) = (Ports.Free(), Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance($$"""
            defaults
                mode http
                timeout connect 5s
                timeout client 5s
                timeout server 10s
            frontend fe_tls12
                bind 127.0.0.1:{{_tls12}} ssl crt {{rsa}} ssl-max-ver TLSv1.2 ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384
                default_backend be
            frontend fe_tls13
                bind 127.0.0.1:{{_tls13}} ssl crt {{ecdsa}} ssl-min-ver TLSv1.3 ciphersuites TLS_CHACHA20_POLY1305_SHA256 curves P-384
                default_backend be
            frontend fe_client_order
                bind 127.0.0.1:{{_clientOrder}} ssl crt {{client}} ssl-max-ver TLSv1.2 ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384 prefer-client-ciphers
                default_backend be
            backend be
                server o 127.0.0.1:{{_origin.Port}}
            """, global: "    nbproc 1\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
        _pki?.Dispose();
    }

    private static string SClient(int port, string args) => ProcessRunner.Run("bash", ["-c",
        $"openssl s_client -connect 127.0.0.1:{port} {args} </dev/null 2>&1"], TimeSpan.FromSeconds(20)).Stdout;

    [Test]
    public void Ciphers_OnlyTheListed_InTheServersOrder()
    {
        Assert.That(SClient(_tls12, "-tls1_2"), Does.Contain("Cipher is ECDHE-RSA-AES128-GCM-SHA256"), "the first of the list");
        Assert.That(SClient(_tls12, "-tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"),
            Does.Contain("Cipher is ECDHE-RSA-AES128-GCM-SHA256"), "the server's preference, not the client's first");
        Assert.That(SClient(_tls12, "-tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305"), Does.Not.Contain("Cipher is ECDHE"), "a suite not listed is refused");
    }

    [Test]
    public void PreferClientCiphers_TheClientsOrder()
    {
        Assert.That(SClient(_clientOrder, "-tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"),
            Does.Contain("Cipher is ECDHE-RSA-AES256-GCM-SHA384"));
    }

    [Test]
    public void CipherSuitesAndCurves_OfTls13()
    {
        string output = SClient(_tls13, "-tls1_3");
        Assert.That(output, Does.Contain("Cipher is TLS_CHACHA20_POLY1305_SHA256"), output);
        Assert.That(output, Does.Contain("Server Temp Key: ECDH, secp384r1"), "curves P-384: the only group offered");
        Assert.That(SClient(_tls13, "-tls1_3 -groups X25519"), Does.Not.Contain("Cipher is TLS_"), "a group not listed is refused");
    }
}
