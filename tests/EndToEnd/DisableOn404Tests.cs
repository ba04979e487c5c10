using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `http-check disable-on-404` (4.2), with 2 workers: a server whose check answers 404 goes to NOLB in every worker
/// (`show stat` says "NOLB"), takes no new load-balanced request but still its persistent ones (`cookie`), and a 200
/// brings it back UP; `set server BE/SRV health stopping` forces the same state.
/// </summary>
[TestFixture]
public sealed class DisableOn404Tests
{
    private HttpOrigin _o1 = null!, _o2 = null!, _o3 = null!;
    private volatile int _checkStatus = 200;
    private ProxyInstance _proxy = null!;
    private int _port;
    private HttpClient _http = null!;

    /// <summary>The configuration (also valid for HAProxy 2.6: see <see cref="Config_IsValidForHaproxy"/>).</summary>
    private string Config() => $"""
        defaults
            mode http
            timeout connect 1s
            timeout client 20s
            timeout server 20s
            timeout check 2s
        frontend fe
            bind 127.0.0.1:{_port}
            default_backend be
        backend be
            option httpchk GET /health
            http-check disable-on-404
            cookie SRV insert indirect nocache
            server s1 127.0.0.1:{_o1.EndPoint.Port} check inter 100ms rise 1 fall 3 cookie s1
            server s2 127.0.0.1:{_o2.EndPoint.Port} check inter 100ms rise 1 fall 3 cookie s2
        backend forced
            option httpchk GET /health
            http-check disable-on-404
            server f1 127.0.0.1:{_o3.EndPoint.Port}
        """;

    [OneTimeSetUp]
    public void Start()
    {
        _o1 = new HttpOrigin("o1", req => req.StartLine.Contains(" /health ", StringComparison.Ordinal)
            ? HttpOrigin.Response(_checkStatus, "") : HttpOrigin.Ok("from o1", ("X-Origin", "o1")));
        _o2 = new HttpOrigin("o2");
        _o3 = new HttpOrigin("o3");
        _port = Ports.Free();
        _proxy = new ProxyInstance(Config()).Start();
        // No cookie jar: each request without a Cookie header is load-balanced (the backend inserts SRV).
        _http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = new Uri($"http://127.0.0.1:{_port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _http?.Dispose();
        _proxy?.Dispose();
        foreach (var o in new[] { _o1, _o2, _o3 }) if (o is not null) await o.DisposeAsync();
    }

    [Test]
    public void DisableOn404_IsParsed_AndTakesNoArgument()
    {
        string head = Lines("defaults", "    mode http", "    timeout connect 1s", "backend b", "    option httpchk GET /health");
        Assert.That(ParseValid(head + Lines("    server s1 127.0.0.1:80 check")).Backends[0].HttpCheck!.DisableOn404, Is.False);
        Assert.That(ParseValid(head + Lines("    http-check disable-on-404", "    server s1 127.0.0.1:80 check")).Backends[0].HttpCheck!.DisableOn404, Is.True);
        Assert.That(ParseErrors(head + Lines("    http-check disable-on-404 now")), Has.Some.Contains(":6").And.Contains("disable-on-404"));
    }

    // Requests that reached o1 other than its checks.
    private int O1Traffic() => _o1.Requests.Count(r => !r.Request.StartLine.Contains(" /health ", StringComparison.Ordinal));

    private Task UntilStatusAsync(string backend, string server, string status) => ServerStatusRows.UntilAsync(_proxy, backend, server, status);

    private Task SendAsync(int count, string? cookie = null) => ServerStatusRows.SendAsync(_http, count, cookie);

    [Test]
    public async Task Check404_TakesServerToNolbInEveryWorker_PersistentTrafficOnly_200BringsItBack()
    {
        await UntilStatusAsync("be", "s1", "UP");
        _checkStatus = 404;
        await UntilStatusAsync("be", "s1", "NOLB");
        int before = O1Traffic();
        await SendAsync(20);
        Assert.That(O1Traffic(), Is.EqualTo(before), "a NOLB server takes no new load-balanced request from any worker");
        await SendAsync(4, "SRV=s1");
        Assert.That(O1Traffic(), Is.EqualTo(before + 4), "persistent requests still reach a NOLB server");

        _checkStatus = 200;
        await UntilStatusAsync("be", "s1", "UP");
        before = O1Traffic();
        await SendAsync(20);
        Assert.That(O1Traffic(), Is.GreaterThan(before), "back UP, s1 takes its share again");
    }

    [Test]
    public async Task SetServerHealthStopping_IsNolb_UpLeavesIt()
    {
        Task<string> Admin(string command) => ControlClient.SendAsync(_proxy.SocketPath, command, TimeSpan.FromSeconds(10));
        Assert.That(await Admin("set server forced/f1 health stopping"), Is.EqualTo("\n"));
        await UntilStatusAsync("forced", "f1", "NOLB");
        Assert.That(await Admin("set server forced/f1 health up"), Is.EqualTo("\n"));
        await Poll.UntilAsync(() => ServerStatusRows.Of(_proxy, "forced", "f1"), rows => rows.Count == 3 && rows.All(r => r != "NOLB"), "forced/f1 out of NOLB");
    }

    [Test]
    public void Config_IsValidForHaproxy() => HaproxyCheck.AssertAccepts(Config());
}
