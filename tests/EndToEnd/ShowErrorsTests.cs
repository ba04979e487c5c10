using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `show errors` (doc/management.txt 9.3) on one instance of 2 workers: a request head the parser refuses (400) is kept
/// for its frontend, a server's refused response head (502) for its backend, and the supervisor gathers them from every
/// worker and prints them as HAProxy 2.6 does (src/proxy.c cli_io_handler_show_errors).
/// </summary>
[TestFixture]
public sealed class ShowErrorsTests
{
    private const string BadResponse = "HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n";
    private TcpListener _server = null!;
    private ProxyInstance _proxy = null!;
    private int _port;

    [OneTimeSetUp]
    public void Start()
    {
        // A server whose every response has a space in a header name (RFC 9110 5.1: a token), which HAProxy refuses.
        _server = new TcpListener(IPAddress.Loopback, 0);
        _server.Start();
        _ = ServeAsync();
        _port = Ports.Free();
        _proxy = new ProxyInstance($"""
            defaults
                mode http
                timeout connect 2s
                timeout client 10s
                timeout server 10s
            frontend fe
                bind 127.0.0.1:{_port}
                default_backend be
            backend be
                server s1 127.0.0.1:{((IPEndPoint)_server.LocalEndpoint).Port}
            """).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _server?.Stop();
    }

    private async Task ServeAsync()
    {
        try
        {
            while (true)
            {
                using var c = await _server.AcceptTcpClientAsync();
                var s = c.GetStream();
                var buf = new byte[4096];
                int n = 0;
                while (n < buf.Length && !Encoding.ASCII.GetString(buf, 0, n).Contains("\r\n\r\n"))
                {
                    int r = await s.ReadAsync(buf.AsMemory(n));
                    if (r == 0) break;
                    n += r;
                }
                await s.WriteAsync(Encoding.ASCII.GetBytes(BadResponse));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException) { }
    }

    private Task<string> Cli(string command) => ControlClient.SendAsync(_proxy.SocketPath, command, TimeSpan.FromSeconds(10));

    /// <summary>Sends <paramref name="request"/> on a new connection; the status line, and the client's port.</summary>
    private async Task<(string Status, int Port)> SendAsync(string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _port);
        int port = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(client.GetStream(), Encoding.ASCII);
        return (await reader.ReadLineAsync() ?? "", port);
    }

    [Test]
    public async Task InvalidRequest_ShownForItsFrontend_WithSourceBytesAndPosition()
    {
        var (status, port) = await SendAsync("GET /bad HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n");
        Assert.That(status, Does.StartWith("HTTP/1.1 400 "));

        var text = await Cli("show errors fe request");
        Assert.That(text, Does.Match(@"^Total events captured on \[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] : \d+\n \n\[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] frontend fe \(#\d+\): invalid request\n"), text);
        Assert.That(text, Does.Contain($"  backend <NONE> (#-1), server <NONE> (#-1), event #"));
        Assert.That(text, Does.Contain($", src 127.0.0.1:{port}\n"), "the client's address and port");
        // As Debian's HAProxy 2.6.12 prints it for the same request: the whole input, the space of "Bad Name" refused.
        Assert.That(text, Does.Contain($"  len 43, wraps at 16384, error at position 31\n  \n" +
            "  00000  GET /bad HTTP/1.1\\r\\n\n  00019  Host: x\\r\\n\n  00028  Bad Name: y\\r\\n\n  00041  \\r\\n\n"), text);

        Assert.That(await Cli("show errors fe response"), Does.Match(@"^Total events captured on \[[^]]+\] : \d+\n\n$"), "no response event for fe");
        Assert.That(await Cli("show errors nope"), Is.EqualTo("No such proxy.\n\n"));
        Assert.That(await Cli("show errors request"), Is.EqualTo("No such proxy.\n\n"), "as HAProxy: the first word is the proxy");
    }

    [Test]
    public async Task InvalidResponse_ShownForItsBackend_NamingFrontendAndServer()
    {
        var (status, port) = await SendAsync("GET /r HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(status, Does.StartWith("HTTP/1.1 502 "));

        var text = await Cli("show errors be response");
        Assert.That(text, Does.Match(@"\] backend be \(#\d+\): invalid response\n  frontend fe \(#\d+\), server s1 \(#1\), event #\d+, src 127\.0\.0\.1:" + port + "\n"), text);
        Assert.That(text, Does.Contain("error at position 20\n  \n  00000  HTTP/1.1 200 OK\\r\\n\n  00017  Bad Header: x\\r\\n\n"), text);
        Assert.That(await Cli("show errors be request"), Does.Not.Contain("invalid"));
    }
}
