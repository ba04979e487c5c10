using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// `capture cookie`, `declare capture`, `http-request|http-response capture` and `tcp-request content capture`
/// (doc/configuration.txt 4.2), and the `capture.req.hdr`/`capture.res.hdr` fetches. The errors mirror HAProxy 2.6's
/// (`haproxy -c` refuses each bad line below too).
/// </summary>
public class CaptureKeywordTests
{
    internal static string Http(params string[] lines) =>
        "defaults\n    mode http\nfrontend fe\n    bind :80\n" + string.Concat(lines.Select(l => l + "\n")) + "    default_backend be\nbackend be\n    server s 127.0.0.1:81\n";

    [Test]
    public void CaptureCookie_KeepsNameAndLength_TheLastOneWinsWithAWarning()
    {
        var result = Parse(Http("    capture cookie A len 10", "    capture cookie SESS len 12"));
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Config!.Frontends[0].CookieCapture, Is.EqualTo(new CookieCapture("SESS", 12)));
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.Contains("test.cfg:6: 'capture cookie SESS' replaces 'capture cookie A'"));
    }

    [Test]
    public void CaptureCookie_LongerThan63_IsTruncatedWithHAProxysWarning()
    {
        var result = Parse(Http("    capture cookie SESS len 100"));
        Assert.That(result.Config!.Frontends[0].CookieCapture!.Length, Is.EqualTo(63));
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.Contains("truncating capture length to 63 bytes"));
    }

    [Test]
    public void Slots_AreNumberedInDeclarationOrder_AcrossHeadersDeclarationsAndRules()
    {
        var fe = ParseValid(Http(
            "    capture request header Host len 20",
            "    declare capture request len 8",
            "    http-request capture req.hdr(x-a) len 5",
            "    http-request capture req.hdr(x-b) id 1 if { path_beg /b }",
            "    tcp-request content capture src len 15",
            "    declare capture response len 10",
            "    http-response capture res.hdr(x-res) id 0")).Frontends[0];
        Assert.That(fe.RequestCaptures, Is.EqualTo(new[]
        {
            new HeaderCapture("Host", 20), new HeaderCapture("", 8), new HeaderCapture("", 5), new HeaderCapture("", 15),
        }));
        Assert.That(fe.ResponseCaptures, Is.EqualTo(new[] { new HeaderCapture("", 10) }));
        var actions = fe.Http.RequestActions;
        Assert.That(actions.Select(a => (a.Kind, a.CaptureSlot, a.CaptureResponse)), Is.EqualTo(new[]
        {
            (HttpRequestActionKind.Capture, 2, false), (HttpRequestActionKind.Capture, 1, false),
        }));
        Assert.That(actions[1].Condition, Is.Not.Null);
        Assert.That(fe.TcpContentRules.Single(), Has.Property(nameof(TcpContentRule.Action)).EqualTo(TcpContentAction.Capture)
            .And.Property(nameof(TcpContentRule.CaptureSlot)).EqualTo(3));
        var response = fe.Http.ResponseActions.Single().Variable!;
        Assert.That((response.Kind, response.CaptureSlot, response.CaptureResponse), Is.EqualTo((HttpRequestActionKind.Capture, 0, true)));
    }

    [Test]
    public void BackendRules_NameSlotsByIdWithoutACheck_AsHAProxy()
    {
        var be = ParseValid(Http() + "    http-request capture req.hdr(x) id 3\n    http-response capture res.hdr(y) id 4\n").Backends[0];
        Assert.That(be.Http.RequestActions.Single().CaptureSlot, Is.EqualTo(3));
        Assert.That(be.Http.ResponseActions.Single().Variable!.CaptureSlot, Is.EqualTo(4));
    }

    [Test]
    public void CaptureConverters_ParseWithTheirSlot()
    {
        var fe = ParseValid(Http("    declare capture request len 8", "    http-request set-var(txn.h) req.hdr(host),capture-req(0),lower")).Frontends[0];
        var converters = fe.Http.RequestActions.Single().Expr!.Converters;
        Assert.That(converters.Select(c => (c.Kind, c.Number)), Is.EqualTo(new[] { (SampleConverterKind.CaptureReq, 0L), (SampleConverterKind.Lower, 0L) }));
    }

    [Test]
    public void CaptureFetches_ParseWithTheirIndex()
    {
        var fe = ParseValid(Http("    log-format \"%[capture.req.hdr(0)] %[capture.res.hdr(1),lower]\"")).Frontends[0];
        var exprs = fe.CustomLogFormat!.Nodes.Where(n => n.Expr is not null).Select(n => n.Expr!.Fetch).ToList();
        Assert.That(exprs.Select(f => (f.Kind, f.Number)), Is.EqualTo(new[] { (SampleFetchKind.CaptureReqHdr, 0L), (SampleFetchKind.CaptureResHdr, 1L) }));
    }

    [TestCase("    capture cookie SID", "test.cfg:5: 'capture cookie': expected 'capture cookie NAME len LENGTH'")]
    [TestCase("    capture cookie SID len 0", "test.cfg:5: 'capture cookie': 'len' expects a positive length, got '0'")]
    [TestCase("    declare capture request len 0", "test.cfg:5: 'declare capture': 'len' expects 1 to 65535, got '0'")]
    [TestCase("    declare capture both len 4", "test.cfg:5: 'declare': expected 'declare capture request|response len LENGTH'")]
    [TestCase("    http-request capture req.hdr(x)", "test.cfg:5: 'http-request capture': expected 'http-request capture SAMPLE [len LENGTH | id ID]'")]
    [TestCase("    http-request capture req.hdr(x) id 0", "test.cfg:5: 'http-request capture': unable to find capture id '0'")]
    [TestCase("    http-request capture nope len 4", "test.cfg:5: 'http-request capture': unknown fetch method 'nope'")]
    [TestCase("    http-response capture res.hdr(x) len 4", "test.cfg:5: 'http-response capture': unexpected 'len', expected 'http-response capture SAMPLE id ID'")]
    [TestCase("    http-response capture res.hdr(x) id 0", "test.cfg:5: 'http-response capture': unable to find capture id '0'")]
    [TestCase("    tcp-request content capture src id 0", "test.cfg:5: 'tcp-request content capture': unexpected 'id', expected 'tcp-request content capture SAMPLE len LENGTH'")]
    public void BadLine_ReportsFileLineAndWhatWasExpected(string line, string expected)
    {
        var errors = ParseErrors(Http(line));
        Assert.That(errors, Has.Count.EqualTo(1), string.Join("\n", errors));
        Assert.That(errors[0], Does.StartWith(expected));
    }

    [TestCase("backend b\n    http-request capture req.hdr(x) len 5\n", "test.cfg:4: 'http-request capture ... len': backend 'b' has no frontend capability")]
    [TestCase("backend b\n    declare capture request len 4\n", "test.cfg:4: 'declare' only available in frontend or listen section")]
    [TestCase("defaults\n    capture cookie A len 4\n", "test.cfg:4: 'capture' is not allowed in a defaults section")]
    public void MisplacedCapture_IsAnError(string section, string expected)
    {
        var errors = ParseErrors("defaults\n    mode http\n" + section);
        Assert.That(errors, Has.Some.StartsWith(expected), string.Join("\n", errors));
    }
}

/// <summary>`option httplog clf` and `option httplog` with captures (4.2, 8.2.3): built-in formats as log-formats.</summary>
public class HttpLogFormatOptionTests
{
    private static string Http(params string[] lines) => CaptureKeywordTests.Http(lines);

    [Test]
    public void HttpLogClf_IsHAProxysClfFormat_WithOFlagsAppliedToLaterVariables()
    {
        var fe = ParseValid(Http("    option httplog clf")).Frontends[0];
        Assert.That(fe.LogFormat, Is.EqualTo(TrafficLogFormat.Http));
        var format = fe.CustomLogFormat!;
        Assert.That(format.Text, Is.EqualTo(LogFormatKeywordParser.ClfLogFormat));
        var variables = format.Nodes.Where(n => n.Literal is null).ToList();
        // %{+Q}o quotes every later variable; %{-Q}ci takes it back for the client address.
        Assert.That(variables[0], Is.EqualTo(new LogFormatNode(null, LogVariable.ClientIp, null, LogFormatFlags.None)));
        Assert.That(variables[1], Is.EqualTo(new LogFormatNode(null, LogVariable.GmtDate, null, LogFormatFlags.Quote)));
        Assert.That(variables.Skip(1).All(n => n.Flags == LogFormatFlags.Quote), Is.True);
        Assert.That(variables[^1].Variable, Is.EqualTo(LogVariable.ResponseHeadersList));
    }

    [Test]
    public void HttpLog_AfterLogFormat_OverridesIt_AndClearsClf()
    {
        var fe = ParseValid("defaults\n    mode http\n    log-format %ci\n    option httplog clf\nfrontend fe\n    bind :80\n    option httplog\n" +
            "    default_backend be\nbackend be\n    server s 127.0.0.1:81\n").Frontends[0];
        Assert.That((fe.LogFormat, fe.CustomLogFormat), Is.EqualTo((TrafficLogFormat.Http, (LogFormatConfig?)null)));
    }

    [Test]
    public void LogFormatSd_InheritedFromDefaults_AndReplacedByTheFrontends()
    {
        var config = ParseValid("defaults\n    mode http\n    log-format-sd [a@1\\ s=\\\"%ST\\\"]\nfrontend fe\n    bind :80\n    default_backend be\n" +
            "frontend fe2\n    bind :81\n    log-format-sd \"%{+Q,+E}o [b@2 h=%[capture.req.hdr(0)]]\"\n    default_backend be\nbackend be\n    server s 127.0.0.1:81\n");
        Assert.That(config.Frontends[0].StructuredDataFormat!.Text, Is.EqualTo("[a@1 s=\"%ST\"]"));
        Assert.That(config.Frontends[1].StructuredDataFormat!.Nodes.Single(n => n.Expr is not null).Flags, Is.EqualTo(LogFormatFlags.Quote | LogFormatFlags.Escape));
        Assert.That(config.Frontends[0].CustomLogFormat, Is.Null, "log-format-sd does not turn the traffic log on");
    }

    [Test]
    public void HttpLog_WithCaptures_LogsThroughItsBuiltInFormat()
    {
        var fe = ParseValid(Http("    option httplog", "    capture cookie S len 9")).Frontends[0];
        Assert.That(fe.CustomLogFormat!.Text, Is.EqualTo(LogFormatKeywordParser.HttpLogFormat));
        var plain = ParseValid(Http("    option httplog")).Frontends[0];
        Assert.That(plain.CustomLogFormat, Is.Null, "no capture: the built-in line");
    }
}
