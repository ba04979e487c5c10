using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Tests.Worker.ProxyProtocol;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// The PROXY protocol through the real supervisor and workers, against real peers: curl's `--haproxy-protocol` (v1)
/// and hand-written v1/v2 headers into `accept-proxy`, and nginx listening with `proxy_protocol` behind `send-proxy`,
/// `send-proxy-v2` and `check-send-proxy`, answering the address its PROXY header carried.
/// One nginx serves every test, and one instance the tests that only pass traffic (each on its own frontend); a test
/// that reads counters or logs starts its own. The fixture runs beside others: it times nothing but `timeout client`
/// against a generous window.
/// </summary>
public sealed class ProxyProtocolTests
{
    private NginxOrigin _nginx = null!;
    private ProxyInstance _shared = null!;
    private int _curlPort, _piecesPort;
    private readonly Dictionary<string, int> _sendProxyPorts = [];
    private readonly Dictionary<string, int> _tcpSendProxyPorts = [];

    private static readonly string[] SendProxyOptions =
        ["send-proxy", "send-proxy-v2", "send-proxy-v2-ssl-cn proxy-v2-options crc32c,authority,unique-id"];

    private static readonly string[] TcpSendProxyOptions = ["send-proxy", "send-proxy-v2"];

    [OneTimeSetUp]
    public void Start()
    {
        _nginx = new NginxOrigin();
        _curlPort = Ports.Free();
        _piecesPort = Ports.Free();
        var config = new StringBuilder($"""
            defaults
                mode http
                timeout connect 2s
                timeout client 5s
                timeout server 5s
            frontend fe_curl
                bind 127.0.0.1:{_curlPort} accept-proxy
                option forwardfor
                default_backend be
            frontend fe_pieces
                bind 127.0.0.1:{_piecesPort} accept-proxy
                option forwardfor
                default_backend be
            backend be
                server s 127.0.0.1:{_nginx.PlainPort}

            """);
        for (int i = 0; i < SendProxyOptions.Length; i++)
        {
            _sendProxyPorts[SendProxyOptions[i]] = Ports.Free();
            config.Append($"""
                frontend fe_send{i}
                    bind 127.0.0.1:{_sendProxyPorts[SendProxyOptions[i]]}
                    default_backend be_send{i}
                backend be_send{i}
                    server s 127.0.0.1:{_nginx.ProxyProtocolPort} {SendProxyOptions[i]}

                """);
        }
        for (int i = 0; i < TcpSendProxyOptions.Length; i++)
        {
            _tcpSendProxyPorts[TcpSendProxyOptions[i]] = Ports.Free();
            config.Append($"""
                frontend fe_tcp{i}
                    mode tcp
                    bind 127.0.0.1:{_tcpSendProxyPorts[TcpSendProxyOptions[i]]} accept-proxy
                    default_backend be_tcp{i}
                backend be_tcp{i}
                    mode tcp
                    balance source
                    server s 127.0.0.1:{_nginx.ProxyProtocolPort} {TcpSendProxyOptions[i]}

                """);
        }
        _shared = new ProxyInstance(config.ToString(), global: "    nbproc 1\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _shared?.Dispose();
        _nginx?.Dispose();
    }

    private static byte[] A(string text) => Encoding.ASCII.GetBytes(text);

    private static byte[] V2Header(string src, int sport, string dst, int dport) =>
        ProxyHeaderParserTests.V2(0x21, 0x11, ProxyHeaderParserTests.Inet4(src, sport, dst, dport));

    /// <summary>Sends <paramref name="data"/> on a new connection (from <paramref name="from"/> when given), half-closes, and reads until the proxy closes (or 10 s).</summary>
    private static async Task<string> ExchangeAsync(int port, byte[] data, IPAddress? from = null)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (from is not null) s.Bind(new IPEndPoint(from, 0));   // another source address on 127.0.0.0/8
        await s.ConnectAsync(IPAddress.Loopback, port);
        await s.SendAsync(data, SocketFlags.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var all = new MemoryStream();
        var buf = new byte[4096];
        try
        {
            int n;
            while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0) all.Write(buf, 0, n);
        }
        catch (SocketException)
        {
            // reset: what came before it is the answer
        }
        return Encoding.ASCII.GetString(all.ToArray());
    }

    private static string Body(string response)
    {
        int at = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return at < 0 ? "" : response[(at + 4)..];
    }

    private static Dictionary<string, string>? CsvRow(ProxyInstance proxy, string pxname, string svname)
    {
        var r = proxy.Ctl("stats", "--csv");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var names = lines[0].TrimStart('#', ' ').Split(',');
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells[0] == pxname && cells[1] == svname)
                return names.Zip(cells).Where(p => p.First.Length > 0).ToDictionary(p => p.First, p => p.Second);
        }
        return null;
    }

    /// <summary>A UDP socket on 127.0.0.1 playing syslog server; collects every line.</summary>
    private sealed class Syslog : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly List<string> _lines = [];
        private readonly Task _loop;
        private readonly CancellationTokenSource _stop = new();

        public Syslog()
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
            _loop = Task.Run(async () =>
            {
                var buffer = new byte[65536];
                try
                {
                    while (true)
                    {
                        int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                        lock (_lines) _lines.Add(Encoding.UTF8.GetString(buffer, 0, n));
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                }
            });
        }

        public int Port { get; }

        public string[] Lines
        {
            get { lock (_lines) return [.. _lines]; }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _socket.Dispose();
            _loop.Wait(2000);
        }
    }

    [Test]
    public async Task AcceptProxy_Curl_HaproxyProtocol_IsServed_AndAPlainRequestIsNot()
    {
        int port = _curlPort;
        var ok = ProcessRunner.Run("curl", ["-s", "-m", "10", "--haproxy-protocol", $"http://127.0.0.1:{port}/"]);
        Assert.That((ok.ExitCode, ok.Stdout), Is.EqualTo((0, "127.0.0.1")), "curl's v1 header accepted; its source forwarded: " + ok.All);
        var plain = ProcessRunner.Run("curl", ["-s", "-m", "10", $"http://127.0.0.1:{port}/"]);
        // Closed without a reply; the request left unread makes the close a reset (56) rather than a FIN (52), as HAProxy's.
        Assert.That(plain.ExitCode, Is.AnyOf(52, 56), "no PROXY header: closed without a reply: " + plain.All);
        await Poll.UntilAsync(() => CsvRow(_shared, "fe_curl", "FRONTEND")?["ereq"] == "1", "the failed header counted in the frontend's ereq");
    }

    [Test]
    public async Task AcceptProxy_HeaderSource_IsTheClient_ForForwardforAclsAndLogs()
    {
        using var syslog = new Syslog();
        int port = Ports.Free();
        using var proxy = new ProxyInstance($"""
            defaults
                mode http
                log global
                option httplog
                timeout connect 2s
                timeout client 5s
                timeout server 5s
            frontend fe
                bind 127.0.0.1:{port} accept-proxy
                option forwardfor
                acl banned src 192.0.2.66
                http-request deny if banned
                default_backend be
            backend be
                server s 127.0.0.1:{_nginx.PlainPort}
            """, global: $"    nbproc 1\n    log 127.0.0.1:{syslog.Port} local0\n").Start();
        const string Get = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

        var v1 = await ExchangeAsync(port, A("PROXY TCP4 203.0.113.7 127.0.0.1 40001 80\r\n" + Get));
        Assert.That((v1.Split(' ')[1], Body(v1)), Is.EqualTo(("200", "203.0.113.7")), "v1: X-Forwarded-For is the header's source: " + v1);
        var v2 = await ExchangeAsync(port, [.. V2Header("198.51.100.9", 40002, "127.0.0.1", 80), .. A(Get)]);
        Assert.That((v2.Split(' ')[1], Body(v2)), Is.EqualTo(("200", "198.51.100.9")), "v2: " + v2);
        var v6 = await ExchangeAsync(port, A("PROXY TCP6 2001:db8::7 ::1 40003 80\r\n" + Get));
        Assert.That(Body(v6), Is.EqualTo("2001:db8::7"), "v1 TCP6: " + v6);
        var local = await ExchangeAsync(port, [.. ProxyHeaderParserTests.V2(0x20, 0x00, []), .. A(Get)]);
        Assert.That(Body(local), Is.EqualTo("127.0.0.1"), "v2 LOCAL keeps the connection's own address: " + local);
        var denied = await ExchangeAsync(port, A("PROXY TCP4 192.0.2.66 127.0.0.1 40004 80\r\n" + Get));
        Assert.That(denied, Does.StartWith("HTTP/1.1 403"), "`src` ACLs see the header's source");

        await Poll.UntilAsync(() => syslog.Lines.Count(l => l.Contains(" fe be/s ")) >= 4 && syslog.Lines.Any(l => l.Contains("192.0.2.66")),
            "the traffic log lines");
        var lines = syslog.Lines;
        Assert.That(lines, Has.Some.Contains("]: 203.0.113.7:40001 ["), "the log's client is the header's:\n" + string.Join("\n", lines));
        Assert.That(lines, Has.Some.Contains("]: 198.51.100.9:40002 ["));
        Assert.That(lines, Has.Some.Contains("]: 192.0.2.66:40004 ["));
    }

    [Test]
    public async Task AcceptProxy_HeaderArrivingInPieces_IsAssembled_AndTheRequestAfterItIsIntact()
    {
        int port = _piecesPort;
        // v2 with a NOOP TLV, cut at the signature, inside the length, inside the addresses, and sent with the request's
        // first bytes: every piece is read once and the request begins exactly after the header.
        byte[] header = ProxyHeaderParserTests.V2(0x21, 0x11, ProxyHeaderParserTests.Inet4("192.0.2.77", 5555, "127.0.0.1", 80), (0x04, new byte[40]));
        byte[] request = A("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        byte[] all = [.. header, .. request];
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        int[] cuts = [5, 15, 22, header.Length + 3, all.Length];
        int at = 0;
        foreach (int cut in cuts)
        {
            await s.SendAsync(all.AsMemory(at, cut - at), SocketFlags.None);
            at = cut;
            await Task.Delay(30);   // pacing: each piece arrives on its own
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var answer = new StringBuilder();
        var buf = new byte[4096];
        int n;
        while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0) answer.Append(Encoding.ASCII.GetString(buf, 0, n));
        Assert.That(answer.ToString(), Does.StartWith("HTTP/1.1 200"));
        Assert.That(Body(answer.ToString()), Is.EqualTo("192.0.2.77"));
    }

    [TestCase("send-proxy")]
    [TestCase("send-proxy-v2")]
    [TestCase("send-proxy-v2-ssl-cn proxy-v2-options crc32c,authority,unique-id")]
    public void SendProxy_NginxSeesTheClientAddress(string options)
    {
        int port = _sendProxyPorts[options];
        // Two requests on one keep-alive client connection: the server connection (and its header) serves both.
        var r = ProcessRunner.Run("curl", ["-s", "-m", "10", $"http://127.0.0.1:{port}/a", "--next", "-s", $"http://127.0.0.1:{port}/b"]);
        Assert.That((r.ExitCode, r.Stdout), Is.EqualTo((0, "127.0.0.1127.0.0.1")), "nginx's $proxy_protocol_addr: " + r.All
            + "\nnginx: " + File.ReadAllText(_nginx.ErrorLog));
    }

    [TestCase("send-proxy")]
    [TestCase("send-proxy-v2")]
    public async Task AcceptProxy_ToSendProxy_PassesTheOriginalClientOn_InTcpMode(string option)
    {
        int port = _tcpSendProxyPorts[option];
        var answer = await ExchangeAsync(port, A("PROXY TCP4 203.0.113.50 127.0.0.1 41000 80\r\nGET / HTTP/1.0\r\n\r\n"));
        Assert.That(Body(answer), Is.EqualTo("203.0.113.50"), "the client's header address, passed on: " + answer);
    }

    [Test]
    public async Task CheckSendProxy_AgainstNginxWithProxyProtocol()
    {
        int port = Ports.Free();
        int pp = _nginx.ProxyProtocolPort;
        long errorLogBefore = new FileInfo(_nginx.ErrorLog).Length;   // nginx is shared: only this test's lines count
        using var proxy = new ProxyInstance($"""
            defaults
                mode http
                timeout connect 2s
                timeout client 5s
                timeout server 5s
                timeout check 2s
            frontend fe
                bind 127.0.0.1:{port}
                default_backend be
            backend be
                option httpchk GET /
                server v1 127.0.0.1:{pp} check inter 200 rise 1 fall 1 check-send-proxy port {pp}
                server v2 127.0.0.1:{pp} check inter 200 rise 1 fall 1 send-proxy-v2
                server bare 127.0.0.1:{pp} check inter 200 rise 1 fall 1 send-proxy port {pp}
            """, global: "    nbproc 1\n").Start();
        // v1: check-send-proxy even with `port`; v2: send-proxy-v2 checks by default (LOCAL command, which nginx takes);
        // bare: `port` turns the default off, so nginx gets a plain request on a proxy_protocol port and refuses it.
        await Poll.UntilAsync(() => CsvRow(proxy, "be", "v1")?["check_status"] == "L7OK", "v1 checked with a PROXY v1 header");
        await Poll.UntilAsync(() => CsvRow(proxy, "be", "v2")?["check_status"] == "L7OK", "v2 checked with a PROXY v2 LOCAL header");
        await Poll.UntilAsync(() => CsvRow(proxy, "be", "bare")?["status"] == "DOWN", "bare (no header) refused by nginx");
        Assert.That(File.ReadAllText(_nginx.ErrorLog)[(int)errorLogBefore..], Does.Contain("broken header"), "nginx saw a request without a PROXY header");
    }

    [Test]
    public async Task ExpectProxy_WithCondition_ExpectsTheHeaderOnlyFromSourcesWhereItHolds()
    {
        int ifPort = Ports.Free();
        int unlessPort = Ports.Free();
        const string IfRule = "tcp-request connection expect-proxy layer4 if { src 127.0.0.1 }";   // braces: kept out of the interpolation
        using var proxy = new ProxyInstance($"""
            defaults
                mode http
                option forwardfor
                timeout connect 2s
                timeout client 5s
                timeout server 5s
            frontend fe_if
                bind 127.0.0.1:{ifPort}
                {IfRule}
                default_backend be
            frontend fe_unless
                bind 127.0.0.1:{unlessPort}
                acl local src 127.0.0.1/32
                tcp-request connection expect-proxy layer4 unless local
                default_backend be
            backend be
                server s 127.0.0.1:{_nginx.PlainPort}
            """, global: "    nbproc 1\n").Start();
        const string Get = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        const string Header = "PROXY TCP4 203.0.113.7 127.0.0.1 40001 80\r\n";
        var one = IPAddress.Parse("127.0.0.1");
        var two = IPAddress.Parse("127.0.0.2");

        // `if { src 127.0.0.1 }`: from 127.0.0.1 the header is required and its source is the client.
        var proxied = await ExchangeAsync(ifPort, A(Header + Get), one);
        Assert.That((proxied.Split(' ')[1], Body(proxied)), Is.EqualTo(("200", "203.0.113.7")), "if, matching source, with a header: " + proxied);
        Assert.That(await ExchangeAsync(ifPort, A(Get), one), Is.Empty, "if, matching source, no header: refused");
        var plain = await ExchangeAsync(ifPort, A(Get), two);
        Assert.That((plain.Split(' ')[1], Body(plain)), Is.EqualTo(("200", "127.0.0.2")), "if, other source: served without a header: " + plain);

        // `unless local`: the opposite.
        var local = await ExchangeAsync(unlessPort, A(Get), one);
        Assert.That((local.Split(' ')[1], Body(local)), Is.EqualTo(("200", "127.0.0.1")), "unless, matching source: served without a header: " + local);
        Assert.That(await ExchangeAsync(unlessPort, A(Get), two), Is.Empty, "unless, other source, no header: refused");
        var other = await ExchangeAsync(unlessPort, A(Header + Get), two);
        Assert.That((other.Split(' ')[1], Body(other)), Is.EqualTo(("200", "203.0.113.7")), "unless, other source, with a header: " + other);

        await Poll.UntilAsync(() => CsvRow(proxy, "fe_if", "FRONTEND")?["ereq"] == "1", "fe_if counted its refused connection");
        await Poll.UntilAsync(() => CsvRow(proxy, "fe_unless", "FRONTEND")?["ereq"] == "1", "fe_unless counted its refused connection");
    }

    [Test]
    public async Task MalformedHeader_ClosesOnlyThatConnection_IsCountedLogged_AndNeverReachesAServer()
    {
        using var syslog = new Syslog();
        int port = Ports.Free();
        // 30 s: the good connection idles through every poll below, each a proxyctl run (seconds on a loaded box).
        using var proxy = new ProxyInstance($"""
            defaults
                mode tcp
                log global
                option tcplog
                timeout connect 2s
                timeout client 30s
                timeout server 30s
            frontend fe
                bind 127.0.0.1:{port}
                tcp-request connection expect-proxy layer4
                default_backend be
            backend be
                server s 127.0.0.1:{_nginx.PlainPort}
            """, global: $"    nbproc 1\n    log 127.0.0.1:{syslog.Port} local0\n").Start();
        // A good connection held open across the bad ones.
        using var good = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await good.ConnectAsync(IPAddress.Loopback, port);
        await good.SendAsync(A("PROXY TCP4 203.0.113.1 127.0.0.1 1000 80\r\n"), SocketFlags.None);
        await Poll.UntilAsync(() => CsvRow(proxy, "be", "s")?["stot"] == "1", "the good connection's session reached the server");

        Assert.That(await ExchangeAsync(port, A("GET / HTTP/1.0\r\n\r\n")), Is.Empty, "not a header: closed with nothing");
        Assert.That(await ExchangeAsync(port, A("PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\nGET / HTTP/1.0\r\n\r\n")), Is.Empty, "bad port");
        Assert.That(await ExchangeAsync(port, A("PROXY SCTP 1.2.3.4 5.6.7.8 1 2\r\n")), Is.Empty, "unknown protocol");

        await Poll.UntilAsync(() => CsvRow(proxy, "fe", "FRONTEND")?["ereq"] == "3", "three failures in ereq");
        Assert.That(CsvRow(proxy, "be", "s")!["stot"], Is.EqualTo("1"), "no failed connection reached the server");
        Assert.That(CsvRow(proxy, "fe", "FRONTEND")!["stot"], Is.EqualTo("1"), "none became a session");

        await good.SendAsync(A("GET / HTTP/1.0\r\nX-Forwarded-For: still-here\r\n\r\n"), SocketFlags.None);
        var buf = new byte[4096];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var answer = new StringBuilder();
        int n;
        while ((n = await good.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0) answer.Append(Encoding.ASCII.GetString(buf, 0, n));
        Assert.That(Body(answer.ToString()), Is.EqualTo("still-here"), "the other connection was untouched");

        await Poll.UntilAsync(() => syslog.Lines.Count(l => l.Contains(" fe/1: ")) >= 3, "three connection error lines");
        var errors = syslog.Lines.Where(l => l.Contains(" fe/1: ")).ToArray();
        Assert.That(errors, Has.Some.Contains("]: 127.0.0.1:").And.Some.EndsWith("fe/1: Received something which does not look like a PROXY protocol header"));
        Assert.That(errors, Has.Some.EndsWith("fe/1: Received an invalid PROXY protocol header"));
        Assert.That(errors, Has.Some.EndsWith("fe/1: Received an unhandled protocol in the PROXY protocol header"));
    }

    [Test]
    public async Task SlowHeader_IsBoundedByTimeoutClient()
    {
        using var syslog = new Syslog();
        int port = Ports.Free();
        int origin = Ports.Free();
        using var proxy = new ProxyInstance($"""
            defaults
                mode http
                log global
                option httplog
                timeout connect 2s
                timeout client 600ms
                timeout server 5s
                timeout http-request 10s
            frontend fe
                bind 127.0.0.1:{port} accept-proxy
                default_backend be
            backend be
                server s 127.0.0.1:{origin}
            """, global: $"    nbproc 1\n    log 127.0.0.1:{syslog.Port} local0\n").Start();
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        // Started before the connect: the worker's timer starts at its accept, after this, so the lower bound holds even
        // when this test's continuation waits for a busy thread pool (a fresh-clone CI run measured 430 ms from a clock
        // started after the connect).
        var clock = Stopwatch.StartNew();
        await s.ConnectAsync(IPAddress.Loopback, port);
        await s.SendAsync(A("PROXY TCP4 1.2"), SocketFlags.None);   // a third of a header, then nothing
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n;
        try
        {
            n = await s.ReceiveAsync(new byte[16], SocketFlags.None, cts.Token);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            n = 0;   // an aborted session closes with a reset
        }
        clock.Stop();
        Assert.That(n, Is.Zero, "closed without an answer");
        Assert.That(clock.ElapsedMilliseconds, Is.InRange(500, 3000), "by `timeout client` (600 ms), not `timeout http-request` (10 s)");
        await Poll.UntilAsync(() => syslog.Lines.Any(l => l.EndsWith("fe/1: Timeout while waiting for PROXY protocol header")), "the timeout logged");
        Assert.That(CsvRow(proxy, "fe", "FRONTEND")!["ereq"], Is.EqualTo("1"));
    }
}
