using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// A `server ... ssl` whose handshake never completes (a server that accepts and stays silent) fails the connect at
/// `timeout connect`, logged `sC` as HAProxy logs a connect timeout, in mode http (503) and mode tcp (closed).
/// </summary>
[TestFixture]
public sealed class ServerTlsTimeoutTests
{
    private TestServer _silent = null!;
    private TrafficLogTests.SyslogReceiver _syslog = null!;
    private ProxyInstance _proxy = null!;
    private int _http, _tcp;

    [OneTimeSetUp]
    public void StartProxy()
    {
        // Reads what comes (the ClientHello) and never answers.
        _silent = new TestServer(async s =>
        {
            var buffer = new byte[4096];
            while (await s.ReceiveAsync(buffer, SocketFlags.None) > 0) { }
        });
        _syslog = new TrafficLogTests.SyslogReceiver();
        (_http, _tcp) = (Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance($$"""
            defaults
                log 127.0.0.1:{{_syslog.Port}} local0
                timeout connect 300ms
                timeout client 10s
                timeout server 10s
            listen http_silent
                mode http
                option httplog
                bind 127.0.0.1:{{_http}}
                server s 127.0.0.1:{{_silent.EndPoint.Port}} ssl verify none
            listen tcp_silent
                mode tcp
                option tcplog
                bind 127.0.0.1:{{_tcp}}
                server s 127.0.0.1:{{_silent.EndPoint.Port}} ssl verify none
            """, global: "    nbproc 1\n").Start();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _proxy?.Dispose();
        _syslog?.Dispose();
        if (_silent is not null) await _silent.DisposeAsync();
    }

    [Test]
    public async Task HandshakeOutlivingTimeoutConnect_IsAConnectTimeout()
    {
        var http = ProcessRunner.Run("curl", ["-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{_http}/"]);
        Assert.That(http.Stdout, Is.EqualTo("503"), http.All);
        var tcp = ProcessRunner.Run("curl", ["-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{_tcp}/"]);
        Assert.That(tcp.Stdout, Is.EqualTo("000"), "mode tcp: the client's connection closed");
        var lines = await _syslog.ReceiveAsync(2, TimeSpan.FromSeconds(10));
        Assert.That(lines, Has.Count.EqualTo(2), string.Join("\n", lines));
        Assert.That(lines.Single(l => l.Contains(" http_silent ")), Does.Contain(" sC--"), "httplog: connect timeout");
        Assert.That(lines.Single(l => l.Contains(" tcp_silent ")), Does.Contain(" sC "), "tcplog: connect timeout");
    }
}
