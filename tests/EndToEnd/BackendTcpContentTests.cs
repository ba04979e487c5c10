using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// A backend's own `tcp-request inspect-delay` and `tcp-request content` rules (4.1 allows both in a backend; 4.2 "tcp-request
/// content": "in backends, they will be evaluated once a session is assigned a backend"), through the real workers:
/// in mode http with each request, after the frontend's rules and before the backend's http-request rules; in mode tcp
/// on the client's first bytes, waited for under the backend's delay. A rejection closes without an answer, reaches no
/// server, and is counted denied (dreq) on the frontend and on the backend.
/// </summary>
[TestFixture]
public sealed class BackendTcpContentTests
{
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private int _http, _tcp;

    [OneTimeSetUp]
    public void Start()
    {
        _origin = new OriginProcess("app");
        (_http, _tcp) = (Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance($$"""
            defaults
                timeout connect 2s
                timeout client 30s
                timeout server 30s
            frontend web
                mode http
                bind 127.0.0.1:{{_http}}
                default_backend guarded
            backend guarded
                mode http
                tcp-request content reject if { path_beg /blocked }
                tcp-request content set-var(txn.tag) str(backend-rules)
                http-response set-header X-Tag %[var(txn.tag)]
                server s1 127.0.0.1:{{_origin.Port}}
            frontend raw
                mode tcp
                bind 127.0.0.1:{{_tcp}}
                default_backend tcpguard
            backend tcpguard
                mode tcp
                tcp-request inspect-delay 5s
                tcp-request content reject if { req.payload(0,4) -m str QUIT }
                tcp-request content accept if { req.len ge 4 }
                server s1 127.0.0.1:{{_origin.Port}}
            """).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
    }

    [Test]
    public void Config_PassesHaproxyCheck() => UserListAuthEndToEndTests.HaproxyCheck(_proxy);

    /// <summary>What the connection returned until the proxy closed it; a reset counts as a close.</summary>
    private static async Task<string> ExchangeAsync(int port, params string[] parts)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        for (int i = 0; i < parts.Length; i++)
        {
            // The client's own pause between its writes (the backend's delay is 5 s), not a wait for the proxy.
            if (i > 0) await Task.Delay(150);
            await s.SendAsync(Encoding.ASCII.GetBytes(parts[i]), SocketFlags.None);
        }
        var all = new MemoryStream();
        var buf = new byte[16384];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            int n;
            while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0) all.Write(buf, 0, n);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // closed with a reset: what came before it stands
        }
        return Encoding.ASCII.GetString(all.ToArray());
    }

    private long Denied(string proxy, string service)
    {
        var lines = _proxy.Ctl("stats", "--csv").Stdout.Split('\n');
        var header = lines[0].TrimStart('#', ' ').Split(',');
        int dreq = Array.IndexOf(header, "dreq");
        var row = lines.FirstOrDefault(l => l.StartsWith($"{proxy},{service},", StringComparison.Ordinal));
        return row is null || dreq < 0 ? -1 : long.TryParse(row.Split(',')[dreq], out long v) ? v : -1;
    }

    [Test]
    public async Task Http_ARequestTheBackendRejects_IsClosedWithoutAnswer_AndCountedDeniedOnBoth()
    {
        long feBefore = Denied("web", "FRONTEND"), beBefore = Denied("guarded", "BACKEND");
        var r = await ExchangeAsync(_http, "GET /blocked/x HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(r, Is.Empty, "closed without an answer, as HAProxy's reject");
        await Poll.UntilAsync(() => Denied("web", "FRONTEND") > feBefore && Denied("guarded", "BACKEND") > beBefore,
            "dreq counted on the frontend and on the backend");
    }

    [Test]
    public async Task Http_OtherRequests_PassTheBackendsRules_WhoseVariableTheResponseRulesRead()
    {
        var r = await ExchangeAsync(_http, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(r, Does.StartWith("HTTP/1.1 200"), r);
        Assert.That(r, Does.Contain("X-Origin: app").IgnoreCase);
        Assert.That(r, Does.Contain("X-Tag: backend-rules").IgnoreCase, "the backend's set-var ran before its response rules");
    }

    [Test]
    public async Task Http_EachRequestOfAKeepAliveConnection_MeetsTheRules()
    {
        // The first request passes; the second, on the same connection, is rejected: the rules run with each request.
        var r = await ExchangeAsync(_http, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET /blocked HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(r, Does.StartWith("HTTP/1.1 200"), r);
        Assert.That(r.Split("HTTP/1.1 ").Length - 1, Is.EqualTo(1), "one answer, then the close: " + r);
    }

    [Test]
    public async Task Tcp_TheBackendsRules_WaitForTheBytesTheyNeed_ThenRoute()
    {
        // "GE" alone cannot decide either rule: the backend's delay lets the rest come.
        var r = await ExchangeAsync(_tcp, "GE", "T / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(r, Does.StartWith("HTTP/1.1 200"), r);
        Assert.That(r, Does.Contain("X-Origin: app").IgnoreCase);
    }

    [Test]
    public async Task Tcp_FirstBytesTheBackendRejects_CloseTheConnection_AndCountDenied()
    {
        long beBefore = Denied("tcpguard", "BACKEND");
        var r = await ExchangeAsync(_tcp, "QU", "IT now\r\n");
        Assert.That(r, Is.Empty, "closed without a byte from the server");
        await Poll.UntilAsync(() => Denied("tcpguard", "BACKEND") > beBefore, "dreq counted on the backend");
    }
}
