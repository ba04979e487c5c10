using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// A TLS client connection's records after the handshake, which the worker reads and writes itself on its loop
/// (BufferedSocket.TlsRecords.cs): large bodies both ways, a reader too slow for the proxy's sends (partial writes),
/// requests pipelined in one record and in several, a request sent with the handshake's last flight, a TLS 1.3 key
/// update asked by the client, a refused renegotiation, and a bad record that costs only its connection. Every byte
/// is checked; a .NET SslStream or `openssl s_client` is the client.
/// </summary>
[TestFixture]
public sealed class TlsRecordTests
{
    private TestPki _pki = null!;
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private int _port, _short;

    [OneTimeSetUp]
    public void StartProxy()
    {
        _pki = new TestPki();
        string site = _pki.Issue("site.pem", "records.test", ["records.test"]);
        _origin = new OriginProcess("records-origin");
        (_port, _short) = (Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance($$"""
            defaults
                mode http
                timeout connect 5s
                timeout client 10s
                timeout server 10s
            frontend fe
                bind 127.0.0.1:{{_port}} ssl crt {{site}}
                default_backend be
            frontend fe_short
                bind 127.0.0.1:{{_short}} ssl crt {{site}}
                timeout client 1s
                default_backend be
            backend be
                server o 127.0.0.1:{{_origin.Port}}
            """, global: "    nbproc 1\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
        _pki?.Dispose();
    }

    private async Task<(Socket Socket, SslStream Tls)> ConnectAsync(int receiveBuffer = 0, int port = 0, Func<Stream, Stream>? wrap = null, bool tls13 = false)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBuffer > 0) socket.ReceiveBufferSize = receiveBuffer;
        await socket.ConnectAsync("127.0.0.1", port == 0 ? _port : port).WaitAsync(TimeSpan.FromSeconds(10));
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        var tls = new SslStream(wrap is null ? stream : wrap(stream));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "records.test",
            EnabledSslProtocols = tls13 ? System.Security.Authentication.SslProtocols.Tls13 : System.Security.Authentication.SslProtocols.None,
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        }).WaitAsync(TimeSpan.FromSeconds(10));
        return (socket, tls);
    }

    /// <summary>Reads one response (head and Content-Length body); the body's bytes.</summary>
    private static async Task<(string Head, byte[] Body)> ReadResponseAsync(Stream stream, List<byte> pending)
    {
        var buffer = new byte[65536];
        int headEnd;
        while ((headEnd = IndexOf(pending, "\r\n\r\n"u8)) < 0)
        {
            int n = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(15));
            if (n == 0) throw new EndOfStreamException("closed before a response head");
            pending.AddRange(buffer.AsSpan(0, n));
        }
        string head = Encoding.ASCII.GetString(pending.GetRange(0, headEnd).ToArray());
        pending.RemoveRange(0, headEnd + 4);
        var lengthLine = head.Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        int length = int.Parse(lengthLine.Split(':')[1].Trim());
        while (pending.Count < length)
        {
            int n = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(15));
            if (n == 0) throw new EndOfStreamException($"closed after {pending.Count} of {length} body bytes");
            pending.AddRange(buffer.AsSpan(0, n));
        }
        byte[] body = pending.GetRange(0, length).ToArray();
        pending.RemoveRange(0, length);
        return (head, body);
    }

    private static int IndexOf(List<byte> bytes, ReadOnlySpan<byte> value)
    {
        for (int i = 0; i + value.Length <= bytes.Count; i++)
        {
            int j = 0;
            while (j < value.Length && bytes[i + j] == value[j]) j++;
            if (j == value.Length) return i;
        }
        return -1;
    }

    [Test]
    public async Task LargeBodies_BothWays_EveryByte()
    {
        var (_, tls) = await ConnectAsync();
        await using var _ = tls;
        var body = new byte[3 * 1024 * 1024 + 17];
        new Random(16).NextBytes(body);
        var head = Encoding.ASCII.GetBytes($"POST /echo HTTP/1.1\r\nHost: records.test\r\nContent-Length: {body.Length}\r\n\r\n");
        var send = Task.Run(async () =>
        {
            await tls.WriteAsync(head);
            for (int off = 0; off < body.Length; off += 50_000) await tls.WriteAsync(body.AsMemory(off, Math.Min(50_000, body.Length - off)));
        });
        var (responseHead, echoed) = await ReadResponseAsync(tls, []);
        await send.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.That(responseHead, Does.StartWith("HTTP/1.1 200"));
        Assert.That(echoed.Length, Is.EqualTo(body.Length));
        Assert.That(echoed.AsSpan().SequenceEqual(body), Is.True, "the echoed body, byte for byte");
    }

    [Test]
    public async Task SlowReader_GetsEveryByte()
    {
        // A small receive window and a reader that pauses: the proxy's sends fill the socket and wait (partial writes
        // of its records), then go on as the reader drains. The pauses pace the reader; nothing waits on them.
        var (_, tls) = await ConnectAsync(receiveBuffer: 8192);
        await using var _ = tls;
        const int size = 8 * 1024 * 1024;
        await tls.WriteAsync("GET /bytes/8388608 HTTP/1.1\r\nHost: records.test\r\n\r\n"u8.ToArray());
        var buffer = new byte[4096];
        var head = new List<byte>();
        while (IndexOf(head, "\r\n\r\n"u8) < 0)
        {
            int n = await tls.ReadAsync(buffer.AsMemory(0, 1)).AsTask().WaitAsync(TimeSpan.FromSeconds(15));
            if (n == 0) Assert.Fail("closed before the head");
            head.Add(buffer[0]);
        }
        Assert.That(Encoding.ASCII.GetString(head.ToArray()), Does.StartWith("HTTP/1.1 200"));
        long received = 0, nextPause = 0;
        bool allX = true;
        while (received < size)
        {
            if (received >= nextPause)
            {
                await Task.Delay(20);
                nextPause += 512 * 1024;
            }
            int n = await tls.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(15));
            if (n == 0) break;
            for (int i = 0; i < n; i++) allX &= buffer[i] == (byte)'x';
            received += n;
        }
        Assert.That(received, Is.EqualTo(size), "every byte of the body");
        Assert.That(allX, Is.True, "and each one right");
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task PipelinedRequests_AllAnswered_InOrder(bool oneRecord)
    {
        var (_, tls) = await ConnectAsync();
        await using var _ = tls;
        int[] codes = [200, 201, 202, 203, 250];   // each answer told apart (204 may carry no body)
        var requests = codes.Select(c => Encoding.ASCII.GetBytes($"GET /status/{c} HTTP/1.1\r\nHost: records.test\r\n\r\n")).ToArray();
        if (oneRecord) await tls.WriteAsync(requests.SelectMany(r => r).ToArray());
        else foreach (var r in requests) await tls.WriteAsync(r);   // one record each, likely read by one recv (read-ahead)
        var pending = new List<byte>();
        for (int i = 0; i < 5; i++)
        {
            var (head, body) = await ReadResponseAsync(tls, pending);
            Assert.That(head, Does.StartWith($"HTTP/1.1 {codes[i]}"), $"response {i + 1}");
            Assert.That(Encoding.ASCII.GetString(body), Is.EqualTo($"status {codes[i]}\n"));
        }
    }

    /// <summary>
    /// `openssl s_client` given a command line first (`K`: a TLS 1.3 KeyUpdate that asks for the server's; `R`: a
    /// renegotiation), then a request: s_client takes a line as a command only when it arrives alone, so the request
    /// follows after a pause, and stdin stays open until the server closes (Connection: close) or 5 s pass.
    /// </summary>
    private ProcessRunner.Result SClient(string version, string command) => ProcessRunner.Run("bash", ["-c",
        $"(printf '{command}\\n'; sleep 0.5; printf 'GET / HTTP/1.1\\nHost: records.test\\nConnection: close\\n\\n'; sleep 5) | " +
        $"timeout 10 openssl s_client -connect 127.0.0.1:{_port} -servername records.test {version} -crlf"], TimeSpan.FromSeconds(20));

    [Test]
    public void KeyUpdate_AskedByTheClient_TheRequestAfterIsAnswered()
    {
        var r = SClient("-tls1_3", "K");
        Assert.That(r.All, Does.Contain("KEYUPDATE"), r.All);
        Assert.That(r.Stdout, Does.Contain("hello from records-origin"), r.All);
    }

    [Test]
    public async Task Renegotiation_IsRefused_OtherClientsServed()
    {
        // A client-initiated renegotiation is refused (SSL_OP_NO_RENEGOTIATION: an alert); nothing else is disturbed.
        var r = SClient("-tls1_2", "R");
        Assert.That(r.All, Does.Contain("RENEGOTIATING"), r.All);
        Assert.That(r.Stdout, Does.Not.Contain("hello from records-origin"), "no request answered after a refused renegotiation");
        var (_, tls) = await ConnectAsync();
        await using var _ = tls;
        await tls.WriteAsync("GET / HTTP/1.1\r\nHost: records.test\r\n\r\n"u8.ToArray());
        var (head, body) = await ReadResponseAsync(tls, []);
        Assert.That(head, Does.StartWith("HTTP/1.1 200"));
        Assert.That(Encoding.ASCII.GetString(body), Is.EqualTo("hello from records-origin\n"));
    }

    [Test]
    public async Task RequestSentWithTheFinished_IsAnswered()
    {
        // The client's Finished and its first request in one segment: the handshake must leave that record to SSL_read.
        var r = ProcessRunner.Run("curl", ["-sk", "-m", "10", "--resolve", $"records.test:{_port}:127.0.0.1", $"https://records.test:{_port}/", $"https://records.test:{_port}/status/204"]);
        Assert.That(r.Stdout, Is.EqualTo("hello from records-origin\n"), r.All);
        var (_, tls) = await ConnectAsync();
        await using var _ = tls;
        await tls.WriteAsync("GET / HTTP/1.1\r\nHost: records.test\r\n\r\n"u8.ToArray());
        Assert.That(Encoding.ASCII.GetString((await ReadResponseAsync(tls, [])).Body), Is.EqualTo("hello from records-origin\n"));
    }

    [Test]
    public async Task FinishedAndFirstRequest_InOneSend_Answered()
    {
        // The client's last handshake flight (TLS 1.3: its Finished) is held back and sent in one send with the first
        // request: the handshake's reads must stop at the Finished and leave the request's record to SSL_read.
        CoalescingStream? held = null;
        var (_, tls) = await ConnectAsync(wrap: s => held = new CoalescingStream(s), tls13: true);
        await using var _ = tls;
        Assert.That(held!.Held, Is.GreaterThan(0), "the Finished was held back");
        await tls.WriteAsync("GET / HTTP/1.1\r\nHost: records.test\r\n\r\n"u8.ToArray());
        Assert.That(held.CoalescedSends, Is.EqualTo(1), "sent together with the request");
        var (head, body) = await ReadResponseAsync(tls, []);
        Assert.That(head, Does.StartWith("HTTP/1.1 200"));
        Assert.That(Encoding.ASCII.GetString(body), Is.EqualTo("hello from records-origin\n"));
    }

    [Test]
    public async Task IdleSession_ClosedAtTimeoutClient()
    {
        var (_, tls) = await ConnectAsync(port: _short);
        await using var _ = tls;
        await tls.WriteAsync("GET / HTTP/1.1\r\nHost: records.test\r\n\r\n"u8.ToArray());
        Assert.That((await ReadResponseAsync(tls, [])).Head, Does.StartWith("HTTP/1.1 200"));
        long start = Environment.TickCount64;
        int n;
        try
        {
            n = await tls.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (IOException)
        {
            n = 0;
        }
        Assert.That(n, Is.EqualTo(0), "closed by the proxy");
        Assert.That(Environment.TickCount64 - start, Is.LessThan(8000), "at `timeout client` (1 s), not later");
    }

    /// <summary>
    /// Passes the first write (the ClientHello) through, holds the second (the client's last handshake flight), and
    /// sends it with the third (the first request) in one write.
    /// </summary>
    private sealed class CoalescingStream(Stream inner) : DelegatingStream(inner)
    {
        private int _writes;
        private byte[] _held = [];
        public int Held => _held.Length;
        public int CoalescedSends { get; private set; }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int write = ++_writes;
            if (write == 2)
            {
                _held = buffer.ToArray();
                return;
            }
            if (write == 3 && _held.Length > 0)
            {
                await Inner.WriteAsync((byte[])[.. _held, .. buffer.Span], cancellationToken);
                _held = [];
                CoalescedSends++;
                return;
            }
            await Inner.WriteAsync(buffer, cancellationToken);
        }
    }

    [Test]
    public async Task BadRecord_AfterTheHandshake_CostsOnlyItsConnection()
    {
        var (socket, tls) = await ConnectAsync();
        await using var _ = tls;
        // An application-data record whose bytes are garbage: its authentication fails.
        socket.Send([23, 3, 3, 0, 40, .. new byte[40]]);
        var buffer = new byte[64];
        int n;
        try
        {
            n = await tls.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
            n = 0;   // reset, or the alert SslStream reports as an error
        }
        Assert.That(n, Is.EqualTo(0), "closed, never answered");
        var (_, good) = await ConnectAsync();
        await using var __ = good;
        await good.WriteAsync("GET / HTTP/1.1\r\nHost: records.test\r\n\r\n"u8.ToArray());
        Assert.That((await ReadResponseAsync(good, [])).Head, Does.StartWith("HTTP/1.1 200"));
    }
}
