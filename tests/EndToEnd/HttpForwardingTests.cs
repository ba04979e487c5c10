using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>`mode http` through the real supervisor and (Native AOT) workers, in front of two proxy-origin processes.</summary>
[TestFixture]
public sealed class HttpForwardingTests
{
    private static string Config(int port, OriginProcess o1, OriginProcess o2) => $"""
        defaults
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
            timeout http-request 5s
        frontend web
            bind 127.0.0.1:{port}
            option forwardfor
            acl is_two path_beg /two
            http-request set-header X-Via proxy
            http-response set-header X-Proxy yes
            use_backend two if is_two
            default_backend both
        backend both
            balance roundrobin
            server o1 127.0.0.1:{o1.Port}
            server o2 127.0.0.1:{o2.Port}
        backend two
            http-request set-header X-Route two
            server o2 127.0.0.1:{o2.Port}
        """;

    [Test]
    public async Task HttpClient_ThroughRealWorkers_RoutesBalancesAndStreams()
    {
        using var o1 = new OriginProcess("o1");
        using var o2 = new OriginProcess("o2");
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, o1, o2)).Start();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };

        var seen = new HashSet<string>();
        for (int i = 0; i < 20; i++)
        {
            using var resp = await http.GetAsync("/");
            Assert.That(resp.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            var origin = resp.Headers.GetValues("X-Origin").Single();
            Assert.That(await resp.Content.ReadAsStringAsync(), Is.EqualTo($"hello from {origin}\n"));
            Assert.That(resp.Headers.GetValues("X-Proxy").Single(), Is.EqualTo("yes"));
            seen.Add(origin);
        }
        Assert.That(seen, Is.EquivalentTo(new[] { "o1", "o2" }), "round robin per request reaches both origins");

        // use_backend: /two goes to the backend holding o2 only (origin answers 404 for the path, but o2 answers).
        using (var two = await http.GetAsync("/two"))
            Assert.That(two.Headers.GetValues("X-Origin").Single(), Is.EqualTo("o2"));

        // A large download and an echoed upload, streamed through.
        var bytes = await http.GetByteArrayAsync("/bytes/5000000");
        Assert.That(bytes.Length, Is.EqualTo(5_000_000));
        Assert.That(bytes.All(b => b == (byte)'x'), Is.True);
        var upload = new byte[3 << 20];
        new Random(3).NextBytes(upload);
        using (var echo = await http.PostAsync("/echo", new ByteArrayContent(upload)))
            Assert.That(await echo.Content.ReadAsByteArrayAsync(), Is.EqualTo(upload));
    }

    [Test]
    public async Task MalformedRequest_ThroughRealWorkers_Is400()
    {
        using var o1 = new OriginProcess("o1");
        using var o2 = new OriginProcess("o2");
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, o1, o2)).Start();
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        await s.SendAsync(Encoding.ASCII.GetBytes("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), SocketFlags.None);
        var buf = new byte[4096];
        var all = new MemoryStream();
        int n;
        while ((n = await s.ReceiveAsync(buf, SocketFlags.None)) > 0) all.Write(buf, 0, n);
        var text = Encoding.ASCII.GetString(all.ToArray());
        Assert.That(text, Does.StartWith("HTTP/1.1 400 Bad request\r\n"));
        Assert.That(text, Does.Contain("<h1>400 Bad request</h1>"));
    }
}
