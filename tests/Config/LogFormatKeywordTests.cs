using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`log-format`, `unique-id-format`, `unique-id-header`, `capture`, and log-format values in rules (8.2.4).</summary>
public class LogFormatKeywordTests
{
    private static string Http(params string[] lines) =>
        "defaults\n    mode http\nfrontend fe\n    bind :80\n" + string.Concat(lines.Select(l => l + "\n")) + "    default_backend be\nbackend be\n    server s 127.0.0.1:81\n";

    [Test]
    public void LogFormat_ParsedIntoNodes_AndTurnsTheHttpLogOn()
    {
        var fe = ParseValid(Http("    log-format \"%ci:%cp %{+Q}r %[req.hdr(host),lower] 100%%\"")).Frontends[0];
        var nodes = fe.CustomLogFormat!.Nodes;
        Assert.That(fe.LogFormat, Is.EqualTo(TrafficLogFormat.Http));
        Assert.That(nodes.Select(n => n.Literal ?? (n.Expr is { } e ? "[" + e.Text + "]" : "%" + n.Variable)),
            Is.EqualTo(new[] { "%ClientIp", ":", "%ClientPort", " ", "%RequestLine", " ", "[req.hdr(host),lower]", " 100%" }));
        Assert.That(nodes[4].Flags, Is.EqualTo(LogFormatFlags.Quote));
    }

    [Test]
    public void LogFormat_InheritedFromDefaults_AndCapturesKeptInOrder()
    {
        var config = ParseValid("defaults\n    mode http\n    log-format %ci\n    unique-id-format %[rand]\n    unique-id-header X-ID\n" +
            "frontend fe\n    bind :80\n    capture request header Host len 20\n    capture response header Server len 5\n" +
            "    capture request header User-Agent len 64\n    default_backend be\nbackend be\n    server s 127.0.0.1:81\n");
        var fe = config.Frontends[0];
        Assert.That(fe.CustomLogFormat!.Text, Is.EqualTo("%ci"));
        Assert.That((fe.UniqueIdFormat!.Text, fe.UniqueIdHeader), Is.EqualTo(("%[rand]", "X-ID")));
        Assert.That(fe.RequestCaptures, Is.EqualTo(new[] { new HeaderCapture("Host", 20), new HeaderCapture("User-Agent", 64) }));
        Assert.That(fe.ResponseCaptures, Is.EqualTo(new[] { new HeaderCapture("Server", 5) }));
    }

    [Test]
    public void HeaderRuleAndRedirect_WithLogFormatValues()
    {
        var fe = ParseValid(Http("    http-request set-header X-Real-IP %[src]",
            "    http-request redirect location https://%[req.hdr(host)]%[path] code 301 if { path_beg /x }")).Frontends[0];
        Assert.That(fe.Http.RequestRules[0].Format!.Nodes.Single().Expr!.Fetch.Kind, Is.EqualTo(SampleFetchKind.Src));
        Assert.That(fe.Http.RequestActions[0].TargetFormat!.Nodes.Count, Is.EqualTo(3));
    }

    [TestCase("    log-format \"%ci %zz\"", "test.cfg:5: 'log-format': unknown log-format variable '%zz'")]
    [TestCase("    log-format \"%[hdr(host),nope]\"", "test.cfg:5: 'log-format': in '%[': unknown converter 'nope'")]
    [TestCase("    log-format \"%[src\"", "test.cfg:5: 'log-format': missing ']' after '%[src'")]
    [TestCase("    log-format \"%{+Z}r\"", "test.cfg:5: 'log-format': unknown log-format flag '+Z'")]
    [TestCase("    log-format a b", "test.cfg:5: 'log-format': expects one argument")]
    [TestCase("    unique-id-header X:Y", "test.cfg:5: 'unique-id-header': invalid header name 'X:Y'")]
    [TestCase("    capture request header Host", "test.cfg:5: 'capture': expected 'capture request|response header NAME len LENGTH'")]
    [TestCase("    capture request header Host len 0", "test.cfg:5: 'capture request header': 'len' expects 1 to 65535, got '0'")]
    [TestCase("    http-request redirect location /%[nope]", "test.cfg:5: 'http-request redirect location': in '%[': unknown fetch method 'nope'")]
    public void BadLine_ReportsFileLineAndWhatWasExpected(string line, string expected)
    {
        var errors = ParseErrors(Http(line));
        Assert.That(errors, Has.Count.EqualTo(1), string.Join("\n", errors));
        Assert.That(errors[0], Does.StartWith(expected));
    }

    [Test]
    public void Capture_InABackend_WarnsThatItHasNoEffect()
    {
        var result = Parse(Http() + "    capture request header Host len 5\n");
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.Contains("'capture' has no effect in backend 'be'"));
    }
}
