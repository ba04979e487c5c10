using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// TLS session resumption through two workers (issue 16): the ticket keys every worker shares (the supervisor's, or a
/// bind's `tls-ticket-keys` file, whose key before the last names each ticket), so a client resumes on whichever worker
/// SO_REUSEPORT gives its next connection, across a reload too; `no-tls-tickets` (no ticket, a session id);
/// `ssl_fc_is_resumed`, `ssl_reused_sess` and `SslFrontendKeyRate`. The client is `openssl s_client -sess_out/-sess_in`.
/// </summary>
[TestFixture]
public sealed class TlsResumptionTests
{
    private const int Reconnects = 16;
    private TestPki _pki = null!;
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private string _keyFile = null!;
    private byte[][] _keys = null!;
    private int _tickets, _fileKeys, _noTickets;

    [OneTimeSetUp]
    public void StartProxy()
    {
        _pki = new TestPki();
        // One certificate per bind: SslStream keys its OpenSSL context by certificate and versions (README, TLS).
        string site = _pki.Issue("site.pem", "default.test", ["default.test"]);
        string other = _pki.Issue("other.pem", "other.test", ["other.test"], ecdsa: true);
        string third = _pki.Issue("third.pem", "third.test", ["third.test"]);
        _keys = [.. Enumerable.Range(0, 3).Select(_ => System.Security.Cryptography.RandomNumberGenerator.GetBytes(80))];
        _keyFile = Path.Combine(_pki.Directory, "ticket.keys");
        File.WriteAllLines(_keyFile, _keys.Select(Convert.ToBase64String));
        _origin = new OriginProcess("resumption-origin");
        (_tickets, _fileKeys, _noTickets) = (Ports.Free(), Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance($$"""
            defaults
                mode http
                timeout connect 5s
                timeout client 5s
                timeout server 10s
            frontend fe_tickets
                bind 127.0.0.1:{{_tickets}} ssl crt {{site}} alpn http/1.1
                http-response set-header X-Resumed %[ssl_fc_is_resumed]
                default_backend be
            frontend fe_file
                bind 127.0.0.1:{{_fileKeys}} ssl crt {{other}} tls-ticket-keys {{_keyFile}}
                default_backend be
            frontend fe_notickets
                bind 127.0.0.1:{{_noTickets}} ssl crt {{third}} no-tls-tickets
                default_backend be
            backend be
                server o 127.0.0.1:{{_origin.Port}}
            """, global: "    nbproc 2\n    tune.ssl.lifetime 600\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
        _pki?.Dispose();
    }

    /// <summary>One request through `openssl s_client` (-ign_eof: the answer is read, so a TLS 1.3 ticket after the handshake arrives too).</summary>
    private static string Request(int port, string args) => ProcessRunner.Run("bash", ["-c",
        $"printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | openssl s_client -connect 127.0.0.1:{port} -ign_eof {args}"],
        TimeSpan.FromSeconds(20)).Stdout;

    [TestCase("-tls1_2")]
    [TestCase("-tls1_3")]
    public void Tickets_ResumeOnEveryWorker(string version)
    {
        // fe_tickets offers ALPN, which is part of SslStream's key for its OpenSSL context: the warm-up must have
        // configured that context (a review finding), or the first ticket is under one worker's own key.
        string session = Path.Combine(_pki.Directory, "session" + version);
        string first = Request(_tickets, $"{version} -sess_out {session}");
        Assert.That(first, Does.Contain("New, TLSv1.").And.Contain("X-Resumed: 0"), first);
        for (int i = 0; i < Reconnects; i++)
        {
            // Each reconnect comes from a new source port, which SO_REUSEPORT hashes to one of the two workers.
            string again = Request(_tickets, $"{version} -sess_in {session}");
            Assert.That(again, Does.Contain("Reused, TLSv1.").And.Contain("X-Resumed: 1"), $"reconnect {i + 1}: {again}");
        }
        // Both workers resumed sessions (each counts its own ssl_reused_sess): the keys are the instance's, not a worker's.
        var perWorker = ReusedPerWorker("fe_tickets");
        Assert.That(perWorker, Has.Count.EqualTo(2).And.All.GreaterThan(0), string.Join(",", perWorker));
    }

    [Test]
    public void TicketKeysFile_TheKeyBeforeTheLastNamesEachTicket()
    {
        // TLS 1.2 shows the ticket: its first 16 bytes are the name of the key that encrypted it (RFC 5077 4).
        string output = Request(_fileKeys, "-tls1_2");
        Assert.That(TicketName(output), Is.EqualTo(Convert.ToHexString(_keys[1], 0, 16)), output);
        string session = Path.Combine(_pki.Directory, "session-file");
        Request(_fileKeys, $"-tls1_3 -sess_out {session}");
        for (int i = 0; i < 4; i++)
            Assert.That(Request(_fileKeys, $"-tls1_3 -sess_in {session}"), Does.Contain("Reused, TLSv1.3"), $"reconnect {i + 1}");
    }

    [Test]
    public void NoTlsTickets_GivesNoTicket()
    {
        string output = Request(_noTickets, "-tls1_2");
        Assert.That(output, Does.Contain("New, TLSv1.2").And.Contain("HTTP/1.1 200"), output);
        Assert.That(output, Does.Not.Contain("TLS session ticket:"), "no-tls-tickets: no RFC 5077 ticket");
    }

    [Test]
    public async Task ShowInfo_HasTheKeyRateAndTheReusePercentage()
    {
        var info = await Proxy.Shared.Control.ControlClient.SendAsync(_proxy.SocketPath, "show info", TimeSpan.FromSeconds(5));
        Assert.That(info, Does.Match(@"\nSslFrontendKeyRate: \d+\n").And.Match(@"\nSslFrontendMaxKeyRate: \d+\n")
            .And.Match(@"\nSslFrontendSessionReuse_pct: \d+\n"), info);
    }

    [Test, Order(100)]
    public void Reload_TicketsOfTheOldGenerationStillResume()
    {
        // The supervisor rotates the instance's keys at each reload, keeping the last generation's encrypting key.
        string session = Path.Combine(_pki.Directory, "session-reload");
        Assert.That(Request(_tickets, $"-tls1_3 -sess_out {session}"), Does.Contain("New, TLSv1.3"));
        int generation = _proxy.Workers().Max(w => w.Generation);
        var r = _proxy.Ctl("reload");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(_proxy.Workers().Where(w => w.State == "running").Select(w => w.Generation), Has.All.GreaterThan(generation));
        for (int i = 0; i < 4; i++)
            Assert.That(Request(_tickets, $"-tls1_3 -sess_in {session}"), Does.Contain("Reused, TLSv1.3"), $"reconnect {i + 1} after the reload");
    }

    /// <summary>The first 16 bytes of the ticket s_client prints ("TLS session ticket:", then "0000 - xx xx ...-xx ..."), in hex.</summary>
    private static string TicketName(string output)
    {
        var lines = output.Split('\n');
        int at = Array.FindIndex(lines, l => l.Contains("TLS session ticket:"));
        if (at < 0 || at + 1 >= lines.Length) return "(no ticket)";
        var row = lines[at + 1].Trim();
        return row.StartsWith("0000 - ", StringComparison.Ordinal) ? row[7..54].Replace(" ", "").Replace("-", "").ToUpperInvariant() : row;
    }

    /// <summary>ssl_reused_sess of <paramref name="frontend"/> in each live worker's rows of `proxyctl stats --csv`.</summary>
    private List<long> ReusedPerWorker(string frontend)
    {
        var pids = _proxy.Workers().Where(w => w.State == "running").Select(w => w.Pid.ToString()).ToHashSet();
        var lines = _proxy.Ctl("stats", "--csv").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].TrimStart('#', ' ').Split(',');
        int pid = Array.IndexOf(header, "pid"), reused = Array.IndexOf(header, "ssl_reused_sess");
        return [.. lines.Skip(1).Select(l => l.Split(','))
            .Where(f => f[0] == frontend && f[1] == "FRONTEND" && pids.Contains(f[pid]))
            .Select(f => long.TryParse(f[reused], out long v) ? v : -1)];
    }
}
