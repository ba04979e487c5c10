using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// The rule actions of issue 18's last part through the real supervisor and worker, one instance: the `redirect`
/// keyword (prefix, append-slash, set-cookie) after the http-request rules, a map-driven `http-request redirect`,
/// `http-request allow`, `replace-header|replace-value` both ways, `http-response set-var`, `monitor-uri` with
/// `monitor fail`, and `no log`. The same config passes `haproxy -c`.
/// </summary>
[TestFixture]
public sealed class RuleActionsEndToEndTests
{
    private string _dir = null!;
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private int _port;

    private string ConfigText => $$"""
        defaults plain
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
        frontend web from plain
            bind 127.0.0.1:{{_port}}
            no log
            monitor-uri /haproxy_test
            monitor fail if { hdr(x-fail) 1 }
            http-request redirect location %[path,map_str({{_dir}}/moved.map)] code 308 if { path,map_str({{_dir}}/moved.map) -m found }
            http-request allow if { hdr(x-trusted) 1 }
            http-request deny if { path_beg /admin }
            http-request replace-header Cookie ^sid=([^;]*)(.*)$ sid=\1;src=%[src]\2
            http-response set-var(res.origin) res.hdr(x-origin)
            http-response replace-value X-Origin ^o(.*)$ origin-\1
            http-response set-header X-Seen %[var(res.origin)]
            redirect prefix https://www.example.com code 301 drop-query append-slash set-cookie SEEN=1 if { hdr(host) -i example.com }
            default_backend b1
        backend b1 from plain
            server o1 127.0.0.1:{{_origin.Port}}
        """;

    [OneTimeSetUp]
    public void Start()
    {
        _dir = Path.Combine(Path.GetTempPath(), "rule-actions-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "moved.map"), "/old /new\n/legacy /modern/\n");
        _origin = new OriginProcess("o1");
        _port = Ports.Free();
        _proxy = new ProxyInstance(ConfigText, global: "    nbproc 1\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
        Directory.Delete(_dir, true);
    }

    private async Task<string> ExchangeAsync(string request) =>
        Encoding.ASCII.GetString(await TrafficLogTests.ExchangeAsync(_port, request));

    private static string? Header(string response, string name) => response.Split("\r\n")
        .FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();

    [Test]
    public void TheConfig_PassesHaproxyCheck()
    {
        string file = Path.Combine(_dir, "haproxy.cfg");
        File.WriteAllText(file, ConfigText + "\n");   // HAProxy refuses a last line without LF
        var r = ProcessRunner.Run("/usr/sbin/haproxy", ["-c", "-f", file]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
    }

    [Test]
    public async Task Redirects_TheKeywordAfterTheRules_AndAMapDrivenOne()
    {
        var moved = await ExchangeAsync("GET /dir?x=1 HTTP/1.1\r\nHost: EXAMPLE.com\r\nConnection: close\r\n\r\n");
        Assert.That(moved, Does.StartWith("HTTP/1.1 301"));
        Assert.That((Header(moved, "Location"), Header(moved, "Set-Cookie")), Is.EqualTo(("https://www.example.com/dir/", "SEEN=1; path=/;")));

        var denied = await ExchangeAsync("GET /admin HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
        Assert.That(denied, Does.StartWith("HTTP/1.1 403"), "the redirect keyword runs after 'http-request deny'");

        var mapped = await ExchangeAsync("GET /legacy HTTP/1.1\r\nHost: www\r\nConnection: close\r\n\r\n");
        Assert.That(mapped, Does.StartWith("HTTP/1.1 308"));
        Assert.That(Header(mapped, "Location"), Is.EqualTo("/modern/"));
    }

    [Test]
    public async Task AllowReplaceAndResponseVariables()
    {
        var allowed = await ExchangeAsync("GET /admin HTTP/1.1\r\nHost: www\r\nX-Trusted: 1\r\nConnection: close\r\n\r\n");
        Assert.That(allowed, Does.Not.StartWith("HTTP/1.1 403"), "'http-request allow' skipped the deny");

        var replaced = await ExchangeAsync("GET / HTTP/1.1\r\nHost: www\r\nCookie: sid=abc; lang=en\r\nConnection: close\r\n\r\n");
        Assert.That(replaced, Does.StartWith("HTTP/1.1 200"));
        Assert.That(Header(replaced, "X-Seen-Cookie"), Is.EqualTo("sid=abc;src=127.0.0.1; lang=en"), "the origin saw the rewritten Cookie");
        Assert.That(Header(replaced, "X-Origin"), Is.EqualTo("origin-1"));
        Assert.That(Header(replaced, "X-Seen"), Is.EqualTo("o1"), "set-var read the response before the replace rule after it");
    }

    [Test]
    public async Task MonitorUri_200_Or503WhenFailing()
    {
        var up = await ExchangeAsync("GET /haproxy_test HTTP/1.1\r\nHost: www\r\nConnection: close\r\n\r\n");
        var failing = await ExchangeAsync("GET /haproxy_test HTTP/1.1\r\nHost: www\r\nX-Fail: 1\r\nConnection: close\r\n\r\n");
        Assert.That(up, Does.StartWith("HTTP/1.1 200"));
        Assert.That(failing, Does.StartWith("HTTP/1.1 503"));
    }
}
