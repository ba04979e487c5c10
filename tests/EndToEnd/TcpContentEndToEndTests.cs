using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `tcp-request inspect-delay` + `tcp-request content` + `use_backend` in mode tcp through the real workers (4.2):
/// TLS passthrough routed by SNI to two nginx TLS origins, each with its own certificate, which the client verifies
/// end to end (the proxy holds no key); and plain bytes that arrive in two parts, for which the rules wait.
/// </summary>
[TestFixture]
public sealed class TcpContentEndToEndTests
{
    private TestPki _pki = null!;
    private NginxOrigin _a = null!, _b = null!;
    private OriginProcess _one = null!, _two = null!;
    private ProxyInstance _proxy = null!;
    private int _tls, _plain;

    [OneTimeSetUp]
    public void Start()
    {
        _pki = new TestPki();
        _a = new NginxOrigin(_pki.Issue("a.pem", "a.example", ["a.example"]));
        _b = new NginxOrigin(_pki.Issue("b.pem", "b.example", ["b.example"]));
        _one = new OriginProcess("one");
        _two = new OriginProcess("two");
        (_tls, _plain) = (Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance($$"""
            defaults
                mode tcp
                timeout connect 2s
                timeout client 30s
                timeout server 30s
            frontend tls_in
                bind 127.0.0.1:{{_tls}}
                tcp-request inspect-delay 5s
                tcp-request content accept if { req_ssl_hello_type 1 }
                use_backend b if { req_ssl_sni -i b.example }
                default_backend a
            frontend plain_in
                bind 127.0.0.1:{{_plain}}
                tcp-request inspect-delay 3s
                tcp-request content accept if { req.len ge 20 }
                use_backend two if { req.len ge 20 }
                default_backend one
            backend a
                server a1 127.0.0.1:{{_a.TlsPort}}
            backend b
                server b1 127.0.0.1:{{_b.TlsPort}}
            backend one
                server o1 127.0.0.1:{{_one.Port}}
            backend two
                server o2 127.0.0.1:{{_two.Port}}
            """, global: "    nbproc 2\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _a?.Dispose();
        _b?.Dispose();
        _one?.Dispose();
        _two?.Dispose();
        _pki?.Dispose();
    }

    private ProcessRunner.Result Curl(string host) => ProcessRunner.Run("/usr/bin/curl",
        ["-sS", "--max-time", "20", "--cacert", _pki.CaPath, "--resolve", $"{host}:{_tls}:127.0.0.1", $"https://{host}:{_tls}/"]);

    [Test]
    public void Config_PassesHaproxyCheck() => UserListAuthEndToEndTests.HaproxyCheck(_proxy);

    [TestCase("b.example")]
    [TestCase("B.Example")]
    [TestCase("a.example")]
    public void Sni_PicksTheOrigin_WhoseCertificateTheClientVerifies(string host)
    {
        // curl checks the certificate against the name: only the origin that holds it can answer.
        var r = Curl(host);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout, Is.EqualTo("sni=" + host.ToLowerInvariant()).IgnoreCase);
    }

    [Test]
    public void UnknownSni_GoesToTheDefaultBackend()
    {
        var r = ProcessRunner.Run("bash", ["-c", $"openssl s_client -connect 127.0.0.1:{_tls} -servername c.example </dev/null"], TimeSpan.FromSeconds(20));
        Assert.That(r.Stdout, Does.Contain("subject=CN = a.example"), r.All);
    }

    private async Task<string> SendInPartsAsync(params string[] parts)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, _plain);
        for (int i = 0; i < parts.Length; i++)
        {
            // The client's own pause between its two writes, not a wait for the proxy; the delay above is 20 times
            // longer, as a loaded CI box once stretched this pause past a 1 s delay.
            if (i > 0) await Task.Delay(150);
            await s.SendAsync(Encoding.ASCII.GetBytes(parts[i]), SocketFlags.None);
        }
        var all = new MemoryStream();
        var buf = new byte[16384];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int n;
        while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0) all.Write(buf, 0, n);
        return Encoding.ASCII.GetString(all.ToArray());
    }

    [Test]
    public async Task BytesArrivingInTwoParts_AreWaitedFor_ThenRouted()
    {
        var r = await SendInPartsAsync("GET / HTTP/1.1\r\n", "Host: x\r\nConnection: close\r\n\r\n");
        Assert.That(r, Does.StartWith("HTTP/1.1 200"));
        Assert.That(r, Does.Contain("X-Origin: two").IgnoreCase, "the rule saw both parts");
    }

    [Test]
    public async Task TooFewBytes_AfterTheDelay_GoToTheDefaultBackend_AndStillReachIt()
    {
        var r = await SendInPartsAsync("GET / HTTP/1.0\r\n\r\n");   // 18 bytes, never 20
        Assert.That(r, Does.StartWith("HTTP/1.1 200").Or.StartWith("HTTP/1.0 200"));
        Assert.That(r, Does.Contain("X-Origin: one").IgnoreCase);
    }
}
