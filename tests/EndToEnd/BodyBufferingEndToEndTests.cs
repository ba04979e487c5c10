using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `option http-buffer-request` with the `req.body*` fetches, and `option abortonclose` (doc/configuration.txt 4.2,
/// 7.3.6), through the real supervisor and one worker: the origins are the test's, so it sees what reached a server.
/// </summary>
[TestFixture]
public sealed class BodyBufferingEndToEndTests
{
    private const string Config = """
        defaults
            mode http
            log global
            option httplog
            timeout connect 5s
            timeout client 30s
            timeout server 30s
            timeout queue 20s
            # 3 s, not 1: the two-part body's 200 ms pause once met a 408 under the whole suite's load
            timeout http-request 3s
        frontend fe
            bind 127.0.0.1:{0}
            option http-buffer-request
            http-request set-header X-Body-Len %[req.body_len]
            http-request set-header X-Body-Size %[req.body_size]
            http-request set-header X-User %[req.body_param(user)]
            use_backend held if {{ path_beg /held }}
            default_backend app
        backend app
            server o 127.0.0.1:{1}
        backend held
            option abortonclose
            server g 127.0.0.1:{2} maxconn 1
        """;

    private HttpOrigin _app = null!;
    private TestServer _held = null!;
    private readonly List<string> _heldPaths = [];
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TrafficLogTests.SyslogReceiver _syslog = null!;
    private ProxyInstance _proxy = null!;
    private int _port;

    [OneTimeSetUp]
    public void Start()
    {
        _app = new HttpOrigin("app");
        // Holds /held/first until released, answers every other request at once; records each path it received.
        _held = new TestServer(async s =>
        {
            var reader = new HttpReader(s);
            while (await reader.ReadAsync(isResponse: false) is { } req)
            {
                string path = req.StartLine.Split(' ')[1];
                lock (_heldPaths) _heldPaths.Add(path);
                if (path == "/held/first") await _release.Task.WaitAsync(TimeSpan.FromSeconds(30));
                await s.SendAsync(HttpOrigin.Ok("held"), SocketFlags.None);
            }
        });
        _syslog = new TrafficLogTests.SyslogReceiver();
        _port = Ports.Free();
        string config = string.Format(Config, _port, _app.EndPoint.Port, _held.EndPoint.Port);
        HaproxyCheck.AssertAccepts(config);
        _proxy = new ProxyInstance(config, global: $"    nbproc 1\n    log 127.0.0.1:{_syslog.Port} local0\n").Start();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _release.TrySetResult();
        _proxy?.Dispose();
        _syslog?.Dispose();
        if (_held is not null) await _held.DisposeAsync();
        if (_app is not null) await _app.DisposeAsync();
    }

    private List<string> HeldPaths()
    {
        lock (_heldPaths) return [.. _heldPaths];
    }

    private async Task<Socket> ConnectAsync()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(IPAddress.Loopback, _port);
        return s;
    }

    /// <summary>The log line of <paramref name="request"/> (its request line), from the lines received so far and those to come.</summary>
    private async Task<string> LogLineAsync(string request)
    {
        var quoted = $"\"{request}\"";
        var seen = new List<string>();
        long deadline = Environment.TickCount64 + 10_000;
        while (Environment.TickCount64 < deadline)
        {
            foreach (var line in await _syslog.ReceiveAsync(1, TimeSpan.FromSeconds(1)))
            {
                if (line.EndsWith(quoted, StringComparison.Ordinal)) return line;
                seen.Add(line);
            }
        }
        throw new AssertionException($"no log line for {request} among:\n{string.Join("\n", seen)}");
    }

    [Test]
    public async Task BodySentInTwoParts_TheRulesSeeItWhole()
    {
        int before = _app.Requests.Count;
        using var s = await ConnectAsync();
        await HttpTestKit.SendAsync(s, "POST /login HTTP/1.1\r\nHost: t\r\nContent-Length: 21\r\n\r\nuser=ann&");
        // The rest comes later: without the option the rules would run on the first 9 bytes (req.body_len 9).
        await Task.Delay(200);
        await HttpTestKit.SendAsync(s, "password=xyz");
        var reply = await new HttpReader(s).ReadAsync(isResponse: true);
        Assert.That(reply!.Status, Is.EqualTo(200));
        var seen = _app.Requests[before].Request;
        Assert.That((seen.Header("X-Body-Len"), seen.Header("X-Body-Size"), seen.Header("X-User"), seen.BodyText),
            Is.EqualTo(("21", "21", "ann", "user=ann&password=xyz")));
    }

    [Test]
    public async Task ExpectContinue_AnsweredByTheProxy_ChunkedBodyBufferedDechunked()
    {
        int before = _app.Requests.Count;
        using var s = await ConnectAsync();
        var reader = new HttpReader(s);
        await HttpTestKit.SendAsync(s, "POST /form HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n");
        var interim = await reader.ReadAsync(isResponse: true);
        Assert.That(interim!.Status, Is.EqualTo(100), "HAProxy's http_handle_expect_hdr: the proxy asks for the body itself");
        await HttpTestKit.SendAsync(s, "9\r\nuser=bob&\r\n3\r\nx=1\r\n0\r\n\r\n");
        var reply = await reader.ReadAsync(isResponse: true);
        Assert.That(reply!.Status, Is.EqualTo(200));
        var seen = _app.Requests[before].Request;
        Assert.That((seen.Header("Expect"), seen.Header("X-Body-Len"), seen.Header("X-User"), seen.BodyText),
            Is.EqualTo(((string?)null, "12", "bob", "user=bob&x=1")));
    }

    [Test]
    public async Task BodyNeverCompleted_408AtTimeoutHttpRequest_NothingForwarded()
    {
        int before = _app.Requests.Count;
        using var s = await ConnectAsync();
        await HttpTestKit.SendAsync(s, "POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nuser=eve");
        var reply = await new HttpReader(s).ReadAsync(isResponse: true);
        Assert.That(reply!.Status, Is.EqualTo(408));
        var line = await LogLineAsync("POST /slow HTTP/1.1");
        Assert.That(line, Does.Contain(" -1/-1/-1/-1/").And.Contain(" 408 ").And.Contain(" cR-- "), "measured with haproxy 2.6.12: TR -1, 408, cR");
        Assert.That(_app.Requests, Has.Count.EqualTo(before), "no server saw it");
    }

    [Test]
    public async Task AbortOnClose_AQueuedRequestWhoseClientLeft_NeverReachesTheServer()
    {
        using var first = await ConnectAsync();
        await HttpTestKit.SendAsync(first, "GET /held/first HTTP/1.1\r\nHost: t\r\n\r\n");
        await Poll.UntilAsync(() => HeldPaths().Contains("/held/first"), "the first request held by the server (maxconn 1)");
        using (var second = await ConnectAsync())
        {
            await HttpTestKit.SendAsync(second, "GET /held/second HTTP/1.1\r\nHost: t\r\n\r\n");
            second.Shutdown(SocketShutdown.Send);   // the client gives up while its request is queued
            var line = await LogLineAsync("GET /held/second HTTP/1.1");
            Assert.That(line, Does.Contain(" CQ-- "), "dropped from the queue, as option abortonclose says");
        }
        _release.TrySetResult();
        Assert.That((await new HttpReader(first).ReadAsync(isResponse: true))!.Status, Is.EqualTo(200));
        using var third = await ConnectAsync();
        await HttpTestKit.SendAsync(third, "GET /held/third HTTP/1.1\r\nHost: t\r\n\r\n");
        Assert.That((await new HttpReader(third).ReadAsync(isResponse: true))!.Status, Is.EqualTo(200));
        Assert.That(HeldPaths(), Is.EqualTo(new[] { "/held/first", "/held/third" }), "the server never saw the dropped request");
    }
}
