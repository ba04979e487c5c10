using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// The table: malformed or ambiguous requests (RFC 9112 framing rules and published smuggling research:
/// CL.TE, TE.CL, TE.TE obfuscations, header and request-line oddities, bad chunking), each answered 400 by a
/// `mode http` engine and never forwarded: the origin sees no connection at all.
/// </summary>
public sealed class HttpMalformedRequestTableTests
{
    private const string H = "Host: h\r\n";

    private static IEnumerable<TestCaseData> Vectors()
    {
        // Content-Length and Transfer-Encoding together, or ambiguous framing (RFC 9112 6.1, 6.3).
        yield return V("CL then TE", "POST / HTTP/1.1\r\n" + H + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        yield return V("TE then CL", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n");
        yield return V("two different CL", "POST / HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
        yield return V("CL list of different values", "POST / HTTP/1.1\r\n" + H + "Content-Length: 5, 6\r\n\r\nhello!");
        yield return V("negative CL", "POST / HTTP/1.1\r\n" + H + "Content-Length: -1\r\n\r\n");
        yield return V("CL with plus sign", "POST / HTTP/1.1\r\n" + H + "Content-Length: +5\r\n\r\nhello");
        yield return V("hex CL", "POST / HTTP/1.1\r\n" + H + "Content-Length: 0x5\r\n\r\nhello");
        yield return V("CL with trailing letter", "POST / HTTP/1.1\r\n" + H + "Content-Length: 5a\r\n\r\nhello");
        yield return V("CL overflow", "POST / HTTP/1.1\r\n" + H + "Content-Length: 99999999999999999999999\r\n\r\n");
        yield return V("CL with inner space", "POST / HTTP/1.1\r\n" + H + "Content-Length: 1 2\r\n\r\nhello world!");
        yield return V("empty CL", "POST / HTTP/1.1\r\n" + H + "Content-Length: \r\n\r\n");
        yield return V("TE xchunked", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n");
        yield return V("TE chunked not last", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n");
        yield return V("TE gzip alone", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip\r\n\r\nabc");
        yield return V("TE identity", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: identity\r\n\r\nabc");
        yield return V("TE chunked twice", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n");
        yield return V("TE chunked twice, two lines", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        yield return V("TE with vertical tab", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n");
        yield return V("TE with space before colon", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n");
        yield return V("CL with space before colon", "POST / HTTP/1.1\r\n" + H + "Content-Length : 5\r\n\r\nhello");
        yield return V("TE obs-folded", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n");
        yield return V("TE with NUL", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\0\r\n\r\n0\r\n\r\n");
        // Header section oddities (RFC 9112 5, 5.2; RFC 9110 5.1, 5.5).
        yield return V("NUL in header value", "GET / HTTP/1.1\r\n" + H + "X: a\0b\r\n\r\n");
        yield return V("space in header name", "GET / HTTP/1.1\r\n" + H + "X Y: z\r\n\r\n");
        yield return V("empty header name", "GET / HTTP/1.1\r\n" + H + ": z\r\n\r\n");
        yield return V("obs-fold with space", "GET / HTTP/1.1\r\n" + H + "X: a\r\n b\r\n\r\n");
        yield return V("obs-fold with tab", "GET / HTTP/1.1\r\n" + H + "X: a\r\n\tb\r\n\r\n");
        yield return V("bare CR in value", "GET / HTTP/1.1\r\n" + H + "X: a\rb\r\n\r\n");
        yield return V("bare CR line end", "GET / HTTP/1.1\r\n" + H + "X: a\r\r\n\r\n");
        yield return V("bare LF in headers", "GET / HTTP/1.1\r\n" + H + "X: a\n\r\n");
        yield return V("bare LF everywhere", "GET / HTTP/1.1\nHost: h\n\n");
        yield return V("header name with parenthesis", "GET / HTTP/1.1\r\n" + H + "X(y): z\r\n\r\n");
        yield return V("header name with non-ASCII", "GET / HTTP/1.1\r\n" + H + "X\u00e9: z\r\n\r\n");
        yield return V("header name with slash", "GET / HTTP/1.1\r\n" + H + "X/Y: z\r\n\r\n");
        yield return V("control byte in value", "GET / HTTP/1.1\r\n" + H + "X: a\x01b\r\n\r\n");
        yield return V("escape byte in value", "GET / HTTP/1.1\r\n" + H + "X: a\u001bb\r\n\r\n");
        yield return V("first line folded into header", "GET / HTTP/1.1\r\n Host: h\r\n\r\n");
        // Host (RFC 9112 3.2).
        yield return V("HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n");
        yield return V("two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
        yield return V("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n");
        yield return V("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n");
        yield return V("absolute-form host mismatch", "GET http://evil/ HTTP/1.1\r\nHost: good\r\n\r\n");
        // Request line (RFC 9112 3).
        yield return V("method with parenthesis", "G(ET / HTTP/1.1\r\n" + H + "\r\n");
        yield return V("method with NUL", "GE\0T / HTTP/1.1\r\n" + H + "\r\n");
        yield return V("space in target", "GET /a b HTTP/1.1\r\n" + H + "\r\n");
        yield return V("target without slash", "GET a HTTP/1.1\r\n" + H + "\r\n");
        yield return V("asterisk-form for GET", "GET * HTTP/1.1\r\n" + H + "\r\n");
        yield return V("authority-form for GET", "GET h:80 HTTP/1.1\r\n" + H + "\r\n");
        yield return V("control byte in target", "GET /\x01 HTTP/1.1\r\n" + H + "\r\n");
        yield return V("DEL in target", "GET /\x7f HTTP/1.1\r\n" + H + "\r\n");
        yield return V("version with suffix", "GET / HTTP/1.1x\r\n" + H + "\r\n");
        yield return V("version without minor", "GET / HTTP/1\r\n" + H + "\r\n");
        yield return V("lowercase version", "GET / http/1.1\r\n" + H + "\r\n");
        yield return V("HTTP/0.9 request line", "GET /\r\n" + H + "\r\n");
        yield return V("double space after method", "GET  / HTTP/1.1\r\n" + H + "\r\n");
        yield return V("space after version", "GET / HTTP/1.1 \r\n" + H + "\r\n");
        yield return V("tabs as separators", "GET\t/\tHTTP/1.1\r\n" + H + "\r\n");
        // Chunked bodies (RFC 9112 7.1).
        yield return V("chunk size not hex", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
        yield return V("chunk size overflow", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nx\r\n0\r\n\r\n");
        yield return V("negative chunk size", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n");
        yield return V("chunk data without CRLF", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n");
        yield return V("chunk extension with control byte", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5;\x01\r\nhello\r\n0\r\n\r\n");
        yield return V("chunk size with leading space", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n");
        yield return V("chunk lines with bare LF", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n");
        // Limits (tune.bufsize 16 KiB, tune.http.maxhdr 101).
        yield return V("header section over bufsize", "GET / HTTP/1.1\r\n" + H + "X: " + new string('a', 17000) + "\r\n\r\n");
        yield return V("more headers than maxhdr", "GET / HTTP/1.1\r\n" + H + string.Concat(Enumerable.Range(0, 110).Select(i => $"X-{i}: v\r\n")) + "\r\n");
    }

    private static TestCaseData V(string name, string request) => new TestCaseData(request).SetName("Malformed_" + name.Replace(' ', '_'));

    [Test]
    public void Table_HasAtLeastSixtyVectors() => Assert.That(Vectors().Count(), Is.GreaterThanOrEqualTo(60));

    [TestCaseSource(nameof(Vectors))]
    public async Task MalformedRequest_Answered400_AndNeverReachesTheServer(string request)
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, request);
        var resp = await new HttpReader(c).ReadAsync(true);
        Assert.That(resp, Is.Not.Null, "the proxy must answer, not just close");
        Assert.That(resp!.Status, Is.EqualTo(400));
        await Task.Delay(20);
        Assert.That(origin.Connections, Is.EqualTo(0), "the origin saw nothing");
    }
}
