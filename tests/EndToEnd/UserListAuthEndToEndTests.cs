using System.Net;
using System.Net.Http.Headers;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Config;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `userlist` authentication through the real supervisor and workers (3.4, 4.2 "http-request auth"): one user per
/// crypt(3) format `openssl passwd` makes (-6, -5, -1) and one insecure-password, `http_auth` and `http_auth_group`
/// conditions, HAProxy's 401 with its realm, and a keep-alive client served twice on one connection. The same
/// configuration passes `haproxy -c`.
/// </summary>
[TestFixture]
public sealed class UserListAuthEndToEndTests
{
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private int _port;

    [OneTimeSetUp]
    public void Start()
    {
        _origin = new OriginProcess("app");
        _port = Ports.Free();
        _proxy = new ProxyInstance($$"""
            userlist L
                group admins users alice
                user alice password '{{UserListKeywordTests.Sha512}}'
                user bob password '{{UserListKeywordTests.Sha256}}'
                user carol password '{{UserListKeywordTests.Md5}}'
                user dave insecure-password plain
            defaults
                mode http
                timeout connect 2s
                timeout client 30s
                timeout server 30s
            frontend web
                bind 127.0.0.1:{{_port}}
                http-request auth realm "Admin zone" if { url_param(admin) -m found } !{ http_auth_group(L) admins }
                http-request auth unless { http_auth(L) }
                default_backend app
            backend app
                server o1 127.0.0.1:{{_origin.Port}}
            """, global: "    nbproc 2\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
    }

    private static string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private async Task<string> GetAsync(string path, string? token)
    {
        var request = $"GET {path} HTTP/1.1\r\nHost: x\r\n" + (token is null ? "" : $"Authorization: Basic {token}\r\n") + "Connection: close\r\n\r\n";
        return Encoding.ASCII.GetString(await TrafficLogTests.ExchangeAsync(_port, request));
    }

    [Test]
    public void Config_PassesHaproxyCheck() => HaproxyCheck(_proxy);

    /// <summary>`haproxy -c` on an instance's file, less its `nbproc` line (HAProxy 2.6 has threads instead).</summary>
    internal static void HaproxyCheck(ProxyInstance proxy)
    {
        string file = Path.Combine(proxy.Directory, "haproxy-check.cfg");
        File.WriteAllLines(file, File.ReadAllLines(proxy.ConfigPath).Where(l => !l.TrimStart().StartsWith("nbproc ", StringComparison.Ordinal)));
        var r = ProcessRunner.Run("/usr/sbin/haproxy", ["-c", "-f", file]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
    }

    [TestCase("alice", "secret6")]
    [TestCase("bob", "secret5")]
    [TestCase("carol", "secret1")]
    [TestCase("dave", "plain")]
    public async Task EachHashFormat_RightPasswordReachesTheServer_WrongOneGets401(string user, string password)
    {
        var ok = await GetAsync("/", Basic(user, password));
        Assert.That(ok, Does.StartWith("HTTP/1.1 200"), ok);
        Assert.That(ok, Does.Contain("X-Origin: app").IgnoreCase);
        var denied = await GetAsync("/", Basic(user, password + "x"));
        Assert.That(denied, Does.StartWith("HTTP/1.1 401 Unauthorized\r\n"), denied);
    }

    [Test]
    public async Task NoCredentials_Get401_WithTheFrontendNameAsRealm()
    {
        var r = await GetAsync("/", null);
        Assert.That(r, Does.StartWith("HTTP/1.1 401 Unauthorized\r\n"));
        Assert.That(r, Does.Contain("\r\nWWW-Authenticate: Basic realm=\"web\"\r\n"));
        Assert.That(r, Does.Contain("You need a valid user and password to access this content."));
    }

    [Test]
    public async Task AdminPath_NeedsTheAdminsGroup_AndNamesItsRealm()
    {
        var bob = await GetAsync("/?admin=1", Basic("bob", "secret5"));
        Assert.That(bob, Does.StartWith("HTTP/1.1 401"));
        Assert.That(bob, Does.Contain("WWW-Authenticate: Basic realm=\"Admin zone\""));
        var alice = await GetAsync("/?admin=1", Basic("alice", "secret6"));
        Assert.That(alice, Does.StartWith("HTTP/1.1 200"), alice);
    }

    [Test]
    public async Task KeepAliveClient_IsServedRepeatedlyOnOneConnection()
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionLifetime = TimeSpan.FromMinutes(1) };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{_port}"), Timeout = TimeSpan.FromSeconds(20) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Basic("alice", "secret6"));
        for (int i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/?admin=" + i);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"request {i}");
            Assert.That(response.Headers.ConnectionClose, Is.Not.True, "the connection stays open");
        }
    }
}
