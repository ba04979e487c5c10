using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Proxy.Shared.Stats;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Chunked framing through the real supervisor and worker, as strict for responses as for requests: an origin that
/// breaks its chunk framing, a client whose trailers pass `tune.http.maxhdr` / `tune.bufsize`. Each test checks what
/// the client gets, that the broken bytes never reach the peer, the error counters on the board and the log line's
/// termination state (doc/configuration.txt 8.5), against what HAProxy 2.6 does (src/http_ana.c: a parsing error
/// seen with the response head is http_wait_for_response's 502 "PH", one seen after the head went out is
/// http_response_forward_body's abort "SD"; a request body error is http_request_forward_body's 400, "PH" while no
/// response has started).
/// </summary>
[TestFixture]
public sealed partial class HttpFramingTests
{
    // httplog after the syslog header (8.2.3): status, bytes, cookies, termination state, ..., "request".
    [GeneratedRegex("""(?<status>-?\d+) (?<bytes>\d+) - - (?<term>\S{4}) \S+ \S+ "(?<req>[^"]*)"$""")]
    private static partial Regex HttpLogTail();

    private const string ChunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Marker: leaked\r\n\r\n";

    private static string Config(int port, int server) => $"""
        defaults
            mode http
            log global
            option httplog
            timeout connect 2s
            timeout client 10s
            timeout server 10s
        frontend fe
            bind 127.0.0.1:{port}
            default_backend be
        backend be
            server s1 127.0.0.1:{server}
        """;

    private static ProxyInstance Start(int port, int server, SyslogReceiver syslog) =>
        new ProxyInstance(Config(port, server), global: $"    nbproc 1\n    log 127.0.0.1:{syslog.Port} local0\n").Start();

    private static StatsSnapshot Board(ProxyInstance proxy) => StatsBoardReader.ReadSnapshot(Path.ChangeExtension(proxy.SocketPath, ".stats"));

    // Broken right after a valid head, in the same segment: nothing of the response may reach the client but a 502.
    private static readonly Dictionary<string, string> BrokenWithTheHead = new()
    {
        ["/size-zz"] = "zz\r\nhello\r\n0\r\n\r\n",
        ["/size-overflow"] = "FFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n",
        ["/no-crlf-after-data"] = "5\r\nhelloXX0\r\n\r\n",
        ["/bad-extension"] = "5;a=b c\r\nhello\r\n0\r\n\r\n",
        ["/bad-trailer"] = "5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n",
        ["/too-many-trailers"] = "5\r\nhello\r\n0\r\n" + string.Concat(Enumerable.Repeat("X-T: v\r\n", 200)) + "\r\n",
    };

    [Test]
    public async Task Response_BrokenChunkFramingWithTheHead_Is502_PH_AndCountedInEresp()
    {
        using var syslog = new SyslogReceiver();
        await using var origin = new TestServer(async s =>
        {
            string head = await ReadHeadAsync(s);
            string path = head.Split(' ')[1];
            await s.SendAsync(Encoding.ASCII.GetBytes(ChunkedHead + BrokenWithTheHead[path]), SocketFlags.None);
            await DrainAsync(s);
        });
        int port = Ports.Free();
        using var proxy = Start(port, origin.EndPoint.Port, syslog);

        foreach (var path in BrokenWithTheHead.Keys)
        {
            var (got, _) = await ExchangeAsync(port, $"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
            string text = Encoding.ASCII.GetString(got);
            Assert.That(text, Does.StartWith("HTTP/1.1 502"), path);
            Assert.That(text, Does.Not.Contain("leaked").And.Not.Contain("hello").And.Not.Contain("200 OK"), $"{path}: nothing of the bad response passed on");
        }

        var lines = await syslog.ReceiveAsync(BrokenWithTheHead.Count, TimeSpan.FromSeconds(10));
        foreach (var path in BrokenWithTheHead.Keys)
        {
            var m = LogLine(lines, $"GET {path} HTTP/1.1");
            Assert.That((m.Groups["status"].Value, m.Groups["term"].Value), Is.EqualTo(("502", "PH--")), path);
        }
        var board = Board(proxy);
        Assert.That(board.Total("be/s1", StatField.Eresp), Is.EqualTo(BrokenWithTheHead.Count));
        Assert.That(board.Total("be/BACKEND", StatField.Eresp), Is.EqualTo(BrokenWithTheHead.Count));
    }

    // Broken once the head and a first chunk went out: too late for a 502, the client is cut and gets nothing more.
    private static readonly Dictionary<string, string> BrokenAfterTheHead = new()
    {
        ["/late-size-zz"] = "zz\r\nworld\r\n0\r\n\r\n",
        ["/late-size-overflow"] = "FFFFFFFFFFFFFFFFFF\r\nworld\r\n0\r\n\r\n",
        ["/late-no-crlf-after-data"] = "5\r\nworldXX0\r\n\r\n",
        ["/late-bad-extension"] = "5;a=b c\r\nworld\r\n0\r\n\r\n",
        ["/late-huge-trailers"] = "0\r\nX-Big: " + new string('w', 20000) + "\r\n\r\n",
    };

    [Test]
    public async Task Response_BrokenChunkFramingAfterTheHead_CutsTheClient_SD_AndCountedInEresp()
    {
        using var syslog = new SyslogReceiver();
        var go = new Dictionary<string, TaskCompletionSource>();
        foreach (var path in BrokenAfterTheHead.Keys) go[path] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = new TestServer(async s =>
        {
            string head = await ReadHeadAsync(s);
            string path = head.Split(' ')[1];
            await s.SendAsync(Encoding.ASCII.GetBytes(ChunkedHead + "5\r\nhello\r\n"), SocketFlags.None);
            await go[path].Task.WaitAsync(TimeSpan.FromSeconds(20));   // the client has the head and the first chunk
            await s.SendAsync(Encoding.ASCII.GetBytes(BrokenAfterTheHead[path]), SocketFlags.None);
            await DrainAsync(s);
        });
        int port = Ports.Free();
        using var proxy = Start(port, origin.EndPoint.Port, syslog);

        foreach (var path in BrokenAfterTheHead.Keys)
        {
            var (got, _) = await ExchangeAsync(port, $"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n",
                received => Encoding.ASCII.GetString(received).EndsWith("5\r\nhello\r\n", StringComparison.Ordinal), go[path]);
            string text = Encoding.ASCII.GetString(got);
            Assert.That(text, Does.StartWith("HTTP/1.1 200"), path);
            Assert.That(text, Does.EndWith("\r\n\r\n5\r\nhello\r\n"), $"{path}: the head and the first chunk, then nothing: cut mid-message");
        }

        var lines = await syslog.ReceiveAsync(BrokenAfterTheHead.Count, TimeSpan.FromSeconds(10));
        foreach (var path in BrokenAfterTheHead.Keys)
        {
            var m = LogLine(lines, $"GET {path} HTTP/1.1");
            Assert.That((m.Groups["status"].Value, m.Groups["term"].Value), Is.EqualTo(("200", "SD--")), path);
        }
        var board = Board(proxy);
        Assert.That(board.Total("be/s1", StatField.Eresp), Is.EqualTo(BrokenAfterTheHead.Count));
        Assert.That(board.Total("be/s1", StatField.SrvAbrt), Is.Zero, "a broken response is not a server abort");
    }

    [Test]
    public async Task Request_TrailersOverMaxHdr_InHand_Are400_PR_AndNothingIsForwarded()
    {
        using var syslog = new SyslogReceiver();
        await using var origin = new TestServer(async s => await DrainAsync(s));
        int port = Ports.Free();
        using var proxy = Start(port, origin.EndPoint.Port, syslog);

        // The issue's case: 20,000 trailer lines (the first 16 KiB hold more than tune.http.maxhdr of them).
        string many = "POST /many HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
            + string.Concat(Enumerable.Repeat("X-Trailer: some value\r\n", 20000)) + "\r\n";
        // Few fields but one 2 KB line, then enough of them to pass tune.http.maxhdr within the first buffer.
        string wide = "POST /wide HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Wide: "
            + new string('w', 2000) + "\r\n" + string.Concat(Enumerable.Repeat("X: y\r\n", 101)) + "\r\n";
        foreach (var (request, what) in new[] { (many, "20,000 trailer lines"), (wide, "102 trailer lines") })
        {
            var (got, _) = await ExchangeAsync(port, request);
            Assert.That(Encoding.ASCII.GetString(got), Does.StartWith("HTTP/1.1 400"), what);
        }
        Assert.That(origin.Accepted, Is.Zero, "the origin saw nothing");

        var lines = await syslog.ReceiveAsync(2, TimeSpan.FromSeconds(10));
        foreach (var req in new[] { "POST /many HTTP/1.1", "POST /wide HTTP/1.1" })
        {
            var m = LogLine(lines, req);
            Assert.That((m.Groups["status"].Value, m.Groups["term"].Value), Is.EqualTo(("400", "PR--")), req);
        }
        Assert.That(Board(proxy).Total("fe/FRONTEND", StatField.Ereq), Is.EqualTo(2));
    }

    // Trailers that arrive once the head and the body went to the server: more fields than tune.http.maxhdr, or more
    // bytes than tune.bufsize (a trailer section is held whole before it goes on, as in HAProxy's buffer).
    [TestCase(200, 20)]
    [TestCase(1, 17000)]
    public async Task Request_OversizedTrailers_AfterTheHeadWentOut_Are400_PH_AndTheServerIsCut(int fields, int valueLength)
    {
        using var syslog = new SyslogReceiver();
        var received = new MemoryStream();
        var gotBody = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var serverClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = new TestServer(async s =>
        {
            // Never answers: the proxy is still waiting for the response head when the trailers arrive.
            var buf = new byte[65536];
            try
            {
                int n;
                while ((n = await s.ReceiveAsync(buf, SocketFlags.None)) > 0)
                {
                    lock (received) received.Write(buf, 0, n);
                    if (Encoding.ASCII.GetString(received.ToArray()).EndsWith("5\r\nhello\r\n", StringComparison.Ordinal)) gotBody.TrySetResult();
                }
            }
            catch (SocketException) { }
            serverClosed.TrySetResult();
        });
        int port = Ports.Free();
        using var proxy = Start(port, origin.EndPoint.Port, syslog);

        using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await c.ConnectAsync(IPAddress.Loopback, port);
        await c.SendAsync(Encoding.ASCII.GetBytes("POST /late HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-First: 1\r\n"), SocketFlags.None);
        await gotBody.Task.WaitAsync(TimeSpan.FromSeconds(10));   // the head and the body are at the origin
        var rest = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"X-Trailer: {new string('v', valueLength)}\r\n", fields)) + "\r\n");
        await c.SendAsync(rest, SocketFlags.None);
        var got = await ReadToEndAsync(c);

        Assert.That(Encoding.ASCII.GetString(got), Does.StartWith("HTTP/1.1 400"));
        await serverClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        string atOrigin;
        lock (received) atOrigin = Encoding.ASCII.GetString(received.ToArray());
        Assert.That(atOrigin, Does.EndWith("\r\n\r\n5\r\nhello\r\n"), "cut before the last chunk: never a complete message, no trailer");
        Assert.That(origin.Accepted, Is.EqualTo(1));

        var m = LogLine(await syslog.ReceiveAsync(1, TimeSpan.FromSeconds(10)), "POST /late HTTP/1.1");
        Assert.That((m.Groups["status"].Value, m.Groups["term"].Value), Is.EqualTo(("400", "PH--")));
        var board = Board(proxy);
        Assert.That(board.Total("fe/FRONTEND", StatField.Ereq), Is.EqualTo(1));
        Assert.That(board.Total("be/s1", StatField.Eresp), Is.Zero, "the server did nothing wrong");
    }

    [Test]
    public async Task Request_ClientClosesMidBody_IsAnAbort_CD_NotABadRequest()
    {
        using var syslog = new SyslogReceiver();
        var gotBody = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = new TestServer(async s =>
        {
            var buf = new byte[65536];
            var seen = new StringBuilder();
            int n;
            while ((n = await s.ReceiveAsync(buf, SocketFlags.None)) > 0)
            {
                seen.Append(Encoding.ASCII.GetString(buf, 0, n));
                if (seen.ToString().EndsWith("5\r\nhello\r\n", StringComparison.Ordinal)) gotBody.TrySetResult();
            }
        });
        int port = Ports.Free();
        using var proxy = Start(port, origin.EndPoint.Port, syslog);

        using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await c.ConnectAsync(IPAddress.Loopback, port);
        await c.SendAsync(Encoding.ASCII.GetBytes("POST /half HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"), SocketFlags.None);
        await gotBody.Task.WaitAsync(TimeSpan.FromSeconds(10));
        c.Shutdown(SocketShutdown.Send);   // FIN in the middle of the body
        Assert.That(await ReadToEndAsync(c), Is.Empty, "no answer to a client that left (HAProxy: none either)");

        var m = LogLine(await syslog.ReceiveAsync(1, TimeSpan.FromSeconds(10)), "POST /half HTTP/1.1");
        Assert.That((m.Groups["status"].Value, m.Groups["term"].Value), Is.EqualTo(("-1", "CD--")));
        var board = Board(proxy);
        Assert.That(board.Total("be/s1", StatField.CliAbrt), Is.EqualTo(1));
        Assert.That(board.Total("fe/FRONTEND", StatField.Ereq), Is.Zero, "an abort, not a bad request");
    }

    private static Match LogLine(List<string> lines, string request) =>
        lines.Select(l => HttpLogTail().Match(l)).FirstOrDefault(m => m.Success && m.Groups["req"].Value == request)
            ?? throw new AssertionException($"no log line for {request} in:\n{string.Join("\n", lines)}");

    /// <summary>
    /// Sends <paramref name="request"/> on a new connection (in the background: a large one may not be read whole) and
    /// reads until the proxy closes or resets it. When <paramref name="signalWhen"/> holds for what came so far,
    /// <paramref name="signal"/> is set.
    /// </summary>
    private static async Task<(byte[] Received, bool Reset)> ExchangeAsync(int port, string request,
        Func<byte[], bool>? signalWhen = null, TaskCompletionSource? signal = null)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        var send = Task.Run(async () =>
        {
            try { await s.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None); }
            catch (SocketException) { }   // the proxy closed after its answer without reading everything
        });
        var all = new MemoryStream();
        var buf = new byte[65536];
        bool reset = false;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            int n;
            while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0)
            {
                all.Write(buf, 0, n);
                if (signalWhen is not null && signalWhen(all.ToArray())) signal!.TrySetResult();
            }
        }
        catch (SocketException) { reset = true; }
        await send;
        return (all.ToArray(), reset);
    }

    private static async Task<byte[]> ReadToEndAsync(Socket s)
    {
        var all = new MemoryStream();
        var buf = new byte[65536];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            int n;
            while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0) all.Write(buf, 0, n);
        }
        catch (SocketException) { }   // a reset after the answer
        return all.ToArray();
    }

    /// <summary>Reads a request head (up to the empty line) from the proxy.</summary>
    private static async Task<string> ReadHeadAsync(Socket s)
    {
        var head = new StringBuilder();
        var buf = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await s.ReceiveAsync(buf, SocketFlags.None) <= 0) throw new IOException("closed before a head");
            head.Append((char)buf[0]);
        }
        return head.ToString();
    }

    private static async Task DrainAsync(Socket s)
    {
        var buf = new byte[65536];
        try
        {
            while (await s.ReceiveAsync(buf, SocketFlags.None) > 0) { }
        }
        catch (SocketException) { }
    }

    /// <summary>A UDP socket on 127.0.0.1 playing syslog server; skips the process log's `[supervisor]` lines.</summary>
    private sealed class SyslogReceiver : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        public SyslogReceiver()
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        }

        public int Port { get; }

        public async Task<List<string>> ReceiveAsync(int count, TimeSpan wait)
        {
            var lines = new List<string>();
            var buffer = new byte[65536];
            using var cts = new CancellationTokenSource(wait);
            try
            {
                while (lines.Count < count)
                {
                    int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                    var line = Encoding.UTF8.GetString(buffer, 0, n);
                    if (!line.Contains("]: [", StringComparison.Ordinal)) lines.Add(line);
                }
            }
            catch (OperationCanceledException)
            {
                // fewer than expected: the caller's assertion says so
            }
            return lines;
        }

        public void Dispose() => _socket.Dispose();
    }
}
