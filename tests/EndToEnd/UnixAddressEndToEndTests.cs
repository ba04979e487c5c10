using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// HAProxy's address forms through the real supervisor and workers (one instance, one nginx, one origin): a `bind
/// unix@PATH` that curl reaches with --unix-socket, `server unix@PATH` (nginx on a UNIX socket) in http and tcp mode,
/// a `bind abns@NAME` reached through `server abns@NAME` (the chaining real configs use), and servers without a port
/// (the port the client connected to) or with `-N`/`+N`. The same file passes `haproxy -c`.
/// </summary>
[TestFixture]
public sealed class UnixAddressEndToEndTests
{
    private NginxOrigin _nginx = null!;
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private string _frontendSocket = null!;
    private int _abnsPort, _noPortPort, _offsetPort, _tcpModePort;

    [OneTimeSetUp]
    public void StartInstance()
    {
        _nginx = new NginxOrigin();
        // The portless server's origin listens on 127.0.0.3 at the very port the proxy listens on at 127.0.0.1.
        _noPortPort = Ports.Free();
        _origin = new OriginProcess("noport", "127.0.0.3", _noPortPort);
        (_abnsPort, _offsetPort, _tcpModePort) = (Ports.Free(), Ports.Free(), Ports.Free());
        int delta = _noPortPort - _offsetPort;
        string offset = delta >= 0 ? $"+{delta}" : $"-{-delta}";
        string abns = $"proxy-test-{Environment.ProcessId}-{Guid.NewGuid():N}";
        _frontendSocket = Path.Combine(Path.GetTempPath(), $"proxy-unix-{Guid.NewGuid():N}.sock");
        string body =
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n" +
            $"frontend via_unix\n    bind unix@{_frontendSocket} mode 600\n    default_backend nginx_unix\n" +
            $"backend nginx_unix\n    server n unix@{_nginx.UnixSocket}\n" +
            $"frontend to_abns\n    bind 127.0.0.1:{_abnsPort}\n    default_backend chain\n" +
            $"backend chain\n    server next abns@{abns}\n" +
            $"frontend via_abns\n    bind abns@{abns}\n    default_backend nginx_unix\n" +
            $"frontend same_port\n    bind 127.0.0.1:{_noPortPort}\n    default_backend noport\n" +
            "backend noport\n    server o 127.0.0.3\n" +
            $"frontend shifted\n    bind 127.0.0.1:{_offsetPort}\n    default_backend offset\n" +
            $"backend offset\n    server o 127.0.0.3:{offset}\n" +
            $"listen tcp_to_unix\n    mode tcp\n    bind 127.0.0.1:{_tcpModePort}\n    server n {_nginx.UnixSocket}\n";
        _proxy = new ProxyInstance(body, "    nbthread 2\n").Start();
    }

    [OneTimeTearDown]
    public void StopInstance()
    {
        _proxy?.Dispose();
        _nginx?.Dispose();
        _origin?.Dispose();
        if (_frontendSocket is not null) File.Delete(_frontendSocket);
    }

    private static async Task<string> GetAsync(int port, string path = "/")
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        return await http.GetStringAsync($"http://127.0.0.1:{port}{path}");
    }

    [Test]
    public void Config_PassesHaproxyCheck()
    {
        var r = ProcessRunner.Run("/usr/sbin/haproxy", ["-c", "-q", "-f", _proxy.ConfigPath]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
    }

    [Test]
    public void UnixBind_ServesCurlOverTheSocket_ToAUnixServer_WithTheFileMode()
    {
        var r = ProcessRunner.Run("curl", ["-sS", "--max-time", "20", "--unix-socket", _frontendSocket, "http://lb/over-unix"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout, Is.EqualTo("unix socket /over-unix"));
        Assert.That(File.GetUnixFileMode(_frontendSocket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public async Task AbnsServer_ReachesTheAbnsBind()
    {
        Assert.That(await GetAsync(_abnsPort, "/through-abns"), Is.EqualTo("unix socket /through-abns"));
    }

    [Test]
    public async Task TcpMode_UnixServer_Relays()
    {
        Assert.That(await GetAsync(_tcpModePort, "/tcp-mode"), Is.EqualTo("unix socket /tcp-mode"));
    }

    [Test]
    public async Task ServerWithoutPort_GoesToThePortTheClientReached()
    {
        Assert.That(await GetAsync(_noPortPort), Is.EqualTo("hello from noport\n"));
    }

    [Test]
    public async Task ServerWithPortOffset_GoesToTheClientsPortPlusTheOffset()
    {
        Assert.That(await GetAsync(_offsetPort), Is.EqualTo("hello from noport\n"));
    }

    [Test]
    public void SecondInstance_OnTheSameUnixPath_IsRefused()
    {
        using var other = new ProxyInstance(
            "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n" +
            $"listen again\n    bind unix@{_frontendSocket}\n    server s 127.0.0.1:9\n", "    nbthread 1\n");
        var r = other.Ctl("start");
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.All);
        Assert.That(r.All, Does.Contain("Address already in use"));
        // The first instance still owns the socket.
        var again = ProcessRunner.Run("curl", ["-sS", "--max-time", "20", "--unix-socket", _frontendSocket, "http://lb/still"]);
        Assert.That(again.Stdout, Is.EqualTo("unix socket /still"), again.All);
    }
}
