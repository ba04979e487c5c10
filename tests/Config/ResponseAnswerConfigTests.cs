using System.Text.Json;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`http-response return|redirect` and `http-request|http-response set-log-level` (doc/configuration.txt 4.2).</summary>
public class ResponseAnswerConfigTests
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
    public void ResponseReturnRedirectAndLogLevels_AreParsedWithTheHttpRequestOptions()
    {
        var http = ParseValid(Http(
            "    http-request set-log-level silent if { path /health }",
            "    http-response return status 404 content-type text/html string nope if { status 500 }",
            "    http-response redirect location https://%[hdr(host)]/ code 308",
            "    http-response set-log-level warning")).Frontends[0].Http;

        Assert.That((http.RequestActions[0].Kind, http.RequestActions[0].LogLevel),
            Is.EqualTo((HttpRequestActionKind.SetLogLevel, HttpRequestAction.SilentLogLevel)));
        var r = http.ResponseActions;
        Assert.That((r[0].Answer!.Kind, r[0].Answer!.Status, r[0].Answer!.ContentType, r[0].Condition is not null),
            Is.EqualTo((HttpRequestActionKind.Return, 404, "text/html", true)));
        Assert.That((r[1].Answer!.Kind, r[1].Answer!.Status, r[1].Answer!.TargetFormat is not null), Is.EqualTo((HttpRequestActionKind.Redirect, 308, true)));
        Assert.That((r[2].Variable!.Kind, r[2].Variable!.LogLevel), Is.EqualTo((HttpRequestActionKind.SetLogLevel, 4)));
    }

    [Test]
    public void TheActions_TravelToTheWorkers()
    {
        var config = ParseValid(Http(
            "    http-request set-src hdr(x-real-ip)",
            "    http-request set-log-level err",
            "    http-response redirect location /x code 303 if { status 404 }"));
        var init = new WorkerInit(0, 1, [0], config, [new ListenerRef("web", "127.0.0.1:8080")], "/board", 3, [], RunsHealthChecks: false, DownServers: []);
        var back = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(init, ControlJsonContext.Default.WorkerInit),
            ControlJsonContext.Default.WorkerInit)!.Config.Frontends[0].Http;

        Assert.That((back.RequestActions[0].Kind, back.RequestActions[0].Expr is not null), Is.EqualTo((HttpRequestActionKind.SetSrc, true)));
        Assert.That((back.RequestActions[1].Kind, back.RequestActions[1].LogLevel), Is.EqualTo((HttpRequestActionKind.SetLogLevel, 3)));
        var answer = back.ResponseActions[0].Answer!;
        Assert.That((answer.Kind, answer.Status, answer.Target, back.ResponseActions[0].Condition is not null),
            Is.EqualTo((HttpRequestActionKind.Redirect, 303, "/x", true)));
    }

    // HAProxy 2.6: "response only supports redirect type 'location'".
    [TestCase("    http-response redirect prefix /x", "test.cfg:8: 'http-response redirect': a response only supports the redirect type 'location'")]
    [TestCase("    http-response return status 200 string x", "test.cfg:8: 'http-response return': a payload ('string', 'file', 'lf-string' or 'lf-file') needs a 'content-type'")]
    [TestCase("    http-request set-log-level loud", "test.cfg:8: 'http-request set-log-level': unknown level 'loud'")]
    [TestCase("    http-response set-log-level", "test.cfg:8: 'http-response set-log-level': expected 'http-response set-log-level LEVEL [if|unless COND]'")]
    [TestCase("    http-request return errorfiles nowhere", "test.cfg:8: 'http-request return errorfiles': no 'http-errors' section named 'nowhere' above this line")]
    [TestCase("    http-request return content-type text/plain errorfile /dev/null", "test.cfg:8: 'http-request return errorfile': '/dev/null' must hold a complete HTTP response")]
    [TestCase("    errorfiles nowhere", "test.cfg:8: 'errorfiles': no 'http-errors' section named 'nowhere' above this line")]
    [TestCase("    http-request set-src", "test.cfg:8: 'http-request set-src': missing expression, expected 'http-request set-src EXPR [if|unless COND]'")]
    [TestCase("    http-request set-src hdr(x) extra", "test.cfg:8: 'http-request set-src': unexpected 'extra'")]
    [TestCase("    http-request set-src srcx", "test.cfg:8: 'http-request set-src': unknown fetch method 'srcx'")]
    public void BadLines_ReportFileLineAndReason(string line, string expected)
    {
        var errors = ParseErrors(Http(line));
        Assert.That(errors, Has.Count.EqualTo(1), string.Join("\n", errors));
        Assert.That(errors[0], Does.StartWith(expected));
    }

    [Test]
    public void HttpErrors_OnlyErrorfileLines_AndErrorfilesCodesAreChecked()
    {
        var errors = ParseErrors(Lines("http-errors site", "    errorfile 404 /dev/null", "    errorloc 404 /x", "http-errors site",
            "defaults", "    mode http", "    timeout connect 5s", "    timeout client 30s", "    timeout server 30s",
            "frontend web", "    bind 127.0.0.1:8080", "    errorfiles site 999", "    default_backend app", "backend app", "    server s1 127.0.0.1:9001"));
        Assert.That(errors, Has.Some.StartWith("test.cfg:3: 'errorloc': unknown keyword in an 'http-errors' section"));
        Assert.That(errors, Has.Some.StartWith("test.cfg:4: 'http-errors': a section named 'site' already exists"));
        Assert.That(errors, Has.Some.StartWith("test.cfg:12: 'errorfiles': status code '999' cannot be customized"));
    }
}
