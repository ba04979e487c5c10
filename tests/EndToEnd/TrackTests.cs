using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `track [BE/]SRV` (5.2), with 2 workers: backend b's server tracks a/s1 and runs no check of its own; when a/s1's
/// check fails, b/t1 goes DOWN in every worker (`show stat`, the traffic), and UP again with a/s1. The config errors
/// are HAProxy 2.6's (src/server.c), and HAProxy refuses the same configs.
/// </summary>
[TestFixture]
public sealed class TrackTests
{
    private HttpOrigin _o1 = null!, _t1 = null!, _t2 = null!;
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
            default_backend b
        backend a
            option httpchk GET /health
            server s1 127.0.0.1:{_o1.EndPoint.Port} check inter 100ms rise 1 fall 2
        backend b
            server t1 127.0.0.1:{_t1.EndPoint.Port} track a/s1
            server t2 127.0.0.1:{_t2.EndPoint.Port}
        """;

    [OneTimeSetUp]
    public void Start()
    {
        _o1 = new HttpOrigin("o1", _ => HttpOrigin.Response(_checkStatus, ""));
        (_t1, _t2) = (new HttpOrigin("t1"), new HttpOrigin("t2"));
        _port = Ports.Free();
        _proxy = new ProxyInstance(Config()).Start();
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _http?.Dispose();
        _proxy?.Dispose();
        foreach (var o in new[] { _o1, _t1, _t2 }) if (o is not null) await o.DisposeAsync();
    }

    private const string Head = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n";

    // Each: backend a's lines, backend b's lines, HAProxy's message (the line is b's server, line 10).
    private static readonly object[] Mistakes =
    [
        new object[] { "    server s1 127.0.0.1:81 check", "    server t1 127.0.0.1:83 track a/nope", "'server b/t1': unable to find required server 'nope' for tracking." },
        new object[] { "    server s1 127.0.0.1:81 check", "    server t1 127.0.0.1:83 track zz/s1", "'server b/t1': unable to find required proxy 'zz' for tracking." },
        new object[] { "    server s1 127.0.0.1:81", "    server t1 127.0.0.1:83 track a/s1", "'server b/t1': unable to use a/s1 for tracking as it does not have any check nor agent enabled." },
        new object[] { "    server s1 127.0.0.1:81 check", "    server t1 127.0.0.1:83 check track a/s1", "'server b/t1': unable to enable checks and tracking at the same time!" },
        new object[] { "    server s1 127.0.0.1:81 check", "    server t1 127.0.0.1:83 track t1", "'server b/t1': unable to track b/t1 as it belongs to a tracking chain looping back to b/t1." },
    ];

    private static string MistakeConfig(string a, string b) => Head + Lines("backend a", a, "    server s2 127.0.0.1:82", "backend b", b);

    [TestCaseSource(nameof(Mistakes))]
    public void Mistake_IsRefusedAtFileLine_AsHaproxy(string a, string b, string message)
    {
        Assert.That(ParseErrors(MistakeConfig(a, b)), Does.Contain("test.cfg:10: " + message));
        HaproxyCheck.AssertRefuses(MistakeConfig(a, b));
    }

    private Task UntilStatusAsync(string backend, string server, string status) => ServerStatusRows.UntilAsync(_proxy, backend, server, status);

    private Task SendAsync(int count, string? cookie = null) => ServerStatusRows.SendAsync(_http, count, cookie);

    [Test]
    public async Task TrackedServerDown_TakesTrackerDownInEveryWorker_AndBackUp()
    {
        await UntilStatusAsync("b", "t1", "UP");
        int checksBefore = _t1.Requests.Count;

        _checkStatus = 503;
        await UntilStatusAsync("a", "s1", "DOWN");
        await UntilStatusAsync("b", "t1", "DOWN");
        int before = _t1.Requests.Count;
        await SendAsync(20);
        Assert.That(_t1.Requests.Count, Is.EqualTo(before), "a tracker of a DOWN server takes no request from any worker");

        _checkStatus = 200;
        await UntilStatusAsync("b", "t1", "UP");
        await SendAsync(20);
        Assert.That(_t1.Requests.Count, Is.GreaterThan(before), "back UP with a/s1, t1 takes its share again");
        Assert.That(_t1.Requests.All(r => r.Request.StartLine.StartsWith("GET /x ", StringComparison.Ordinal)), Is.True,
            $"the tracking server is never checked itself ({checksBefore} before)");
    }

    [Test]
    public void Config_IsValidForHaproxy() => HaproxyCheck.AssertAccepts(Config());
}
