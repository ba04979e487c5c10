using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `maxsslconn` and `maxsslrate` (3.2, issue 16) through one worker: at the connection limit the TLS listener stops
/// accepting until a TLS connection closes; above the rate the handshakes wait for the next second's share.
/// </summary>
[TestFixture]
public sealed class TlsLimitTests
{
    private const int MaxSslRate = 10;
    private TestPki _pki = null!;
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private int _port;

    [OneTimeSetUp]
    public void StartProxy()
    {
        _pki = new TestPki();
        string site = _pki.Issue("site.pem", "site.test", ["site.test"]);
        _origin = new OriginProcess("limit-origin");
        _port = Ports.Free();
        _proxy = new ProxyInstance($$"""
            defaults
                mode http
                timeout connect 5s
                timeout client 10s
                timeout server 10s
            frontend fe
                bind 127.0.0.1:{{_port}} ssl crt {{site}}
                default_backend be
            backend be
                server o 127.0.0.1:{{_origin.Port}}
            """, global: $"    nbproc 1\n    maxsslconn 2\n    maxsslrate {MaxSslRate}\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
        _pki?.Dispose();
    }

    /// <summary>A TLS client connection with its handshake started; the task ends when the handshake is done.</summary>
    private (Socket Socket, SslStream Tls, Task Handshake) Connect()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect("127.0.0.1", _port);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        var options = new SslClientAuthenticationOptions { TargetHost = "site.test", RemoteCertificateValidationCallback = static (_, _, _, _) => true };
        return (socket, tls, tls.AuthenticateAsClientAsync(options));
    }

    [Test, Order(1)]
    public async Task MaxSslConn_TheListenerWaitsUntilOneCloses()
    {
        var first = Connect();
        var second = Connect();
        await Task.WhenAll(first.Handshake, second.Handshake).WaitAsync(TimeSpan.FromSeconds(10));
        var third = Connect();   // in the kernel's backlog: the listener does not accept it while two are open
        var early = await Task.WhenAny(third.Handshake, Task.Delay(TimeSpan.FromSeconds(1.5)));
        Assert.That(early, Is.Not.SameAs(third.Handshake), "a third TLS connection was served while maxsslconn 2 were open");
        first.Tls.Dispose();
        await third.Handshake.WaitAsync(TimeSpan.FromSeconds(10));   // accepted once the first one closed
        second.Tls.Dispose();
        third.Tls.Dispose();
    }

    [Test, Order(2)]
    public async Task MaxSslRate_HandshakesWaitForTheNextSecond()
    {
        // 3 x the rate, one at a time (maxsslconn 2 is not what holds them): at least two one-second windows end meanwhile.
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 3 * MaxSslRate; i++)
        {
            var c = Connect();
            await c.Handshake.WaitAsync(TimeSpan.FromSeconds(10));
            c.Tls.Dispose();
        }
        Assert.That(clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(1.5)), $"{3 * MaxSslRate} handshakes at maxsslrate {MaxSslRate}");
    }
}
