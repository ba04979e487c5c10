using System.Net;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Tests.Http;
using Proxy.Worker.Http;
using Proxy.Worker.Persistence;
using Proxy.Worker.Runtime;
using Proxy.Worker.Samples;
using static Proxy.Tests.Worker.TcpTestKit;

namespace Proxy.Tests.Worker.Persistence;

/// <summary>
/// Cookie persistence without sockets (doc/configuration.txt 4.2 "cookie"): the date codec HAProxy uses for
/// maxidle/maxlife, reading the request's cookie into a server, and the Cookie / Set-Cookie fields the head writer
/// produces for each mode.
/// </summary>
public sealed class CookiePersistenceUnitTests
{
    private readonly HttpHead _req = new(), _resp = new();
    private readonly SampleContext _facts = new();

    [TearDown]
    public void Release()
    {
        _req.Dispose();
        _resp.Dispose();
    }

    private static BackendRuntime Backend(CookiePersistenceConfig cookie, bool persist = false) =>
        new(TcpTestKit.Backend([
            Server("s1", new IPEndPoint(IPAddress.Loopback, 1)) with { Cookie = "a" },
            Server("s2", new IPEndPoint(IPAddress.Loopback, 2)) with { Cookie = "b" },
            Server("s3", new IPEndPoint(IPAddress.Loopback, 3)),
        ]) with { Persistence = new PersistenceSettings(cookie, persist, [], []) });

    private RequestPersistence Begin(BackendRuntime be, string headers)
    {
        _req.Reset(HttpMessageKind.Request);
        Assert.That(HttpTestHelper.ParseRequest(_req, $"GET / HTTP/1.1\r\nHost: h\r\n{headers}\r\n"), Is.EqualTo(HttpParseStatus.Complete));
        _facts.BeginTransaction();
        _facts.Request = _req;
        var p = new RequestPersistence();
        p.Begin(be.Persistence, _facts, _req);
        return p;
    }

    private string Request(RequestPersistence p)
    {
        var output = new byte[4096];
        int n = Http1HeadWriter.Write(_req, output, HttpHeadWriteFlags.None, default, [], 0, [], 0, null, p.RequestRewrite);
        return Encoding.ASCII.GetString(output, 0, n);
    }

    private string Response(RequestPersistence p, ServerRuntime server, string headers = "")
    {
        _resp.Reset(HttpMessageKind.Response, Http1Method.Get);
        Assert.That(HttpTestHelper.ParseResponse(_resp, $"HTTP/1.1 200 OK\r\n{headers}Content-Length: 0\r\n\r\n"), Is.EqualTo(HttpParseStatus.Complete));
        var output = new byte[4096];
        int n = Http1HeadWriter.Write(_resp, output, HttpHeadWriteFlags.None, default, [], 0, [], 0, null, p.PrepareResponse(server, _req, _resp));
        return Encoding.ASCII.GetString(output, 0, n);
    }

    [TestCase(0, "AAAAA")]
    [TestCase(1, "AAAAB")]
    [TestCase(63, "AAAA/")]
    [TestCase(64, "AAABA")]
    [TestCase(0x3FFFFFFF, "/////")]
    public void CookieDate_IsHaproxysBase64Of30Bits(int value, string text)
    {
        var buffer = new byte[5];
        CookieDate.Encode(value, buffer);
        Assert.That(Encoding.ASCII.GetString(buffer), Is.EqualTo(text));
        Assert.That(CookieDate.Decode(buffer), Is.EqualTo(value));
    }

    [TestCase("AAAA")]
    [TestCase("AA*AA")]
    [TestCase("")]
    public void CookieDate_ShortOrNotBase64_IsMinusOne(string text) => Assert.That(CookieDate.Decode(Encoding.ASCII.GetBytes(text)), Is.EqualTo(-1));

    [Test]
    public void ParseDates_SplitsServerLastAndFirst()
    {
        RequestPersistence.ParseDates("srv|AAABA|AAAAB"u8, out var id, out long last, out long first);
        Assert.That((Encoding.ASCII.GetString(id), last, first), Is.EqualTo(("srv", 64L * 4, 4L)));
        RequestPersistence.ParseDates("srv"u8, out id, out last, out first);
        Assert.That((Encoding.ASCII.GetString(id), last, first), Is.EqualTo(("srv", 0L, 0L)));
        RequestPersistence.ParseDates("srv|bad"u8, out id, out last, out _);
        Assert.That((Encoding.ASCII.GetString(id), last), Is.EqualTo(("srv", 0L)), "a date too short is ignored, the server kept");
    }

    [Test]
    public void InsertIndirect_ValidCookie_AssignsTheServer_RemovesTheCookie_AndInsertsNothing()
    {
        var be = Backend(new CookiePersistenceConfig("SRV", CookieMode.Insert) { Indirect = true });
        var p = Begin(be, "Cookie: x=1; SRV=b; y=2\r\n");
        Assert.That((p.Assigned?.Name, p.Direct), Is.EqualTo(("s2", true)));
        Assert.That(Request(p), Does.Contain("\r\nCookie: x=1; y=2\r\n"));
        var response = Response(p, be.Servers[1], "Set-Cookie: SRV=server-own; Path=/\r\nSet-Cookie: other=1\r\n");
        Assert.That(response, Does.Not.Contain("SRV="), "insert mode deletes the server's own cookie of that name");
        Assert.That(response, Does.Contain("Set-Cookie: other=1\r\n"));
    }

    [Test]
    public void Insert_NoCookie_InsertsTheServersValueWithHaproxysAttributes()
    {
        var be = Backend(new CookiePersistenceConfig("SRV", CookieMode.Insert)
            { HttpOnly = true, Secure = true, Domains = [".a.example", ".b.example"], Attributes = ["SameSite=Lax"], NoCache = true });
        var p = Begin(be, "");
        Assert.That(p.Assigned, Is.Null);
        Assert.That(Response(p, be.Servers[0], "Cache-Control: max-age=60\r\n"), Does.Contain(
            "Set-Cookie: SRV=a; path=/; domain=.a.example; domain=.b.example; HttpOnly; Secure; SameSite=Lax\r\nCache-control: private\r\n"));
        Assert.That(Response(Begin(be, ""), be.Servers[0]), Does.Not.Contain("Cache-control"), "nothing a cache could use: no private (HAProxy 2.6)");
        Assert.That(Response(Begin(be, ""), be.Servers[2]), Does.Contain("Set-Cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"),
            "a server without a cookie value deletes the client's");
    }

    [Test]
    public void DownServer_IsNotAssigned_UnlessOptionPersist()
    {
        var be = Backend(new CookiePersistenceConfig("SRV", CookieMode.Insert));
        be.Servers[0].SetUp(false);
        Assert.That(Begin(be, "Cookie: SRV=a\r\n").Assigned, Is.Null);
        var persist = Backend(new CookiePersistenceConfig("SRV", CookieMode.Insert), persist: true);
        persist.Servers[0].SetUp(false);
        Assert.That(Begin(persist, "Cookie: SRV=a\r\n").Assigned?.Name, Is.EqualTo("s1"));
    }

    [Test]
    public void Redispatched_IsNotDirect_SoANewCookieIsInserted()
    {
        var be = Backend(new CookiePersistenceConfig("SRV", CookieMode.Insert));
        var p = Begin(be, "Cookie: SRV=a\r\n");
        Assert.That(Response(p, be.Servers[1]), Does.Contain("Set-Cookie: SRV=b; path=/\r\n"));
    }

    [Test]
    public void MaxIdle_RefreshesTheDate_AndAnIdleCookieIsIgnored()
    {
        var be = Backend(new CookiePersistenceConfig("SRV", CookieMode.Insert) { MaxIdleSeconds = 60, MaxLifeSeconds = 3600 });
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var date = new byte[5];
        CookieDate.Encode(CookieDate.ToUnits(now - 600), date);
        string old = Encoding.ASCII.GetString(date);
        Assert.That(Begin(be, $"Cookie: SRV=a|{old}|{old}\r\n").Assigned, Is.Null, "idle for 10 minutes with maxidle 1m");
        var p = Begin(be, "");
        var response = Response(p, be.Servers[0]);
        CookieDate.Encode(CookieDate.ToUnits(now), date);
        Assert.That(response, Does.Match(@"Set-Cookie: SRV=a\|[A-Za-z0-9+/]{5}\|[A-Za-z0-9+/]{5}; path=/\r\n"));
        string cookie = response[(response.IndexOf("SRV=", StringComparison.Ordinal) + 4)..response.IndexOf("; path", StringComparison.Ordinal)];
        Assert.That(Begin(be, $"Cookie: SRV={cookie}\r\n").Assigned?.Name, Is.EqualTo("s1"), "a fresh cookie sticks");
    }

    [Test]
    public void Prefix_StripsTheServerFromRequests_AndPrefixesTheServersCookie()
    {
        var be = Backend(new CookiePersistenceConfig("JSESSIONID", CookieMode.Prefix));
        var p = Begin(be, "Cookie: JSESSIONID=b~xyz; a=1\r\n");
        Assert.That(p.Assigned?.Name, Is.EqualTo("s2"));
        Assert.That(Request(p), Does.Contain("\r\nCookie: JSESSIONID=xyz; a=1\r\n"));
        Assert.That(Response(p, be.Servers[1], "Set-Cookie: JSESSIONID=new; Path=/\r\n"), Does.Contain("Set-Cookie: JSESSIONID=b~new; Path=/\r\n"));
    }

    [Test]
    public void Rewrite_ReplacesTheValue_AndLeavesTheRequestAlone()
    {
        var be = Backend(new CookiePersistenceConfig("JSESSIONID", CookieMode.Rewrite));
        var p = Begin(be, "Cookie: JSESSIONID=a\r\n");
        Assert.That(p.RequestRewrite, Is.Null);
        Assert.That(Response(p, be.Servers[0], "Set-Cookie: JSESSIONID=abc123; HttpOnly\r\n"), Does.Contain("Set-Cookie: JSESSIONID=a; HttpOnly\r\n"));
    }

    [Test]
    public void CookieReader_TrimsAndSkipsEmptyPairs()
    {
        var reader = new CookieReader(" a=1 ;; b = 2;flag"u8);
        var pairs = new List<string>();
        while (reader.TryNext(out var n, out var v)) pairs.Add(Encoding.ASCII.GetString(n) + "|" + Encoding.ASCII.GetString(v));
        Assert.That(pairs, Is.EqualTo(new[] { "a|1", "b|2", "|flag" }));
    }
}
