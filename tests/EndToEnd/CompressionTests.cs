using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `compression` through the real supervisor and (Native AOT) workers: bodies decoded and compared byte for byte,
/// each of HAProxy's rules that leave a response as it is, `compression offload`, and `maxcomprate` with
/// `set rate-limit http-compression global`. The tests that only read through the proxy share one instance (one
/// worker); the one with two workers and the one that changes a limit at run time start their own.
/// </summary>
[TestFixture]
public sealed class CompressionTests
{
    private HttpOrigin _origin = null!;
    private ProxyInstance _proxy = null!;
    private int _port, _offloadPort;

    [OneTimeSetUp]
    public void StartSharedProxy()
    {
        _origin = new HttpOrigin("o", Respond);
        _port = Ports.Free();
        _offloadPort = Ports.Free();
        _proxy = new ProxyInstance(Config(_port, Ports.Free(), _offloadPort, _origin), "    nbproc 1\n").Start();
    }

    [OneTimeTearDown]
    public async Task StopSharedProxy()
    {
        _proxy?.Dispose();
        if (_origin is not null) await _origin.DisposeAsync();
    }

    /// <summary>A 120 KB text page, different on every line (so it compresses like real HTML, not like one repeated byte).</summary>
    internal static readonly byte[] Page = MakePage(120 * 1024);

    internal static byte[] MakePage(int size)
    {
        var sb = new StringBuilder();
        var rng = new Random(20);
        string[] words = ["proxy", "backend", "server", "compression", "<td>", "</td>", "gzip", "request", "response", "header", "value"];
        for (int line = 0; sb.Length < size; line++)
        {
            sb.Append("<tr><td>").Append(line).Append("</td>");
            for (int i = 0; i < 8; i++) sb.Append(' ').Append(words[rng.Next(words.Length)]).Append(rng.Next(1000));
            sb.Append("</tr>\n");
        }
        return Encoding.ASCII.GetBytes(sb.ToString(0, size));
    }

    private static byte[] Respond(HttpMessage req)
    {
        string path = req.StartLine.Split(' ')[1];
        return path switch
        {
            "/chunked" => Chunked(Page, ("Content-Type", "text/html")),
            "/encoded" => Raw(200, Page, ("Content-Type", "text/html"), ("Content-Encoding", "br")),
            "/no-transform" => Raw(200, Page, ("Content-Type", "text/html"), ("Cache-Control", "max-age=60, no-transform")),
            "/404" => Raw(404, Page, ("Content-Type", "text/html")),
            "/empty" => Raw(200, [], ("Content-Type", "text/html")),
            "/image" => Raw(200, Page, ("Content-Type", "image/png")),
            "/untyped" => Raw(200, Page),
            "/multipart" => Raw(200, Page, ("Content-Type", "multipart/mixed; boundary=x")),
            "/etag" => Raw(200, Page, ("Content-Type", "text/html"), ("ETag", "\"v1\""), ("Vary", "Accept-Encoding")),
            "/bad-etag" => Raw(200, Page, ("Content-Type", "text/html"), ("ETag", "v1")),
            _ => Raw(200, Page, ("Content-Type", "text/html; charset=utf-8")),
        };
    }

    private static byte[] Raw(int status, byte[] body, params (string Name, string Value)[] headers)
    {
        var sb = new StringBuilder($"HTTP/1.1 {status} X\r\nContent-Length: {body.Length}\r\n");
        foreach (var (n, v) in headers) sb.Append($"{n}: {v}\r\n");
        sb.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(sb.ToString()), .. body];
    }

    private static byte[] Chunked(byte[] body, params (string Name, string Value)[] headers)
    {
        var sb = new StringBuilder("HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n");
        foreach (var (n, v) in headers) sb.Append($"{n}: {v}\r\n");
        sb.Append("\r\n");
        var output = new List<byte>(Encoding.ASCII.GetBytes(sb.ToString()));
        for (int at = 0; at < body.Length; at += 7000)
        {
            int n = Math.Min(7000, body.Length - at);
            output.AddRange(Encoding.ASCII.GetBytes($"{n:x};ext=1\r\n"));
            output.AddRange(body.AsSpan(at, n).ToArray());
            output.AddRange("\r\n"u8.ToArray());
        }
        output.AddRange("0\r\nX-Trailer: t\r\n\r\n"u8.ToArray());
        return [.. output];
    }

    private static string Config(int port, int rawPort, int offloadPort, HttpOrigin origin) => $"""
        defaults
            mode http
            timeout connect 2s
            timeout client 20s
            timeout server 20s
            compression type text/html text/plain
        frontend web
            bind 127.0.0.1:{port}
            compression algo gzip deflate
            default_backend be
        frontend raw
            bind 127.0.0.1:{rawPort}
            compression algo raw-deflate
            default_backend be
        frontend offload
            bind 127.0.0.1:{offloadPort}
            compression algo gzip
            compression offload
            default_backend be
        backend be
            server o 127.0.0.1:{origin.EndPoint.Port}
        """;

    private static HttpClient Client(int port) => new(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        Timeout = TimeSpan.FromSeconds(20),
    };

    private static async Task<(HttpResponseMessage Response, byte[] Body)> GetAsync(HttpClient http, string path, string? acceptEncoding,
        HttpMethod? method = null, Version? version = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        if (acceptEncoding is not null) request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        if (version is not null) { request.Version = version; request.VersionPolicy = HttpVersionPolicy.RequestVersionExact; }
        var response = await http.SendAsync(request);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    internal static byte[] Decode(string coding, byte[] body, bool raw = false)
    {
        using var input = new MemoryStream(body);
        using Stream decoder = coding switch
        {
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            "deflate" when raw => new DeflateStream(input, CompressionMode.Decompress),
            "deflate" => new ZLibStream(input, CompressionMode.Decompress),
            _ => throw new ArgumentException(coding),
        };
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }

    private static string? ContentEncoding(HttpResponseMessage r) => r.Content.Headers.ContentEncoding.SingleOrDefault();

    [Test]
    public async Task GzipDeflateAndRawDeflate_ThroughRealWorkers_DecodeToTheServersBytes()
    {
        await using var origin = new HttpOrigin("o", Respond);
        int port = Ports.Free(), rawPort = Ports.Free(), offloadPort = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, rawPort, offloadPort, origin)).Start();
        using var http = Client(port);

        foreach (var (accept, coding) in new[] { ("gzip", "gzip"), ("deflate", "deflate"), ("gzip;q=0.2, deflate;q=0.8", "deflate"), ("*", "deflate") })
        {
            foreach (var path in new[] { "/page", "/chunked" })
            {
                var (r, body) = await GetAsync(http, path, accept);
                Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK), path);
                Assert.That(ContentEncoding(r), Is.EqualTo(coding), $"{path} with Accept-Encoding: {accept}");
                Assert.That(r.Headers.TransferEncodingChunked, Is.True, "a compressed body goes chunked");
                Assert.That(r.Content.Headers.NonValidated.Contains("Content-Length"), Is.False, "Content-Length removed");
                Assert.That(r.Headers.Vary, Does.Contain("Accept-Encoding"));
                Assert.That(body.Length, Is.LessThan(Page.Length / 2), "compressed");
                Assert.That(Decode(coding, body), Is.EqualTo(Page), $"{path} {accept}: decoded body");
            }
        }

        // raw-deflate: "Content-Encoding: deflate" over a raw RFC 1951 stream.
        using (var raw = Client(rawPort))
        {
            var (r, body) = await GetAsync(raw, "/page", "deflate");
            Assert.That(ContentEncoding(r), Is.EqualTo("deflate"));
            Assert.That(Decode("deflate", body, raw: true), Is.EqualTo(Page));
        }

        // A strong ETag is weakened (the bytes differ from the server's), a Vary that covers Accept-Encoding is not repeated.
        var (etag, etagBody) = await GetAsync(http, "/etag", "gzip");
        Assert.That(etag.Headers.ETag?.ToString(), Is.EqualTo("W/\"v1\""));
        Assert.That(etag.Headers.GetValues("Vary").Count(), Is.EqualTo(1));
        Assert.That(Decode("gzip", etagBody), Is.EqualTo(Page));

        // Many keep-alive requests in a row on one connection: each response framed right for the next.
        for (int i = 0; i < 20; i++)
        {
            var (r, body) = await GetAsync(http, i % 2 == 0 ? "/page" : "/chunked", "gzip");
            Assert.That(Decode("gzip", body), Is.EqualTo(Page), $"request {i}");
        }

        var stat = await ShowStatTotal(proxy, "web", "FRONTEND");
        Assert.That(long.Parse(stat["comp_rsp"]), Is.GreaterThanOrEqualTo(29), "comp_rsp");
        Assert.That(long.Parse(stat["comp_in"]), Is.GreaterThanOrEqualTo(29L * Page.Length), "comp_in");
        Assert.That(long.Parse(stat["comp_out"]), Is.GreaterThan(0).And.LessThan(long.Parse(stat["comp_in"]) / 2), "comp_out");
        var be = await ShowStatTotal(proxy, "be", "BACKEND");
        Assert.That(long.Parse(be["comp_rsp"]), Is.GreaterThanOrEqualTo(30), "the backend counts every frontend's");
    }

    [TestCase("/encoded", "gzip", "already encoded")]
    [TestCase("/no-transform", "gzip", "Cache-Control: no-transform")]
    [TestCase("/404", "gzip", "status not 200-203")]
    [TestCase("/empty", "gzip", "empty body")]
    [TestCase("/image", "gzip", "type not in `compression type`")]
    [TestCase("/untyped", "gzip", "no Content-Type while `compression type` is set")]
    [TestCase("/multipart", "gzip", "multipart")]
    [TestCase("/bad-etag", "gzip", "malformed ETag")]
    [TestCase("/page", null, "no Accept-Encoding")]
    [TestCase("/page", "br", "no accepted algorithm")]
    [TestCase("/page", "gzip;q=0", "gzip refused with q=0")]
    public async Task BypassRule_ThroughRealWorkers_ResponseUnchanged(string path, string? accept, string rule)
    {
        using var http = Client(_port);
        var expected = Respond(new HttpMessage($"GET {path} HTTP/1.1", [], []));
        var (r, body) = await GetAsync(http, path, accept);
        Assert.That(ContentEncoding(r), Is.Not.EqualTo("gzip"), rule);
        Assert.That(r.Headers.TransferEncodingChunked ?? false, Is.False, rule + ": framing kept");
        Assert.That(body, Is.EqualTo(expected.AsSpan(expected.Length - body.Length).ToArray()), rule + ": body as the server sent it");
        Assert.That(body.Length, Is.EqualTo(path == "/empty" ? 0 : Page.Length), rule);
    }

    [Test]
    public async Task HeadAndHttp10_ThroughRealWorkers_NotCompressed()
    {
        int port = _port;

        // HEAD: the head tells the length of what GET would send, unchanged.
        using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await s.ConnectAsync(IPAddress.Loopback, port);
            await HttpTestKit.SendAsync(s, "HEAD /page HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
            var head = await new HttpReader(s).ReadAsync(isResponse: true, headRequest: true);
            Assert.That(head!.Header("Content-Encoding"), Is.Null, "HEAD");
            Assert.That(head.Header("Content-Length"), Is.EqualTo(Page.Length.ToString()));
        }

        // HTTP/1.0: no chunked encoding to carry a body of unknown length.
        using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await s.ConnectAsync(IPAddress.Loopback, port);
            await HttpTestKit.SendAsync(s, "GET /page HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
            var reader = new HttpReader(s);
            var response = await reader.ReadAsync(isResponse: true);
            Assert.That(response!.Header("Content-Encoding"), Is.Null, "HTTP/1.0");
            Assert.That(response.Body, Is.EqualTo(Page));
        }
    }

    [Test]
    public async Task Offload_ThroughRealWorkers_ServerNeverSeesAcceptEncoding()
    {
        int before = _origin.Requests.Count;   // the origin is shared: this test's requests are the ones after these
        using (var off = Client(_offloadPort))
        {
            var (r, body) = await GetAsync(off, "/page", "gzip, br");
            Assert.That(Decode("gzip", body), Is.EqualTo(Page));
        }
        using (var web = Client(_port))
            await GetAsync(web, "/page", "gzip, br");
        var requests = _origin.Requests.Skip(before).ToList();
        Assert.That(requests, Has.Count.EqualTo(2));
        Assert.That(requests[0].Request.Header("Accept-Encoding"), Is.Null, "offload: removed");
        Assert.That(requests[1].Request.Header("Accept-Encoding"), Is.EqualTo("gzip, br"), "no offload: forwarded");
    }

    [Test]
    public async Task MaxCompRate_Reached_ResponsesPassUncompressedUntilRaised()
    {
        await using var origin = new HttpOrigin("o", Respond);
        int port = Ports.Free(), rawPort = Ports.Free(), offloadPort = Ports.Free();
        // 1 kB/s: the first 120 KB response puts the input rate far above it.
        using var proxy = new ProxyInstance(Config(port, rawPort, offloadPort, origin), "    nbproc 1\n    maxcomprate 1\n").Start();
        using var http = Client(port);

        var (first, firstBody) = await GetAsync(http, "/page", "gzip");
        Assert.That(ContentEncoding(first), Is.EqualTo("gzip"), "under the limit: compressed");
        Assert.That(Decode("gzip", firstBody), Is.EqualTo(Page));
        var (second, secondBody) = await GetAsync(http, "/page", "gzip");
        Assert.That(ContentEncoding(second), Is.Null, "over the limit: passed as it is, never failed");
        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(secondBody, Is.EqualTo(Page));

        var stat = await ShowStatTotal(proxy, "web", "FRONTEND");
        Assert.That(long.Parse(stat["comp_byp"]), Is.EqualTo(Page.Length), "comp_byp: the bypassed body");
        Assert.That(long.Parse(stat["comp_rsp"]), Is.EqualTo(1));
        var info = await ControlClient.SendAsync(proxy.SocketPath, "show info", TimeSpan.FromSeconds(5));
        Assert.That(info, Does.Contain("CompressBpsRateLim: 1024\n"));
        // Published on the worker's status timer: the input rate of the last second (240 KB compressed or refused).
        await Poll.UntilAsync(() => InfoValue(ControlClient.SendAsync(proxy.SocketPath, "show info", TimeSpan.FromSeconds(5)).Result, "CompressBpsIn") > 1024,
            "CompressBpsIn above the limit");

        // The runtime API lifts it in every worker.
        Assert.That(await ControlClient.SendAsync(proxy.SocketPath, "set rate-limit http-compression global 0", TimeSpan.FromSeconds(5)), Is.EqualTo("\n"));
        await Poll.UntilAsync(() => ControlClient.SendAsync(proxy.SocketPath, "show info", TimeSpan.FromSeconds(5)).Result.Contains("CompressBpsRateLim: 0\n"),
            "CompressBpsRateLim back to 0");
        var (third, thirdBody) = await GetAsync(http, "/page", "gzip");
        Assert.That(ContentEncoding(third), Is.EqualTo("gzip"), "limit lifted");
        Assert.That(Decode("gzip", thirdBody), Is.EqualTo(Page));
    }

    private static long InfoValue(string info, string name) =>
        long.Parse(info.Split('\n').First(l => l.StartsWith(name + ": ", StringComparison.Ordinal))[(name.Length + 2)..]);

    private static Dictionary<string, string> TotalRow(string csv, string px, string sv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var names = lines[0].TrimStart('#', ' ').Split(',');
        var cells = lines.Skip(1).Select(l => l.Split(',')).First(c => c[0] == px && c[1] == sv && c[Array.IndexOf(names, "pid")] == "0");
        return names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => cells[x.i]);
    }

    private static async Task<Dictionary<string, string>> ShowStatTotal(ProxyInstance proxy, string px, string sv) =>
        TotalRow(await ControlClient.SendAsync(proxy.SocketPath, "show stat", TimeSpan.FromSeconds(5)), px, sv);
}
