using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// TLS termination (`bind ... ssl`) through the real supervisor and worker, with curl and `openssl s_client` as clients
/// and a CA the fixture makes: SNI selection and the default certificate, `strict-sni`, ALPN, client certificates
/// (required and optional, with a CRL), TLS 1.1 refused, `mode tcp` over TLS, `redirect scheme https unless { ssl_fc }`,
/// a garbage handshake costing only its connection, and a reload that serves a renewed certificate. One instance for all;
/// the fixture runs beside others (it times nothing).
/// </summary>
public sealed class TlsTests
{
    private TestPki _pki = null!;
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private string _site = null!, _client = null!, _revoked = null!;
    private int _http, _plain, _tcp, _verify, _toNginx, _wrongCa, _tcpToNginx, _tcpTlsBoth, _tcpWrongCa;
    private NginxOrigin _nginx = null!;
    private System.Net.Sockets.Socket _syslog = null!;

    [OneTimeSetUp]
    public void StartProxy()
    {
        _pki = new TestPki();
        _site = _pki.Issue("site.pem", "default.test", ["default.test"]);
        string other = _pki.Issue("other.pem", "other.test", ["other.test", "*.other.test"], ecdsa: true);
        _client = _pki.Issue("client.pem", "alice", [], client: true);
        _revoked = _pki.Issue("revoked.pem", "mallory", [], client: true);
        _pki.Crl("crl.pem", _revoked);
        _origin = new OriginProcess("tls-origin");
        _nginx = new NginxOrigin(_pki.Issue("nginx.pem", "origin.test", ["origin.test"]));
        using var otherCa = new TestPki("Other CA");
        string wrongCa = Path.Combine(_pki.Directory, "wrong-ca.pem");
        File.Copy(otherCa.CaPath, wrongCa);
        (_http, _plain, _tcp, _verify, _toNginx, _wrongCa) = (Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free());
        (_tcpToNginx, _tcpTlsBoth, _tcpWrongCa) = (Ports.Free(), Ports.Free(), Ports.Free());
        // fe_verify's `option httpslog` lines arrive here.
        _syslog = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 10_000 };
        _syslog.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        int syslogPort = ((System.Net.IPEndPoint)_syslog.LocalEndPoint!).Port;
        _proxy = new ProxyInstance($$"""
            defaults
                timeout connect 5s
                timeout client 5s
                timeout server 10s
            frontend fe_https
                mode http
                bind 127.0.0.1:{{_http}} ssl crt {{_site}} crt {{other}} alpn h2,http/1.1
                http-request return status 200 content-type text/plain string sni-other if { ssl_fc_sni www.other.test }
                http-request return status 200 content-type text/plain string tls13 if { ssl_fc_protocol TLSv1.3 } { path /proto }
                http-response set-header X-Session-Id %[ssl_fc_session_id,hex]
                default_backend be_http
            frontend fe_plain
                mode http
                bind 127.0.0.1:{{_plain}}
                http-request redirect scheme https unless { ssl_fc }
                default_backend be_http
            frontend fe_tcp
                mode tcp
                bind 127.0.0.1:{{_tcp}} ssl crt {{_site}} strict-sni ca-file {{_pki.CaPath}} verify optional crl-file {{_pki.Directory}}/crl.pem
                default_backend be_tcp
            frontend fe_verify
                mode http
                bind 127.0.0.1:{{_verify}} ssl crt {{_site}} ca-file {{_pki.CaPath}} verify required crl-file {{_pki.Directory}}/crl.pem
                log 127.0.0.1:{{syslogPort}} local0
                option httpslog
                http-response set-header X-DN "%[ssl_c_s_dn]"
                http-response set-header X-Issuer-DN "%[ssl_c_i_dn]"
                http-response set-header X-CN %[ssl_c_s_dn(cn)]
                http-response set-header X-Serial %[ssl_c_serial,hex]
                http-response set-header X-Verify %[ssl_c_verify]
                http-response set-header X-Version %[ssl_c_version]
                http-response set-header X-Cipher %[ssl_fc_cipher]
                http-response set-header X-Not-After %[ssl_c_notafter]
                default_backend be_http
            backend be_http
                mode http
                server o 127.0.0.1:{{_origin.Port}}
            backend be_tcp
                mode tcp
                server o 127.0.0.1:{{_origin.Port}}
            listen to_nginx
                mode http
                bind 127.0.0.1:{{_toNginx}}
                server n 127.0.0.1:{{_nginx.TlsPort}} ssl verify required ca-file {{_pki.CaPath}} sni req.hdr(host) verifyhost origin.test
            listen wrong_ca
                mode http
                bind 127.0.0.1:{{_wrongCa}}
                server n 127.0.0.1:{{_nginx.TlsPort}} ssl verify required ca-file {{wrongCa}} sni str(origin.test)
            listen tcp_to_nginx
                mode tcp
                bind 127.0.0.1:{{_tcpToNginx}}
                server n 127.0.0.1:{{_nginx.TlsPort}} ssl verify required ca-file {{_pki.CaPath}} sni str(origin.test)
            listen tcp_tls_both
                mode tcp
                bind 127.0.0.1:{{_tcpTlsBoth}} ssl crt {{_site}}
                server n 127.0.0.1:{{_nginx.TlsPort}} ssl verify required ca-file {{_pki.CaPath}} sni str(origin.test)
            listen tcp_wrong_ca
                mode tcp
                bind 127.0.0.1:{{_tcpWrongCa}}
                server n 127.0.0.1:{{_nginx.TlsPort}} ssl verify required ca-file {{wrongCa}} sni str(origin.test)
            backend chk_http
                mode http
                option httpchk GET /
                http-check expect string sni=origin.test
                server n 127.0.0.1:{{_nginx.TlsPort}} ssl verify required ca-file {{_pki.CaPath}} check check-sni origin.test inter 300ms
            backend chk_wrong_ca
                mode http
                option httpchk GET /
                server n 127.0.0.1:{{_nginx.TlsPort}} ssl verify required ca-file {{wrongCa}} check check-sni origin.test inter 300ms
            backend chk_layer6
                mode tcp
                server n 127.0.0.1:{{_nginx.TlsPort}} check-ssl verify none check inter 300ms
            backend chk_clear_port
                mode http
                option httpchk GET /
                server n 127.0.0.1:{{_nginx.TlsPort}} ssl verify none check port {{_nginx.PlainPort}} inter 300ms
            """, global: "    nbproc 1\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
        _nginx?.Dispose();
        _pki?.Dispose();
        _syslog?.Dispose();
    }

    /// <summary>`openssl s_client` with stdin closed (it then sends nothing and quits after the handshake).</summary>
    private static ProcessRunner.Result SClient(int port, string args) =>
        ProcessRunner.Run("bash", ["-c", $"openssl s_client -connect 127.0.0.1:{port} {args} </dev/null"], TimeSpan.FromSeconds(20));

    private ProcessRunner.Result Curl(string host, int port, string path, params string[] extra) =>
        ProcessRunner.Run("curl", ["-s", "-m", "10", "--cacert", _pki.CaPath, "--resolve", $"{host}:{port}:127.0.0.1", .. extra,
            $"https://{host}:{port}{path}"]);

    [Test]
    public void Sni_PicksTheCertificateByName_FirstIsTheDefault()
    {
        Assert.That(SClient(_http, "-servername www.other.test").Stdout, Does.Contain("subject=CN = other.test"), "wildcard SAN");
        Assert.That(SClient(_http, "-servername other.test").Stdout, Does.Contain("subject=CN = other.test"), "exact name");
        Assert.That(SClient(_http, "-servername unknown.test").Stdout, Does.Contain("subject=CN = default.test"), "default certificate");
        Assert.That(SClient(_http, "-noservername").Stdout, Does.Contain("subject=CN = default.test"), "no SNI");
        var r = Curl("default.test", _http, "/");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout, Does.Contain("tls-origin"), "forwarded to the origin after a verified handshake");
        Assert.That(Curl("www.other.test", _http, "/").Stdout, Is.EqualTo("sni-other"), "ssl_fc_sni in a condition");
        Assert.That(Curl("default.test", _http, "/proto", "--tlsv1.3").Stdout, Is.EqualTo("tls13"), "ssl_fc_protocol");
    }

    [Test]
    public void StrictSni_RefusesUnknownNames()
    {
        Assert.That(SClient(_tcp, "-servername default.test").Stdout, Does.Contain("subject=CN = default.test"));
        var unknown = SClient(_tcp, "-servername unknown.test");
        Assert.That(unknown.Stdout, Does.Not.Contain("subject="), unknown.All);
        Assert.That(SClient(_tcp, "-noservername").Stdout, Does.Not.Contain("subject="));
    }

    [Test]
    public void Alpn_OffersHttp11Only()
    {
        Assert.That(SClient(_http, "-alpn h2,http/1.1").Stdout, Does.Contain("ALPN protocol: http/1.1"));
        Assert.That(SClient(_http, "-alpn h2").Stdout, Does.Contain("No ALPN negotiated"), "a client is never told h2");
    }

    [Test]
    public void Tls11_IsRefused_Tls12Accepted()
    {
        var old = SClient(_http, "-tls1_1 -cipher DEFAULT@SECLEVEL=0");
        Assert.That(old.Stdout, Does.Not.Contain("subject="), old.All);
        Assert.That(SClient(_http, "-tls1_2").Stdout, Does.Contain("Protocol  : TLSv1.2"));
    }

    [Test]
    public void ClientCertificates_RequiredOptionalAndRevoked()
    {
        var (cert, key) = _pki.Split(_client);
        var (badCert, badKey) = _pki.Split(_revoked);
        Assert.That(Curl("default.test", _verify, "/").ExitCode, Is.Not.EqualTo(0), "verify required: no certificate, no handshake");
        var ok = Curl("default.test", _verify, "/", "--cert", cert, "--key", key);
        Assert.That((ok.ExitCode, ok.Stdout.Contains("tls-origin")), Is.EqualTo((0, true)), ok.All);
        Assert.That(Curl("default.test", _verify, "/", "--cert", badCert, "--key", badKey).ExitCode, Is.Not.EqualTo(0), "revoked by the CRL");
        // verify optional (the tcp frontend, relaying HTTP bytes): no certificate is fine, a revoked one is not.
        Assert.That(Curl("default.test", _tcp, "/").Stdout, Does.Contain("tls-origin"));
        Assert.That(Curl("default.test", _tcp, "/", "--cert", badCert, "--key", badKey).ExitCode, Is.Not.EqualTo(0));
    }

    /// <summary>What `openssl x509 -noout -OPTION -nameopt compat` prints after its "NAME=" (OpenSSL's one-line DN form).</summary>
    private static string OpenSslField(string cert, string option)
    {
        var r = ProcessRunner.Run("openssl", ["x509", "-in", cert, "-noout", option, "-nameopt", "compat"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        return r.Stdout.Trim()[(r.Stdout.IndexOf('=') + 1)..];
    }

    [Test]
    public void ClientCertificateFetches_AndTheHttpsLog()
    {
        var (cert, key) = _pki.Split(_client);
        var r = Curl("default.test", _verify, "/", "--cert", cert, "--key", key, "--tlsv1.3", "-D", "-", "-o", "/dev/null");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        var headers = r.Stdout.Split("\r\n").Where(l => l.Contains(": ")).ToDictionary(l => l[..l.IndexOf(':')], l => l[(l.IndexOf(':') + 2)..]);
        Assert.Multiple(() =>
        {
            Assert.That(headers["X-DN"], Is.EqualTo(OpenSslField(cert, "-subject")), "ssl_c_s_dn, as OpenSSL's one-line form");
            Assert.That(headers["X-Issuer-DN"], Is.EqualTo(OpenSslField(cert, "-issuer")), "ssl_c_i_dn");
            Assert.That(headers["X-CN"], Is.EqualTo("alice"), "ssl_c_s_dn(cn)");
            Assert.That(headers["X-Serial"], Is.EqualTo(OpenSslField(cert, "-serial")), "ssl_c_serial,hex");
            Assert.That(headers["X-Verify"], Is.EqualTo("0"), "ssl_c_verify");
            Assert.That(headers["X-Version"], Is.EqualTo("3"), "ssl_c_version");
            Assert.That(headers["X-Cipher"], Does.Match("^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$"), "ssl_fc_cipher");
            Assert.That(headers["X-Not-After"], Does.Match(@"^\d{12}Z$"), "ssl_c_notafter, ASN.1 UTCTime");
        });
        // The httpslog line: %ft with '~', the error ids (0; ssl_fc_err as 16 hex digits), the SNI, version and cipher.
        var buf = new byte[4096];
        string line = "";
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!line.Contains("fe_verify~") && DateTime.UtcNow < deadline)
            line = System.Text.Encoding.UTF8.GetString(buf, 0, _syslog.Receive(buf));
        Assert.That(line, Does.Match(@" fe_verify~ be_http/o .* 200 .*""GET / HTTP/1.1"" 0/0000000000000000/0/0/0 default.test/TLSv1.3/TLS_\w+$"), line);
    }

    [Test]
    public void ShowSslCert_ListsTheLoadedFiles_AndDetailsOne()
    {
        var list = _proxy.Ctl("cmd", "show ssl cert");
        Assert.That(list.ExitCode, Is.EqualTo(0), list.All);
        Assert.That(list.Stdout, Does.StartWith("# transaction\n# filename\n"));
        Assert.That(list.Stdout, Does.Contain(_site + "\n").And.Contain(Path.Combine(_pki.Directory, "other.pem") + "\n"));
        var one = _proxy.Ctl("cmd", $"show ssl cert {_site}");
        Assert.Multiple(() =>
        {
            Assert.That(one.Stdout, Does.Contain($"Filename: {_site}\n").And.Contain("Status: Used\n").And.Contain("Algorithm: RSA2048\n"));
            Assert.That(one.Stdout, Does.Contain($"Serial: {OpenSslField(_site, "-serial")}\n"));
            Assert.That(one.Stdout, Does.Contain($"Subject: {OpenSslField(_site, "-subject")}\n"));
            Assert.That(one.Stdout, Does.Contain($"Issuer: {OpenSslField(_site, "-issuer")}\n"));
            Assert.That(one.Stdout, Does.Contain("Subject Alternative Name: DNS:default.test\n"));
            Assert.That(one.Stdout, Does.Match(@"notAfter: [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4} GMT\n"));
            Assert.That(one.Stdout, Does.Contain("Chain Subject: "), "the CA the file carries after the leaf");
        });
    }

    [Test]
    public void ServerSsl_VerifiesNginxAndSendsTheHostAsSni_WrongCaRefused()
    {
        var r = ProcessRunner.Run("curl", ["-s", "-m", "10", "-H", "Host: origin.test", $"http://127.0.0.1:{_toNginx}/"]);
        Assert.That(r.Stdout, Is.EqualTo("sni=origin.test"), r.All);
        var refused = ProcessRunner.Run("curl", ["-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{_wrongCa}/"]);
        Assert.That(refused.Stdout, Is.EqualTo("503"), "a certificate from another CA is a failed connect");
    }

    [Test]
    public void ServerSsl_InModeTcp_PlainOrTlsClient_WrongCaRefused()
    {
        // The client's bytes reach nginx through TLS (SNI origin.test, its certificate verified), its answer comes back.
        var plain = ProcessRunner.Run("curl", ["-s", "-m", "10", "-H", "Host: origin.test", $"http://127.0.0.1:{_tcpToNginx}/"]);
        Assert.That(plain.Stdout, Is.EqualTo("sni=origin.test"), plain.All);
        // TLS on both sides: terminated here, then a new TLS connection to the server.
        var both = Curl("default.test", _tcpTlsBoth, "/", "-H", "Host: origin.test");
        Assert.That(both.Stdout, Is.EqualTo("sni=origin.test"), both.All);
        // A certificate that does not chain to the server's ca-file: a failed connect, the client's connection closed.
        var refused = ProcessRunner.Run("curl", ["-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{_tcpWrongCa}/"]);
        Assert.That(refused.Stdout, Is.EqualTo("000"), refused.All);
        Assert.That(Stat("tcp_wrong_ca,n,", "econ"), Is.GreaterThanOrEqualTo(1), "counted as a failed connect");
    }

    [Test]
    public async Task HealthChecks_OverTls_AsHAProxyDecides()
    {
        // `ssl` without `port`: the check is a TLS handshake (check-sni sent, the certificate verified), then the request.
        await Poll.UntilAsync(() => CheckStatus("chk_http") == "L7OK", "chk_http L7OK over TLS (nginx answers sni=origin.test)");
        await Poll.UntilAsync(() => CheckStatus("chk_wrong_ca") == "L6RSP", "chk_wrong_ca L6RSP: the certificate does not chain to its ca-file");
        await Poll.UntilAsync(() => CheckStatus("chk_layer6") == "L6OK", "chk_layer6 L6OK: check-ssl without ssl, a layer-6 check");
        await Poll.UntilAsync(() => CheckStatus("chk_clear_port") == "L7OK", "chk_clear_port L7OK: with `port`, the check is in clear");
    }

    /// <summary>check_status of the server `n` of <paramref name="backend"/> in `proxyctl stats --csv`.</summary>
    private string CheckStatus(string backend)
    {
        var lines = _proxy.Ctl("stats", "--csv").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int index = Array.IndexOf(lines[0].TrimStart('#', ' ').Split(','), "check_status");
        var row = lines.FirstOrDefault(l => l.StartsWith(backend + ",n,", StringComparison.Ordinal));
        return index < 0 || row is null ? "" : row.Split(',')[index];
    }

    [TestCase("-tls1_2")]
    [TestCase("-tls1_3")]
    public void Resumption_WithinOneWorker(string version)
    {
        // A request is sent and the answer read (-ign_eof), so a TLS 1.3 ticket, which follows the handshake, is received.
        string session = Path.Combine(_pki.Directory, "session" + version);
        string run(string args) => ProcessRunner.Run("bash", ["-c",
            $"printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | openssl s_client -connect 127.0.0.1:{_http} {version} -ign_eof {args}"],
            TimeSpan.FromSeconds(20)).Stdout;
        Assert.That(run($"-sess_out {session}"), Does.Contain("New, TLSv1."));
        for (int i = 0; i < 3; i++)
            Assert.That(run($"-sess_in {session}"), Does.Contain("Reused, TLSv1."), $"reconnect {i + 1}");
    }

    [Test]
    public void SslFcSessionId_IsTheSessionsId()
    {
        // -no_ticket: with a TLS 1.2 ticket, s_client shows the ticket's SHA-256 as its id, and the server has none (no
        // sample, as in HAProxy, which reads the same SSL_SESSION_get_id).
        var r = ProcessRunner.Run("bash", ["-c",
            $"printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | openssl s_client -connect 127.0.0.1:{_http} -tls1_2 -no_ticket -ign_eof"],
            TimeSpan.FromSeconds(20));
        string clientSide = r.Stdout.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("Session-ID: ", StringComparison.Ordinal))?[12..] ?? "";
        string header = r.Stdout.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("X-Session-Id: ", StringComparison.OrdinalIgnoreCase))?[14..] ?? "";
        Assert.That(clientSide, Has.Length.EqualTo(64), r.All);
        Assert.That(header, Is.EqualTo(clientSide), "the id s_client was given, as `ssl_fc_session_id,hex`");
    }

    [Test]
    public void RedirectSchemeHttps_UnlessSslFc()
    {
        var r = ProcessRunner.Run("curl", ["-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", $"http://127.0.0.1:{_plain}/x"]);
        Assert.That(r.Stdout, Is.EqualTo($"302 https://127.0.0.1:{_plain}/x"));
    }

    [Test]
    public async Task GarbageHandshake_CostsOnlyItsConnection_AndIsCounted()
    {
        using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            s.Connect("127.0.0.1", _http);
            s.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            var buf = new byte[256];
            s.ReceiveTimeout = 10_000;
            int n;
            try { n = s.Receive(buf); } catch (SocketException) { n = 0; }
            Assert.That(n, Is.LessThanOrEqualTo(7), "closed (perhaps after an alert), never answered in plain text");
        }
        Assert.That(Curl("default.test", _http, "/").Stdout, Does.Contain("tls-origin"));
        // Counted on the board: the failed handshake and the completed ones, per frontend (HAProxy's SSL stats module).
        await Poll.UntilAsync(() => FrontendStat("fe_https", "ssl_failed_handshake") >= 1 && FrontendStat("fe_https", "ssl_sess") >= 1,
            "ssl_failed_handshake and ssl_sess of fe_https on the board");
        var info = await Proxy.Shared.Control.ControlClient.SendAsync(_proxy.SocketPath, "show info", TimeSpan.FromSeconds(5));
        Assert.That(info, Does.Match(@"CumSslConns: [1-9]"));
    }

    /// <summary>A frontend's column in `proxyctl stats --csv`; -1 when absent or empty.</summary>
    private long FrontendStat(string frontend, string column) => Stat(frontend + ",FRONTEND,", column);

    /// <summary>The column of the `proxyctl stats --csv` row starting with <paramref name="rowStart"/> ("be,srv,"); -1 when absent or empty.</summary>
    private long Stat(string rowStart, string column)
    {
        var lines = _proxy.Ctl("stats", "--csv").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int index = Array.IndexOf(lines[0].TrimStart('#', ' ').Split(','), column);
        var row = lines.FirstOrDefault(l => l.StartsWith(rowStart, StringComparison.Ordinal));
        return index < 0 || row is null || !long.TryParse(row.Split(',')[index], out long v) ? -1 : v;
    }

    [Test, Order(100)]
    public async Task Reload_ServesTheRenewedCertificate()
    {
        string serial(string text) => text.Split('\n').FirstOrDefault(l => l.StartsWith("serial=", StringComparison.Ordinal)) ?? "";
        var before = serial(ProcessRunner.Run("bash", ["-c", $"openssl s_client -connect 127.0.0.1:{_http} -servername default.test </dev/null 2>/dev/null | openssl x509 -noout -serial"]).Stdout);
        _pki.Issue("site.pem", "default.test", ["default.test"]);   // renewed in place, as certbot does
        var r = _proxy.Ctl("reload");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        await Poll.UntilAsync(() =>
        {
            var now = serial(ProcessRunner.Run("bash", ["-c", $"openssl s_client -connect 127.0.0.1:{_http} -servername default.test </dev/null 2>/dev/null | openssl x509 -noout -serial"]).Stdout);
            return now.Length > 0 && now != before;
        }, "the renewed certificate served after reload");
    }

    [Test]
    public void Check_ReportsAnExpiredCertificateAtItsLine()
    {
        string expired = _pki.Issue("expired.pem", "old.test", ["old.test"], notBefore: DateTimeOffset.UtcNow.AddYears(-2), notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        string cfg = Path.Combine(_pki.Directory, "bad.cfg");
        File.WriteAllText(cfg, $"frontend f\n    mode http\n    bind 127.0.0.1:1 ssl crt {expired}\n    default_backend b\nbackend b\n    mode http\n");
        var r = ProcessRunner.Run(Artifacts.Proxyctl, ["check", "-f", cfg]);
        Assert.That(r.ExitCode, Is.Not.EqualTo(0));
        Assert.That(r.All, Does.Contain($"{cfg}:3: 'bind crt': certificate '{expired}': expired on"));
    }
}
