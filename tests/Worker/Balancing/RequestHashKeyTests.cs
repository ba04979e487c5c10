using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Tests.Http;
using Proxy.Worker.Balancing;
using Proxy.Worker.Http;

namespace Proxy.Tests.Worker.Balancing;

/// <summary>What `balance uri|url_param|hdr` hash in a request (HAProxy's get_server_uh/ph/hh), or that there is nothing.</summary>
public sealed class RequestHashKeyTests
{
    private static string? Key(BalanceAlgorithm algorithm, BalanceOptions options, string target, string headers = "Host: h\r\n")
    {
        using var head = new HttpHead();
        Assert.That(HttpTestHelper.ParseRequest(head, $"GET {target} HTTP/1.1\r\n{headers}\r\n"), Is.EqualTo(HttpParseStatus.Complete));
        return new RequestHashKey(algorithm, options).TryGet(head, out var key) ? HttpTestHelper.S(key) : null;
    }

    // An absolute-form target needs a Host that matches its authority (the parser refuses a mismatch).
    private static string? Uri(string target, BalanceOptions? options = null) => Key(BalanceAlgorithm.Uri, options ?? BalanceOptions.Default, target,
        target.StartsWith("http", StringComparison.Ordinal) ? $"Host: {new System.Uri(target).Authority}\r\n" : "Host: h\r\n");

    [TestCase("/a/b/c.html?x=1", "/a/b/c.html")]
    [TestCase("/", "/")]
    [TestCase("/?q", "/")]
    [TestCase("http://example.com/a/b?x=1", "http://example.com/a/b")]   // without path-only the authority counts
    public void Uri_Default_PathBeforeQuery(string target, string expected) => Assert.That(Uri(target), Is.EqualTo(expected));

    [Test]
    public void Uri_Whole_IncludesQuery() =>
        Assert.That(Uri("/a/b?x=1&y=2", BalanceOptions.Default with { UriWhole = true }), Is.EqualTo("/a/b?x=1&y=2"));

    [TestCase(1, "/a/b/c?x", "/a")]
    [TestCase(2, "/a/b/c?x", "/a/b")]
    [TestCase(3, "/a/b/c?x", "/a/b/c")]
    [TestCase(5, "/a/b/c?x", "/a/b/c")]
    public void Uri_Depth_StopsBeforeTheNextSlash(int depth, string target, string expected) =>
        Assert.That(Uri(target, BalanceOptions.Default with { UriDepth = depth }), Is.EqualTo(expected));

    [TestCase(4, false, "/abcdef?x", "/abc")]
    [TestCase(8, false, "/abc?xyz", "/abc")]
    [TestCase(8, true, "/abc?xyz", "/abc?xyz")]
    public void Uri_Len_CutsFirst(int len, bool whole, string target, string expected) =>
        Assert.That(Uri(target, BalanceOptions.Default with { UriLength = len, UriWhole = whole }), Is.EqualTo(expected));

    [Test]
    public void Uri_DepthAndLen_WhicheverStopsFirst()
    {
        var o = BalanceOptions.Default with { UriLength = 5, UriDepth = 2 };
        Assert.That(Uri("/a/b/c", o), Is.EqualTo("/a/b"));
        Assert.That(Uri("/abcdef/g", o), Is.EqualTo("/abcd"));
    }

    [TestCase("http://example.com/a/b?x=1", "/a/b")]
    [TestCase("https://example.com:8443/p", "/p")]
    [TestCase("/same/path?x", "/same/path")]
    [TestCase("http://example.com", null)]
    public void Uri_PathOnly_SkipsSchemeAndAuthority(string target, string? expected) =>
        Assert.That(Uri(target, BalanceOptions.Default with { UriPathOnly = true }), Is.EqualTo(expected));

    private static string? Param(string target, string name = "user") =>
        Key(BalanceAlgorithm.UrlParam, BalanceOptions.Default with { UrlParam = name }, target);

    [TestCase("/p?user=alice", "alice")]
    [TestCase("/p?a=1&user=bob&c=3", "bob")]
    [TestCase("/p?user=carol&user=dave", "carol")]
    [TestCase("/p?username=x&user=eve", "eve")]
    [TestCase("/p?xuser=x&user=fay", "fay")]
    public void UrlParam_ValueOfFirstMatchingParameter(string target, string expected) => Assert.That(Param(target), Is.EqualTo(expected));

    [TestCase("/p")]
    [TestCase("/p?")]
    [TestCase("/p?other=1")]
    [TestCase("/p?user")]
    [TestCase("/p?user=")]
    [TestCase("/p?User=alice")]          // parameter names are case-sensitive
    [TestCase("/user=alice")]            // only the query string counts
    public void UrlParam_AbsentOrEmpty_NoKey(string target) => Assert.That(Param(target), Is.Null);

    private static string? Header(string headers, bool domainOnly = false) =>
        Key(BalanceAlgorithm.Header, BalanceOptions.Default with { Header = "X-User", UseDomainOnly = domainOnly }, "/", "Host: h\r\n" + headers);

    [TestCase("X-User: alice\r\n", "alice")]
    [TestCase("x-user:   bob  \r\n", "bob")]
    [TestCase("X-User: carol, dave\r\n", "carol")]          // the first value, as http_find_header(..., full=0)
    [TestCase("X-User: eve\r\nX-User: fay\r\n", "eve")]
    public void Header_FirstValue(string headers, string expected) => Assert.That(Header(headers), Is.EqualTo(expected));

    [TestCase("")]
    [TestCase("X-User:\r\n")]
    [TestCase("X-Other: alice\r\n")]
    public void Header_AbsentOrEmpty_NoKey(string headers) => Assert.That(Header(headers), Is.Null);

    [TestCase("haproxy.1wt.eu", "1wt")]          // HAProxy's own example
    [TestCase("www.example.com", "example")]
    [TestCase("api.example.com:8080", "example")]
    [TestCase("example.com", "example")]
    [TestCase("localhost", "localhost")]
    public void Header_UseDomainOnly_MainDomain(string host, string expected) =>
        Assert.That(Header($"X-User: {host}\r\n", domainOnly: true), Is.EqualTo(expected));
}
