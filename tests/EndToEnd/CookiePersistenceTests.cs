using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Cookie persistence (doc/configuration.txt 4.2 "cookie") through the real supervisor and two workers: every request
/// on a new connection, so both workers serve a client and persistence cannot come from a kept-alive connection. One
/// instance for the fixture, one backend per behaviour: insert (indirect, nocache, httponly, domain), rewrite, prefix,
/// and the rules (force-persist, ignore-persist, use-server, a down server with `option redispatch`). The origin
/// echoes the Cookie field it received (X-Seen-Cookie) and sets `?set-cookie=VALUE`.
/// </summary>
[TestFixture]
public sealed class CookiePersistenceTests
{
    private OriginProcess _o1 = null!, _o2 = null!;
    private ProxyInstance _proxy = null!;
    private int _port;

    /// <summary>The fixture's configuration, `{0}` the listening port and `{1}`/`{2}`/`{3}` the servers' ports (the third one closed).</summary>
    internal const string Config = """
        defaults
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
        frontend web
            bind 127.0.0.1:{0}
            use_backend rw if {{ hdr(x-be) -m str rw }}
            use_backend pfx if {{ hdr(x-be) -m str pfx }}
            use_backend rules if {{ hdr(x-be) -m str rules }}
            default_backend ins
        backend ins
            cookie SRV insert indirect nocache httponly domain .example.com
            server s1 127.0.0.1:{1} cookie a
            server s2 127.0.0.1:{2} cookie b
        backend rw
            cookie JSESSIONID rewrite
            server s1 127.0.0.1:{1} cookie a
            server s2 127.0.0.1:{2} cookie b
        backend pfx
            cookie JSESSIONID prefix
            server s1 127.0.0.1:{1} cookie a
            server s2 127.0.0.1:{2} cookie b
        backend rules
            cookie SRV insert
            option redispatch
            retries 1
            force-persist if {{ hdr(x-force) -m found }}
            ignore-persist if {{ hdr(x-ignore) -m found }}
            use-server s2 if {{ hdr(x-s2) -m found }}
            server s1 127.0.0.1:{1} cookie a
            server s2 127.0.0.1:{2} cookie b
            server s3 127.0.0.1:{3} cookie c check inter 100 fall 1 rise 1
        """;

    [OneTimeSetUp]
    public void Start()
    {
        _o1 = new OriginProcess("o1");
        _o2 = new OriginProcess("o2");
        _port = Ports.Free();
        _proxy = new ProxyInstance(string.Format(Config, _port, _o1.Port, _o2.Port, Ports.Free())).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _o1?.Dispose();
        _o2?.Dispose();
    }

    private sealed record Reply(string Status, string? Origin, string? SeenCookie, string[] SetCookies, string? CacheControl);

    /// <summary>One request on a new connection (so either worker may take it).</summary>
    private async Task<Reply> GetAsync(string backend, string? cookie = null, string target = "/", string extra = "")
    {
        string request = $"GET {target} HTTP/1.1\r\nHost: t\r\nX-Be: {backend}\r\n" + (cookie is null ? "" : $"Cookie: {cookie}\r\n")
            + extra + "Connection: close\r\n\r\n";
        var text = Encoding.ASCII.GetString(await TrafficLogTests.ExchangeAsync(_port, request));
        var lines = text[..Math.Max(0, text.IndexOf("\r\n\r\n", StringComparison.Ordinal))].Split("\r\n");
        string? One(string name) => lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();
        var setCookies = lines.Where(l => l.StartsWith("Set-Cookie:", StringComparison.OrdinalIgnoreCase)).Select(l => l[11..].Trim()).ToArray();
        return new Reply(lines[0], One("X-Origin"), One("X-Seen-Cookie"), setCookies, One("Cache-control"));
    }

    private static string ValueFor(string origin) => origin == "o1" ? "a" : "b";

    [Test]
    public async Task Insert_SetsTheServersCookie_ThenEveryNewConnectionSticks_AndTheServerNeverSeesIt()
    {
        var first = await GetAsync("ins");
        Assert.That(first.Origin, Is.AnyOf("o1", "o2"));
        string value = ValueFor(first.Origin!);
        Assert.That(first.SetCookies, Is.EqualTo(new[] { $"SRV={value}; path=/; domain=.example.com; HttpOnly" }), "HAProxy's inserted cookie");
        Assert.That(first.CacheControl, Is.Null, "nocache: this response has nothing a cache could use (no max-age, ETag...), as HAProxy 2.6");
        for (int i = 0; i < 6; i++)
        {
            var next = await GetAsync("ins", $"SRV={value}; other=1");
            Assert.That(next.Origin, Is.EqualTo(first.Origin), $"request {i} sticks to its server");
            Assert.That(next.SetCookies, Is.Empty, "a valid cookie for the server that answered: nothing inserted");
            Assert.That(next.SeenCookie, Is.EqualTo("other=1"), "indirect: the persistence cookie is removed, the others kept");
        }
        var alone = await GetAsync("ins", $"SRV={value}");
        Assert.That(alone.SeenCookie, Is.Null, "a Cookie field left empty is removed");
        var unknown = await GetAsync("ins", "SRV=zz");
        Assert.That(unknown.SetCookies, Has.Length.EqualTo(1).And.Some.StartsWith("SRV=" + ValueFor(unknown.Origin!) + ";"), "an unknown value is replaced");
    }

    [Test]
    public async Task Rewrite_ReplacesTheServersValue_AndItsCookieSticks()
    {
        var first = await GetAsync("rw", target: "/?set-cookie=JSESSIONID%3Dxyz%3B%20Path%3D%2F");
        string value = ValueFor(first.Origin!);
        Assert.That(first.SetCookies, Is.EqualTo(new[] { $"JSESSIONID={value}; Path=/" }), "the value rewritten, the attributes kept");
        for (int i = 0; i < 6; i++)
        {
            var next = await GetAsync("rw", $"JSESSIONID={value}");
            Assert.That(next.Origin, Is.EqualTo(first.Origin), $"request {i} sticks to its server");
            Assert.That(next.SeenCookie, Is.EqualTo($"JSESSIONID={value}"), "rewrite leaves the request's cookie alone");
        }
    }

    [Test]
    public async Task Prefix_PrefixesTheServersValue_AndStripsItFromRequests()
    {
        var first = await GetAsync("pfx", target: "/?set-cookie=JSESSIONID%3Dxyz");
        string value = ValueFor(first.Origin!);
        Assert.That(first.SetCookies, Is.EqualTo(new[] { $"JSESSIONID={value}~xyz" }));
        for (int i = 0; i < 6; i++)
        {
            var next = await GetAsync("pfx", $"a=1; JSESSIONID={value}~xyz");
            Assert.That(next.Origin, Is.EqualTo(first.Origin), $"request {i} sticks to its server");
            Assert.That(next.SeenCookie, Is.EqualTo("a=1; JSESSIONID=xyz"), "the server sees its own value");
        }
    }

    [Test]
    public async Task Rules_ForceIgnoreUseServer_AndADownServerRedispatched()
    {
        // s3 listens nowhere: once its check fails it is down and the cookie naming it is ignored; before that, the
        // connect fails and `option redispatch` moves the request on its last retry. Either way it is not direct.
        var broken = await GetAsync("rules", "SRV=c");
        Assert.That(broken.Origin, Is.AnyOf("o1", "o2"), "a request whose cookie names the dead server served elsewhere");
        Assert.That(broken.SetCookies, Has.Length.EqualTo(1).And.Some.StartsWith($"SRV={ValueFor(broken.Origin!)}; path=/"),
            "persistence broken: the client gets the new server's cookie");

        var direct = await GetAsync("rules", "SRV=b");
        Assert.That((direct.Origin, direct.SetCookies.Length), Is.EqualTo(("o2", 0)), "a valid cookie, nothing inserted");

        var forced = await GetAsync("rules", "SRV=c", extra: "X-Force: 1\r\n");
        Assert.That(forced.Status, Does.Contain(" 503 "), "force-persist sends it to the dead server and never redispatches (HAProxy's SF_FORCE_PRST)");

        var useServer = await GetAsync("rules", extra: "X-S2: 1\r\n");
        Assert.That((useServer.Origin, useServer.SetCookies.Length), Is.EqualTo(("o2", 0)), "use-server is direct: nothing inserted");
        var ruleFirst = await GetAsync("rules", "SRV=a", extra: "X-S2: 1\r\n");
        Assert.That((ruleFirst.Origin, ruleFirst.SetCookies.Length), Is.EqualTo(("o2", 0)), "use-server wins over a valid cookie (HAProxy 2.6)");

        var origins = new HashSet<string?>();
        for (int i = 0; i < 6; i++)
        {
            var ignored = await GetAsync("rules", "SRV=b", extra: "X-Ignore: 1\r\n");
            Assert.That(ignored.SetCookies, Is.Empty, "ignore-persist: no cookie inserted either");
            origins.Add(ignored.Origin);
        }
        Assert.That(origins, Does.Contain("o1"), "ignore-persist: balanced, the cookie ignored");
    }
}
