using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>The `redirect` keyword (doc/configuration.txt 4.4) and the options it shares with `http-request redirect`.</summary>
public class RedirectKeywordTests
{
    private static string Http(params string[] frontendLines) => Lines(
        [
            "defaults",
            "    mode http",
            "    timeout connect 5s",
            "    timeout client 30s",
            "    timeout server 30s",
            "frontend web",
            "    bind 127.0.0.1:8080",
            .. frontendLines,
            "    default_backend app",
            "backend app",
            "    server s1 127.0.0.1:9001",
        ]);

    [Test]
    public void RedirectRules_FollowTheHttpRequestRules_WithTheirOptions()
    {
        var a = ParseValid(Http(
            "    redirect prefix https://www.example.com code 301 drop-query append-slash set-cookie SEEN=1 if { hdr(host) -i example.com }",
            "    http-request deny if { path /admin }",
            "    redirect location /x%20y clear-cookie SID=",
            "    http-request redirect scheme https set-cookie A unless { ssl_fc }")).Frontends[0].Http.RequestActions;

        Assert.That(a.Select(x => x.Kind), Is.EqualTo(new[]
            { HttpRequestActionKind.Deny, HttpRequestActionKind.Redirect, HttpRequestActionKind.Redirect, HttpRequestActionKind.Redirect }));
        Assert.That((a[1].Target, a[1].Cookie), Is.EqualTo(("https", "A; path=/;")), "http-request redirect stays among the http-request rules");
        Assert.That((a[2].Redirect, a[2].Status, a[2].DropQuery, a[2].AppendSlash, a[2].Cookie, a[2].Condition is not null),
            Is.EqualTo((RedirectKind.Prefix, 301, true, true, "SEEN=1; path=/;", true)));
        Assert.That((a[3].Target, a[3].TargetFormat, a[3].Cookie), Is.EqualTo(("/x%20y", (LogFormatConfig?)null, "SID=; path=/; Max-Age=0;")),
            "the redirect keyword's value is literal (HAProxy parses it without log-format)");
    }

    [TestCase("    redirect", "test.cfg:8: 'redirect': expected 'redirect location|prefix|scheme VALUE")]
    [TestCase("    redirect location /x code 305", "test.cfg:8: 'redirect': status '305' is not allowed")]
    [TestCase("    redirect location /x set-cookie", "test.cfg:8: 'redirect': unexpected 'set-cookie'")]
    [TestCase("    redirect location /x set-cookie a;b", "test.cfg:8: 'redirect set-cookie': invalid cookie 'a;b'")]
    [TestCase("    http-request redirect location /x clear-cookie \"\"", "test.cfg:8: 'http-request redirect clear-cookie': invalid cookie ''")]
    public void BadRedirect_ReportsFileLineAndReason(string line, string expected)
    {
        var errors = ParseErrors(Http(line));
        Assert.That(errors, Has.Count.EqualTo(1), string.Join("\n", errors));
        Assert.That(errors[0], Does.StartWith(expected));
    }

    [Test]
    public void Redirect_IsNotAllowedInDefaults_AndAppendSlashWithLocationWarns()
    {
        var errors = ParseErrors(Lines("defaults", "    mode http", "    redirect location /x", "frontend f", "    bind 127.0.0.1:8080", "    default_backend b",
            "backend b", "    server s 127.0.0.1:9001"));
        Assert.That(errors, Has.Some.StartWith("test.cfg:3: 'redirect'"));

        var result = Parse(Http("    redirect location /x append-slash"));
        Assert.That(result.Warnings.Select(w => w.Message), Has.Some.Contains("'append-slash' has no effect with 'location'"));
    }
}
