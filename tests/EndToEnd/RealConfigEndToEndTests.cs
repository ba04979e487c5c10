using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// A configuration written the way real ones are, through the real supervisor and workers (one instance for the
/// fixture): `nbthread 2` starts two workers, `setenv` and a `.if` block choose the ports, `log-tag` and
/// `log-send-hostname` mark the traffic log, a tcp frontend reaching an http backend is served as HTTP, `use_backend`
/// without a condition routes, `dispatch` is a backend's server, and a `disabled` frontend listens nowhere.
/// </summary>
[TestFixture]
public sealed class RealConfigEndToEndTests
{
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private Socket _syslog = null!;
    private int _upgradedPort, _routedPort, _dispatchPort, _disabledPort, _keepAlivePort, _taggedPort, _bindBacklogPort, _proxyBacklogPort;

    [OneTimeSetUp]
    public void StartInstance()
    {
        _origin = new OriginProcess("real");
        _syslog = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _syslog.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int syslogPort = ((IPEndPoint)_syslog.LocalEndPoint!).Port;
        (_upgradedPort, _routedPort, _dispatchPort, _disabledPort, _keepAlivePort) = (Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free());
        _taggedPort = Ports.Free();
        (_bindBacklogPort, _proxyBacklogPort) = (Ports.Free(), Ports.Free());
        string global =
            "    nbthread 2\n" +
            "    ulimit-n 4000\n" +
            $"    setenv ROUTED_PORT {_routedPort}\n" +
            "    log-tag edge-lb\n" +
            "    log-send-hostname lb-under-test\n" +
            $"    log 127.0.0.1:{syslogPort} local0 info\n";
        string body =
            "defaults\n    log global\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n" +
            ".if version_atleast(2.6)\n" +
            $"frontend upgraded\n    mode tcp\n    option tcplog\n    bind 127.0.0.1:{_upgradedPort}\n    default_backend web\n" +
            ".else\n" +
            "frontend never\n    bind 127.0.0.1:1\n" +
            ".endif\n" +
            "frontend routed\n    mode http\n    bind 127.0.0.1:$ROUTED_PORT\n    use_backend web\n" +
            $"frontend tagged\n    mode http\n    option httplog\n    log-tag front-tag\n    bind 127.0.0.1:{_taggedPort}\n    default_backend web\n" +
            $"frontend off\n    mode http\n    disabled\n    bind 127.0.0.1:{_disabledPort}\n    default_backend web\n" +
            $"backend web\n    mode http\n    balance\n    server o 127.0.0.1:{_origin.Port}\n" +
            $"listen relay\n    mode tcp\n    bind 127.0.0.1:{_dispatchPort}\n    dispatch 127.0.0.1:{_origin.Port}\n" +
            $"listen queued\n    mode tcp\n    backlog 9\n    bind 127.0.0.1:{_bindBacklogPort} backlog 7\n    bind 127.0.0.1:{_proxyBacklogPort}\n    server o 127.0.0.1:{_origin.Port}\n" +
            $"listen keepalive\n    mode tcp\n    option tcpka\n    bind 127.0.0.1:{_keepAlivePort}\n    server o 127.0.0.1:{_origin.Port}\n";
        _proxy = new ProxyInstance(body, global).Start();
    }

    [OneTimeTearDown]
    public void StopInstance()
    {
        _proxy?.Dispose();
        _origin?.Dispose();
        _syslog?.Dispose();
    }

    private static async Task<string> GetAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        return await http.GetStringAsync($"http://127.0.0.1:{port}/");
    }

    [Test]
    public void Nbthread_StartsThatManyWorkers()
    {
        Assert.That(_proxy.Workers().Count(w => w.State == "running"), Is.EqualTo(2));
    }

    [Test]
    public async Task TcpFrontendWithHttpBackend_IsServedAsHttp_AndLoggedWithTheTagAndHostname()
    {
        Assert.That(await GetAsync(_upgradedPort), Is.EqualTo("hello from real\n"));
        var buffer = new byte[65536];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string line;
        do
        {
            int n = await _syslog.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            line = Encoding.UTF8.GetString(buffer, 0, n);
        } while (!line.Contains(" upgraded ", StringComparison.Ordinal));
        Assert.That(line, Does.Match(@"^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d lb-under-test edge-lb\[\d+\]: "), line);
    }

    private async Task<string> SyslogLineAsync(string frontend)
    {
        var buffer = new byte[65536];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string line;
        do
        {
            int n = await _syslog.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            line = Encoding.UTF8.GetString(buffer, 0, n);
        } while (!line.Contains($" {frontend} ", StringComparison.Ordinal) && !line.Contains($" {frontend}~ ", StringComparison.Ordinal));
        return line;
    }

    [Test]
    public async Task ProxyLogTag_TagsThatFrontendsLines()
    {
        Assert.That(await GetAsync(_taggedPort), Is.EqualTo("hello from real\n"));
        var line = await SyslogLineAsync("tagged");
        Assert.That(line, Does.Match(@"^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d lb-under-test front-tag\[\d+\]: "), line);
    }

    [Test]
    public async Task UseBackendWithoutCondition_AndSetenvPort_Route()
    {
        Assert.That(await GetAsync(_routedPort), Is.EqualTo("hello from real\n"));
    }

    [Test]
    public async Task Dispatch_ForwardsToItsAddress()
    {
        Assert.That(await GetAsync(_dispatchPort), Is.EqualTo("hello from real\n"));
    }

    [Test]
    public void DisabledFrontend_ListensNowhere()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var e = Assert.Throws<SocketException>(() => s.Connect(IPAddress.Loopback, _disabledPort));
        Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));
    }

    /// <summary>`ss -tnoH state established FILTER`: one line per connection, with `timer:(keepalive,...)` when SO_KEEPALIVE is on.</summary>
    private static string Established(string filter) =>
        ProcessRunner.Run("ss", ["-tnoH", "state", "established", filter]).Stdout;

    [Test]
    public async Task OptionTcpka_TurnsOnKeepAliveOnBothSides()
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, _keepAlivePort);
        // An unfinished request keeps both connections open while the kernel's timers are read.
        await client.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n"), SocketFlags.None);
        int clientPort = ((IPEndPoint)client.LocalEndPoint!).Port;
        await Poll.UntilAsync(() => Established($"( sport = :{_keepAlivePort} and dport = :{clientPort} )").Contains("keepalive"),
            "the proxy's side of the client connection with a keepalive timer");
        await Poll.UntilAsync(() => Established($"( dport = :{_origin.Port} )").Contains("keepalive"),
            "a connection to the server with a keepalive timer");
        // Without the option, no keepalive: the client side of `routed` (http, no tcpka).
        using var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await plain.ConnectAsync(IPAddress.Loopback, _routedPort);
        int plainPort = ((IPEndPoint)plain.LocalEndPoint!).Port;
        var line = await Poll.UntilAsync(() => Established($"( sport = :{_routedPort} and dport = :{plainPort} )"), l => l.Length > 0, "the routed connection accepted");
        Assert.That(line, Does.Not.Contain("keepalive"));
    }

    /// <summary>`ss -ltnH`: the listening sockets on that port; Send-Q (the 3rd column) is a listener's backlog.</summary>
    private static List<string> ListenQueues(int port) =>
        ProcessRunner.Run("ss", ["-ltnH", $"( sport = :{port} )"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]).ToList();

    [Test]
    public void Backlog_OfTheBind_ElseOfTheProxy_IsTheListenQueue()
    {
        // One SO_REUSEPORT socket per worker (nbthread 2), each with the backlog.
        Assert.That(ListenQueues(_bindBacklogPort), Is.EqualTo(new[] { "7", "7" }));
        Assert.That(ListenQueues(_proxyBacklogPort), Is.EqualTo(new[] { "9", "9" }));
        // Without `backlog`: 4096, which the kernel caps at net.core.somaxconn.
        string fallback = Math.Min(4096, int.Parse(File.ReadAllText("/proc/sys/net/core/somaxconn").Trim())).ToString();
        Assert.That(ListenQueues(_routedPort), Is.EqualTo(new[] { fallback, fallback }));
    }

    [Test]
    public void UlimitN_IsTheWorkersOpenFileLimit()
    {
        foreach (var worker in _proxy.Workers())
        {
            var line = File.ReadAllLines($"/proc/{worker.Pid}/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            Assert.That(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], Is.EqualTo("4000"), line);
        }
    }
}
