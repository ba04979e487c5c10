using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// `http-response return|redirect`, `http-request|http-response set-log-level` and `http-request set-src` through one engine
/// (doc/configuration.txt 4.2); each config passes HAProxy 2.6's `haproxy -c` too.
/// </summary>
public class ResponseAnswerAndLogLevelTests
{
    private static async Task<HttpMessage> GetAsync(EngineHarness proxy, string path)
    {
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, $"GET {path} HTTP/1.1\r\nHost: www\r\n\r\n");
        return (await new HttpReader(c).ReadAsync(true))!;
    }

    private static byte[] ByPath(HttpMessage request) => request.StartLine.Split(' ')[1] switch
    {
        "/missing" => HttpOrigin.Response(404, "not here"),
        "/gone" => HttpOrigin.Response(410, "gone"),
        _ => HttpOrigin.Ok("fine"),
    };

    private const string ResponseAnswers = """
        defaults
            mode http
            timeout connect 1s
            timeout client 10s
            timeout server 10s
        frontend fe
            bind BIND
            http-request set-var(txn.path) path
            http-response return status 503 content-type text/plain string maintenance if { status 404 }
            http-response redirect location /new%[var(txn.path)] code 301 set-cookie MOVED=1 if { status 410 }
            default_backend app
        backend app
            server a ORIGIN

        """;

    [Test]
    public async Task ResponseReturnAndRedirect_ReplaceTheServersResponse()
    {
        await using var app = new HttpOrigin("app", ByPath);
        string config = ResponseAnswers.Replace("ORIGIN", $"127.0.0.1:{app.EndPoint.Port}");
        await using var proxy = StartFromText(config);

        var replaced = await GetAsync(proxy, "/missing");
        var moved = await GetAsync(proxy, "/gone");
        var passed = await GetAsync(proxy, "/");

        Assert.That(replaced.StartLine, Does.StartWith("HTTP/1.1 503"));
        Assert.That((replaced.Header("Content-Type"), replaced.BodyText), Is.EqualTo(("text/plain", "maintenance")));
        Assert.That(moved.StartLine, Does.StartWith("HTTP/1.1 301"));
        Assert.That((moved.Header("Location"), moved.Header("Set-Cookie")), Is.EqualTo(("/new/gone", "MOVED=1; path=/;")),
            "the location is a log-format string evaluated on the response");
        Assert.That((passed.Status, passed.BodyText), Is.EqualTo((200, "fine")));
        Assert.That(app.Requests, Has.Count.EqualTo(3), "the server answered each; its answers to the first two went no further");
        HaproxyCheck.AssertAccepts(config.Replace("BIND", "127.0.0.1:8080"));
    }

    private sealed class Syslog : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        public Syslog()
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        }

        public int Port { get; }
        public int Pending => _socket.Available;

        /// <summary>The next datagram, header included.</summary>
        public async Task<string> NextAsync()
        {
            var buf = new byte[65536];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            int n = await _socket.ReceiveAsync(buf, SocketFlags.None, cts.Token);
            return Encoding.UTF8.GetString(buf, 0, n);
        }

        public void Dispose() => _socket.Dispose();
    }

    [Test]
    public async Task SetLogLevel_ChangesTheLinesSeverity_SilentDropsIt_AndTargetsFilterByLevel()
    {
        await using var app = new HttpOrigin("app", ByPath);
        using var all = new Syslog();
        using var errors = new Syslog();
        // The `err` target first: each line reaches it before the other, so once the other has them all it has its own.
        string config = $$"""
            defaults
                mode http
                timeout connect 1s
                timeout client 10s
                timeout server 10s
            frontend fe
                bind BIND
                option httplog
                log 127.0.0.1:{{errors.Port}} local0 err
                log 127.0.0.1:{{all.Port}} local0
                http-request set-log-level silent if { path /quiet }
                http-request set-log-level err if { path /bad }
                http-response set-log-level debug if { status 404 }
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}

            """;
        await using var proxy = StartFromText(config);

        foreach (var path in new[] { "/quiet", "/bad", "/missing", "/" })
            await GetAsync(proxy, path);

        // local0 is facility 16: PRI = 128 + severity (err 3, debug 7, info 6).
        var lines = new[] { await all.NextAsync(), await all.NextAsync(), await all.NextAsync() };
        Assert.That(lines[0], Does.StartWith("<131>").And.Contain("GET /bad "), "the silent request has no line at all");
        Assert.That(lines[1], Does.StartWith("<135>").And.Contain("GET /missing "));
        Assert.That(lines[2], Does.StartWith("<134>").And.Contain("GET / "));
        Assert.That(await errors.NextAsync(), Does.StartWith("<131>").And.Contain("GET /bad "));
        Assert.That(errors.Pending, Is.Zero, "an 'err' target receives only lines at least that important");
        HaproxyCheck.AssertAccepts(config.Replace("BIND", "127.0.0.1:8080"));
    }

    [Test]
    public async Task SetSrc_IsTheSourceOfFetchesForwardforAndTheLog_ForTheRestOfTheConnection()
    {
        await using var app = new HttpOrigin("app");
        using var all = new Syslog();
        // 4.2's example: the address a proxy in front puts in a header, trusted from the local network only.
        string config = $$"""
            defaults
                mode http
                timeout connect 1s
                timeout client 10s
                timeout server 10s
            frontend fe
                bind BIND
                option httplog
                option forwardfor
                log 127.0.0.1:{{all.Port}} local0
                http-request set-src hdr(x-real-ip) if { src 127.0.0.0/8 } { req.hdr(x-real-ip) -m found }
                http-request set-header X-Seen %[src]:%[src_port]
                default_backend app
            backend app
                server a 127.0.0.1:{{app.EndPoint.Port}}

            """;
        await using var proxy = StartFromText(config);

        using (var c = await proxy.ConnectAsync())
        {
            var reader = new HttpReader(c);
            await SendAsync(c, "GET /a HTTP/1.1\r\nHost: www\r\nX-Real-IP: 192.0.2.7\r\n\r\n");
            await reader.ReadAsync(true);
            await SendAsync(c, "GET /b HTTP/1.1\r\nHost: www\r\nX-Real-IP: not-an-address\r\n\r\n");
            await reader.ReadAsync(true);
            await SendAsync(c, "GET /c HTTP/1.1\r\nHost: www\r\n\r\n");
            await reader.ReadAsync(true);
        }

        var seen = app.Requests.Select(r => r.Request).ToList();
        int port = int.Parse(seen[2].Header("X-Seen")!.Split(':')[1]);
        Assert.That((seen[0].Header("X-Seen"), seen[0].Header("X-Forwarded-For")), Is.EqualTo(($"192.0.2.7:{port}", "192.0.2.7")),
            "the address replaced, the connection's port kept");
        // HAProxy rewrites the session's source: the later requests of the connection keep it (and `src 127.0.0.0/8`
        // no longer holds for them, so the rule does not run again).
        Assert.That(seen[1].Header("X-Seen"), Is.EqualTo($"192.0.2.7:{port}"), "the source stays as it was");
        Assert.That((seen[2].Header("X-Seen"), seen[2].Header("X-Forwarded-For")), Is.EqualTo(($"192.0.2.7:{port}", "192.0.2.7")),
            "the next request on the connection keeps the address set-src gave");
        Assert.That(await all.NextAsync(), Does.Contain($"]: 192.0.2.7:{port} [").And.Contain("GET /a "));
        Assert.That(await all.NextAsync(), Does.Contain($"]: 192.0.2.7:{port} [").And.Contain("GET /b "));
        HaproxyCheck.AssertAccepts(config.Replace("BIND", "127.0.0.1:8080"));
    }

    [Test]
    public async Task HttpErrorsSections_AreImportedByErrorfiles_InTheOrderOfTheLines()
    {
        string dir = Directory.CreateTempSubdirectory("proxy-http-errors-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "403.http"), "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n\r\nsite-403\n");
            File.WriteAllText(Path.Combine(dir, "503.http"), "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 9\r\n\r\nsite-503\n");
            File.WriteAllText(Path.Combine(dir, "own503.http"), "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 8\r\n\r\nown-503\n");
            string config = $$"""
                http-errors site
                    errorfile 403 {{dir}}/403.http
                    errorfile 503 {{dir}}/503.http
                defaults
                    mode http
                    timeout connect 1s
                    timeout client 10s
                    timeout server 10s
                frontend fe
                    bind BIND
                    errorfiles site
                    errorfile 503 {{dir}}/own503.http
                    http-request deny if { path /no }
                    http-request deny deny_status 503 if { path /busy }
                    http-request return status 403 errorfiles site if { path /page }
                    http-request return errorfile {{dir}}/own503.http if { path /file }

                """;
            await using var proxy = StartFromText(config);

            Assert.That((await GetAsync(proxy, "/no")).BodyText, Is.EqualTo("site-403\n"));
            Assert.That((await GetAsync(proxy, "/busy")).BodyText, Is.EqualTo("own-503\n"), "the errorfile line after errorfiles wins");
            Assert.That((await GetAsync(proxy, "/page")).BodyText, Is.EqualTo("site-403\n"), "return ... errorfiles: the section's page for the status");
            var file = await GetAsync(proxy, "/file");
            Assert.That((file.Status, file.BodyText), Is.EqualTo((503, "own-503\n")), "return ... errorfile: the whole response as written");
            HaproxyCheck.AssertAccepts(config.Replace("BIND", "127.0.0.1:8080"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
