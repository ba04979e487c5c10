using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`http-request|http-response return ... lf-string FMT | lf-file PATH` and `hdr NAME FMT` (4.2 "http-request return").</summary>
public class ReturnFormatKeywordTests
{
    private static string Http(params string[] lines) =>
        "defaults\n    mode http\nfrontend fe\n    bind :80\n" + string.Concat(lines.Select(l => l + "\n")) + "    default_backend be\nbackend be\n    server s 127.0.0.1:81\n";

    [Test]
    public void LfStringAndHeaders_AreLogFormats()
    {
        var fe = ParseValid(Http("    http-request return status 201 content-type text/plain lf-string \"hi %[src]\" hdr X-A %[path] hdr X-B b",
            "    http-response return content-type text/html lf-string %ST")).Frontends[0];
        var action = fe.Http.RequestActions.Single();
        Assert.That((action.Kind, action.Status, action.ContentType), Is.EqualTo((HttpRequestActionKind.Return, 201, "text/plain")));
        Assert.That(action.BodyFormat!.Text, Is.EqualTo("hi %[src]"));
        Assert.That(action.Headers!.Select(h => (h.Name, h.Value.Text)), Is.EqualTo(new[] { ("X-A", "%[path]"), ("X-B", "b") }));
        Assert.That(fe.Http.ResponseActions.Single().Answer!.BodyFormat!.Text, Is.EqualTo("%ST"));
    }

    [Test]
    public void LfFile_TheFilesContentIsTheFormat()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "<p>%[req.hdr(host)]</p>\n");
            var action = ParseValid(Http($"    http-request return content-type text/html lf-file {path}")).Frontends[0].Http.RequestActions.Single();
            Assert.That(action.BodyFormat!.Text, Is.EqualTo("<p>%[req.hdr(host)]</p>\n"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase("    http-request return lf-string %[src]", "test.cfg:5: 'http-request return': a payload ('string', 'file', 'lf-string' or 'lf-file') needs a 'content-type'")]
    [TestCase("    http-request return content-type t lf-string %[nope]", "test.cfg:5: 'http-request return lf-string': in '%[': unknown fetch method 'nope'")]
    [TestCase("    http-request return content-type t string a lf-string b", "test.cfg:5: 'http-request return': one payload only")]
    [TestCase("    http-request return hdr X:A 3", "test.cfg:5: 'http-request return hdr': header 'X:A' not allowed")]
    [TestCase("    http-request return errorfile /dev/null hdr X-A b", "test.cfg:5: 'http-request return")]
    public void BadReturn_IsAnError(string line, string expected)
    {
        var errors = ParseErrors(Http(line));
        Assert.That(errors, Has.Some.StartsWith(expected), string.Join("\n", errors));
    }

    // HAProxy 2.6 warns "header '%s' always ignored by the http reply" for the first three and keeps Connection; here
    // Connection is dropped too (the session writes its own), so no answer is framed twice or says two things.
    [TestCase("content-length", "3")]
    [TestCase("Transfer-Encoding", "chunked")]
    [TestCase("content-type", "text/html")]
    [TestCase("Connection", "keep-alive")]
    public void FramingHeadersGivenWithHdr_AreDroppedWithAWarningAtTheirLine(string name, string value)
    {
        var result = Parse(Http($"    http-request return status 200 content-type text/plain string ok hdr {name} {value} hdr X-Kept 1"));
        Assert.That(result.Errors, Is.Empty);
        var action = result.Config!.Frontends[0].Http.RequestActions.Single();
        Assert.That(action.Headers!.Select(h => h.Name), Is.EqualTo(new[] { "X-Kept" }), "the framing header is not sent");
        Assert.That(action.ContentType, Is.EqualTo("text/plain"));
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.StartsWith($"test.cfg:5: 'http-request return hdr': header '{name}' always ignored by the http reply"));
    }
}
