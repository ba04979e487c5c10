using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Reloads under `mode http` load: keep-alive clients that never retry (like wrk) see no failed request, because a
/// draining worker answers the next request on each connection with `Connection: close` instead of closing it.
/// </summary>
[TestFixture]
public sealed class HttpReloadTests
{
    private static string Config(int port, int origin) => $"""
        defaults
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
            timeout http-keep-alive 30s
        frontend web
            bind 127.0.0.1:{port}
            default_backend app
        backend app
            server o1 127.0.0.1:{origin}
        """;

    private sealed class Tally
    {
        public int Ok, Failed, CloseAnswers;
        public readonly List<string> Errors = [];
    }

    /// <summary>
    /// One strict keep-alive client: GET / again and again on one connection, reconnecting only when the proxy says
    /// `Connection: close`. A connection that ends or resets before a whole response is a failure.
    /// </summary>
    private static async Task KeepAliveClientAsync(int port, Tally tally, CancellationToken stop)
    {
        byte[] request = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        var buffer = new byte[16384];
        while (!stop.IsCancellationRequested)
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                bool open = true;
                while (open && !stop.IsCancellationRequested)
                {
                    await s.SendAsync(request, SocketFlags.None);
                    int used = 0, headEnd;
                    while ((headEnd = IndexOf(buffer, used, "\r\n\r\n"u8)) < 0)
                    {
                        int n = await s.ReceiveAsync(buffer.AsMemory(used), SocketFlags.None);
                        if (n == 0) throw new IOException("connection closed before a whole response");
                        used += n;
                    }
                    string head = Encoding.ASCII.GetString(buffer, 0, headEnd);
                    if (HeaderValue(head, "content-length") is not { } contentLength)
                        throw new IOException("expected a Content-Length response: " + head.Split('\r')[0]);
                    int length = int.Parse(contentLength);
                    int have = used - (headEnd + 4);
                    while (have < length)
                    {
                        int n = await s.ReceiveAsync(buffer, SocketFlags.None);
                        if (n == 0) throw new IOException("connection closed inside a response body");
                        have += n;
                    }
                    if (!head.StartsWith("HTTP/1.1 200")) throw new IOException("unexpected status: " + head.Split('\r')[0]);
                    Interlocked.Increment(ref tally.Ok);
                    if (string.Equals(HeaderValue(head, "connection"), "close", StringComparison.OrdinalIgnoreCase))
                    {
                        Interlocked.Increment(ref tally.CloseAnswers);
                        open = false;
                    }
                }
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                Interlocked.Increment(ref tally.Failed);
                lock (tally.Errors) tally.Errors.Add(e.Message);
            }
        }
    }

    private static string? HeaderValue(string head, string name)
    {
        foreach (var line in head.Split("\r\n"))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim().Equals(name, StringComparison.OrdinalIgnoreCase)) return line[(colon + 1)..].Trim();
        }
        return null;
    }

    private static int IndexOf(byte[] buffer, int length, ReadOnlySpan<byte> needle) => buffer.AsSpan(0, length).IndexOf(needle);

    [Test]
    public async Task Reload_UnderHttpKeepAliveLoad_NoRequestFailsAndOldConnectionsAreToldToClose()
    {
        using var origin = new OriginProcess("o1");
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, origin.Port)).Start();
        var tally = new Tally();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(() => KeepAliveClientAsync(port, tally, stop.Token))).ToArray();
        await Task.Delay(500);
        for (int i = 0; i < 5; i++)
        {
            var r = proxy.Ctl("reload");
            Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
            await Task.Delay(800);
        }
        stop.Cancel();
        await Task.WhenAll(clients);
        Assert.That(tally.Failed, Is.EqualTo(0), $"{tally.Failed} failures of {tally.Ok + tally.Failed}: {string.Join("; ", tally.Errors.Take(5))}");
        Assert.That(tally.Ok, Is.GreaterThan(200));
        Assert.That(tally.CloseAnswers, Is.GreaterThanOrEqualTo(8), "each reload tells the old workers' keep-alive clients to close");
    }
}
