using System.Net.Security;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `tune.ssl.maxrecord` (3.2: the most bytes passed to SSL_write at a time) takes effect: a client that records the
/// bytes it receives finds no record after the handshake larger than the limit plus TLS 1.3's overhead, in `mode http`
/// (the worker's own records) and in `mode tcp` (SslStream's writes).
/// </summary>
[TestFixture]
public sealed class TlsMaxRecordTests
{
    private const int MaxRecord = 1400;
    private const int Tls13Overhead = 17;   // the inner content type and the AEAD tag (RFC 8446 5.2)
    private TestPki _pki = null!;
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private int _http, _tcp;

    [OneTimeSetUp]
    public void StartProxy()
    {
        _pki = new TestPki();
        string site = _pki.Issue("site.pem", "records.test", ["records.test"]);
        _origin = new OriginProcess("maxrecord-origin");
        (_http, _tcp) = (Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance($$"""
            defaults
                timeout connect 5s
                timeout client 10s
                timeout server 10s
            frontend fe_http
                mode http
                bind 127.0.0.1:{{_http}} ssl crt {{site}} ssl-min-ver TLSv1.3
                default_backend be_http
            frontend fe_tcp
                mode tcp
                bind 127.0.0.1:{{_tcp}} ssl crt {{site}} ssl-min-ver TLSv1.3
                default_backend be_tcp
            backend be_http
                mode http
                server o 127.0.0.1:{{_origin.Port}}
            backend be_tcp
                mode tcp
                server o 127.0.0.1:{{_origin.Port}}
            """, global: $"    nbproc 1\n    tune.ssl.maxrecord {MaxRecord}\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
        _pki?.Dispose();
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task RecordsAfterTheHandshake_AreAtMostMaxRecord(bool http)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", http ? _http : _tcp).WaitAsync(TimeSpan.FromSeconds(10));
        var recorded = new RecordingStream(new NetworkStream(socket, ownsSocket: false));
        await using var tls = new SslStream(recorded);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "records.test",
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        }).WaitAsync(TimeSpan.FromSeconds(10));
        long afterHandshake = recorded.Received.Length;
        const int size = 100_000;
        await tls.WriteAsync("GET /bytes/100000 HTTP/1.1\r\nHost: records.test\r\nConnection: close\r\n\r\n"u8.ToArray());
        var buffer = new byte[65536];
        long total = 0;
        while (true)
        {
            int n = await tls.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(15));
            if (n == 0) break;
            total += n;
        }
        Assert.That(total, Is.GreaterThan(size), "the whole response (head and body)");
        var stream = recorded.Received.ToArray();
        int largest = 0, count = 0;
        for (int at = 0; at + 5 <= stream.Length;)
        {
            int length = stream[at + 3] << 8 | stream[at + 4];
            if (at >= afterHandshake && stream[at] == 23)
            {
                largest = Math.Max(largest, length);
                count++;
            }
            at += 5 + length;
        }
        Assert.That(largest, Is.LessThanOrEqualTo(MaxRecord + Tls13Overhead), "no record over the limit");
        Assert.That(count, Is.GreaterThanOrEqualTo(size / MaxRecord), "the body went in records of the limit's size");
    }

    /// <summary>A stream that keeps a copy of every byte read through it.</summary>
    private sealed class RecordingStream(Stream inner) : DelegatingStream(inner)
    {
        public MemoryStream Received { get; } = new();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await Inner.ReadAsync(buffer, cancellationToken);
            Received.Write(buffer.Span[..n]);
            return n;
        }
    }
}
