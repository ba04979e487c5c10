using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// The runtime API on a running instance (2 workers): HAProxy 2.6's commands, answers and levels, on three stats
/// sockets (proxyctl's admin Unix socket, an operator Unix socket, a user TCP socket). One instance for the fixture.
/// </summary>
[TestFixture]
public sealed class RuntimeApiTests
{
    private OriginProcess _o1 = null!, _o2 = null!;
    private ProxyInstance _proxy = null!;
    private int _port, _movedPort, _tcpSocket;
    private string _operatorSocket = null!;
    private DirectoryInfo _socketDir = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _o1 = new OriginProcess("o1");
        _o2 = new OriginProcess("o2");
        (_port, _movedPort, _tcpSocket) = (Ports.Free(), Ports.Free(), Ports.Free());
        _socketDir = Directory.CreateTempSubdirectory("proxy-cli-");
        _operatorSocket = Path.Combine(_socketDir.FullName, "operator.sock");
        _proxy = new ProxyInstance($"""
            defaults
                mode http
                timeout connect 2s
                timeout client 10s
                timeout server 10s
            frontend fe
                bind 127.0.0.1:{_port}
                default_backend be
            frontend fe2
                bind 127.0.0.1:{_movedPort}
                default_backend moved
            backend be
                server s1 127.0.0.1:{_o1.Port}
                server s2 127.0.0.1:{_o2.Port}
            backend moved
                server m1 127.0.0.1:{Ports.Free()}
            frontend fe3
                bind 127.0.0.1:{Ports.Free()}
                maxconn 50
                default_backend be
            """,
            "    nbproc 2\n" +
            $"    stats socket ipv4@127.0.0.1:{_tcpSocket} level user\n" +
            $"    stats socket {_operatorSocket} mode 660 level operator\n" +
            "    stats timeout 3s\n" +
            "    stats maxconn 4\n").Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _o1?.Dispose();
        _o2?.Dispose();
        try { _socketDir.Delete(recursive: true); } catch (IOException) { }
    }

    private Task<string> Admin(string command) => ControlClient.SendAsync(_proxy.SocketPath, command, TimeSpan.FromSeconds(10));

    private Task<string> Operator(string command) => ControlClient.SendAsync(_operatorSocket, command, TimeSpan.FromSeconds(10));

    private async Task<string> User(string command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _tcpSocket);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\n"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var reply = new MemoryStream();
        await stream.CopyToAsync(reply, cts.Token);
        return Encoding.UTF8.GetString(reply.ToArray());
    }

    private static string[] Lines(string reply) => reply.Split('\n');

    [Test]
    public async Task ShowStat_IidTypeSid_FiltersAsHaproxy()
    {
        // fe is proxy 1, fe2 2, fe3 3, be 4, moved 5 (configuration order, frontends first); type 4 = servers; sid 2 = s2.
        string reply = await Admin("show stat 4 4 2");
        var lines = Lines(reply);
        Assert.That(lines[0], Does.StartWith("# pxname,svname,qcur,qmax,scur,smax,slim,stot,"), reply);
        Assert.That(lines[1], Does.StartWith("be,s2,"), reply);
        Assert.That(lines[2..], Is.EqualTo(new[] { "", "" }), "one row, then the end-of-answer empty line");
        Assert.That(Lines(await Admin("show stat be 2 -1"))[1], Does.StartWith("be,BACKEND,"));
        Assert.That(await Admin("show stat nope 2 -1"), Is.EqualTo("No such proxy.\n\n"));
        string typed = await Admin("show stat 4 4 1 typed");
        Assert.That(Lines(typed)[0], Is.EqualTo("S.4.1.0.pxname.1:KNS:str:be"));
        Assert.That(await Admin("show stat -1 1 -1 json"), Does.StartWith("[[{\"objType\":\"Frontend\",\"proxyId\":1,\"id\":0,\"field\":{\"pos\":0,\"name\":\"pxname\"}"));
    }

    [Test]
    public async Task ClearCountersAll_ThenSetServerAddr_NextRequestIs200()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_movedPort}"), Timeout = TimeSpan.FromSeconds(20) };
        Assert.That(await Admin("clear counters all"), Is.EqualTo("\n"));
        string reply = await Admin($"set server moved/m1 addr 127.0.0.1 port {_o1.Port}");
        Assert.That(reply, Does.Match(@"^port changed from '\d+' to '" + _o1.Port + "' by 'stats socket command'\n\n$"));
        // Every worker took the new address: requests spread over both by the kernel all succeed.
        for (int i = 0; i < 20; i++)
        {
            using var response = await http.GetAsync("/");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"request {i}");
        }
        Assert.That(await Admin($"set server moved/m1 addr 127.0.0.1 port {_o1.Port}"), Is.EqualTo("no need to change the addr by 'stats socket command'\n\n"));
        var state = Lines(await Admin("show servers state moved"));
        Assert.That(state[2].Split(' ')[4], Is.EqualTo("127.0.0.1"));
        Assert.That(state[2].Split(' ')[18], Is.EqualTo(_o1.Port.ToString()), "srv_port is the new port");
    }

    [Test]
    public async Task SeveralCommands_PromptMode_Help_UnknownCommand()
    {
        Assert.That(await Admin("show backend;show env NO_SUCH_VARIABLE_HERE"), Is.EqualTo("# name\nbe\nmoved\n\nVariable not found\n\n"));
        Assert.That(await Admin("show backend;quit;show backend"), Is.EqualTo("# name\nbe\nmoved\n\n"), "quit ends the line");
        string unknown = await Admin("frobnicate");
        Assert.That(unknown, Does.StartWith("Unknown command, but maybe one of the following ones is a better match:\n"));
        Assert.That(unknown, Does.Contain("  prompt                                  : toggle interactive mode with prompt\n"));
        string help = await Admin("help");
        Assert.That(help, Does.StartWith("The following commands are valid at this level:\n"));
        Assert.That(help, Does.Contain("  set server <bk>/<srv> [opts]            : "));

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(_proxy.SocketPath));
        Assert.That(await Exchange(socket, "prompt\n", "> "), Is.EqualTo("\n> "));
        Assert.That(await Exchange(socket, "show backend\n", "> "), Is.EqualTo("# name\nbe\nmoved\n\n> "));
        Assert.That(await Exchange(socket, "show cli level\n", "> "), Is.EqualTo("admin\n\n> "));
        await socket.SendAsync(Encoding.UTF8.GetBytes("quit\n"));
        Assert.That(await ReadToEndAsync(socket), Is.Empty, "quit closes the session without a word");
    }

    private static async Task<string> Exchange(Socket socket, string send, string until)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(send));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var sb = new StringBuilder();
        var buffer = new byte[8192];
        while (!sb.ToString().EndsWith(until, StringComparison.Ordinal))
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0) break;
            sb.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return sb.ToString();
    }

    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var sb = new StringBuilder();
        var buffer = new byte[8192];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0) sb.Append(Encoding.UTF8.GetString(buffer, 0, n));
        return sb.ToString();
    }

    [Test]
    public async Task Levels_AreEnforcedPerCommand_AndTheSocketFileHasItsMode()
    {
        Assert.That(await User("show info"), Does.StartWith("Name: "));
        Assert.That(await User("show cli level"), Is.EqualTo("user\n\n"));
        Assert.That(await User("set server be/s1 state maint"), Is.EqualTo("Permission denied\n\n"), "a user-level socket cannot change a server");
        Assert.That(await User("show env HOME"), Is.EqualTo("Permission denied\n\n"));
        Assert.That(await User("stop"), Is.EqualTo("Permission denied\n\n"), "nor stop the instance");
        Assert.That(await User("help"), Does.Not.Contain("set server"), "help lists this level's commands");
        Assert.That(await Operator("clear counters"), Is.EqualTo("\n"));
        Assert.That(await Operator("clear counters all"), Is.EqualTo("Permission denied\n\n"));
        Assert.That(await Operator("set server be/s1 weight 2"), Is.EqualTo("Permission denied\n\n"));
        Assert.That(await Operator("show env PATH"), Does.StartWith("PATH="));
        Assert.That(await Admin("operator; show cli level; set server be/s1 weight 2"), Is.EqualTo("\noperator\n\nPermission denied\n\n"),
            "`operator` lowers the session's level");
        Assert.That(File.GetUnixFileMode(_operatorSocket), Is.EqualTo((UnixFileMode)Convert.ToInt32("660", 8)));
    }

    [Test]
    public async Task StatsTimeout_ClosesAnIdleSession_AndMaxconnHoldsTheFifth()
    {
        var idle = new List<Socket>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                idle.Add(s);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(_proxy.SocketPath));
            }
            // `stats maxconn 4`: a fifth waits while four sessions are open...
            var fifth = Admin("show backend");
            Assert.That(await Task.WhenAny(fifth, Task.Delay(500)), Is.Not.SameAs(fifth), "the fifth session waits");
            // ...and `stats timeout 3s` closes the idle ones, which lets it in.
            var sw = System.Diagnostics.Stopwatch.StartNew();
            Assert.That(await ReadToEndAsync(idle[0]), Is.Empty, "closed without an answer");
            Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
            Assert.That(await fifth, Is.EqualTo("# name\nbe\nmoved\n\n"));
        }
        finally
        {
            foreach (var s in idle) s.Dispose();
        }
    }

    [Test]
    public async Task ShowCommands_AnswerInHaproxysFormat()
    {
        var state = Lines(await Admin("show servers state be"));
        Assert.That(state[0], Is.EqualTo("1"));
        Assert.That(state[1], Is.EqualTo("# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight " +
            "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state " +
            "bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port"));
        var s1 = state[2].Split(' ');
        Assert.That(s1, Has.Length.EqualTo(25));
        Assert.That(s1[..5], Is.EqualTo(new[] { "4", "be", "1", "s1", "127.0.0.1" }));
        Assert.That(s1[18], Is.EqualTo(_o1.Port.ToString()));
        Assert.That(await Admin("show servers state nope"), Is.EqualTo("Can't find backend.\n\n"));

        var conn = Lines(await Admin("show servers conn be"));
        Assert.That(conn[0], Is.EqualTo("# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[2]"));
        Assert.That(conn[1], Does.StartWith($"be/s1 4/1 127.0.0.1 {_o1.Port} - "));

        Assert.That(await Admin("show errors"), Does.Match(@"^Total events captured on \[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] : 0\n\n$"));
        // Every worker's live sessions (idle keep-alive ones of earlier tests included), one HAProxy line each.
        Assert.That(await Admin("show sess"), Does.Match(@"^(0x[0-9a-f]+: proto=tcpv[46] src=\S+ fe=\S+ be=\S+ srv=\S+ age=\w+\n)*\n$"));
        var activity = Lines(await Admin("show activity"));
        Assert.That(activity[0], Is.EqualTo("thread_id: 0 (1..2)"));
        Assert.That(activity.Single(l => l.StartsWith("accepted: ")), Does.Match(@"^accepted: \d+ \[ \d+ \d+ \]$"), "one column per worker");

        Assert.That(Lines(await Admin("show info typed"))[0], Is.EqualTo("0.Name.1:POS:str:proxy"));
        Assert.That(await Admin("show info json"), Does.StartWith("[{\"field\":{\"pos\":0,\"name\":\"Name\"},\"processNum\":1,\"tags\":{\"origin\":\"Product\",\"nature\":\"Output\",\"scope\":\"Service\"},\"value\":{\"type\":\"str\",\"value\":\"proxy\"}}"));
    }

    [Test]
    public async Task SetServerHealthAndTimeout_AnswerAsHaproxy()
    {
        Assert.That(await Admin("set server be/s2 health down"), Is.EqualTo("\n"));
        await Poll.UntilAsync(() => Lines(Admin("show stat be 4 2").GetAwaiter().GetResult())[1], row => row.Contains(",DOWN,"), "be/s2 DOWN on the board");
        Assert.That(await Admin("set server be/s2 health up"), Is.EqualTo("\n"));
        await Poll.UntilAsync(() => Lines(Admin("show stat be 4 2").GetAwaiter().GetResult())[1], row => !row.Contains(",DOWN,"), "be/s2 back up");
        Assert.That(await Admin("set server be/s2 state bar"), Is.EqualTo("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"));
        Assert.That(await Admin("set server be/s2 weight 300"), Is.EqualTo("Absolute weight can only be between 0 and 256 inclusive.\n\n"));
        Assert.That(await Admin("set server be/s2 check-port 80"), Is.EqualTo("health checks are not enabled on this server\n\n"));
        Assert.That(await Admin("set server be/s2 frob"), Does.StartWith("usage: set server <backend>/<server> addr | agent"));
        Assert.That(await Admin("set timeout cli x"), Is.EqualTo("Invalid timeout value.\n\n"));
        Assert.That(await Admin("set rate-limit foo global 1"), Does.StartWith("'set rate-limit' only supports :\n"));
    }

    [Test]
    public void Proxyctl_ShowSetCmd_PassTheRuntimeApiOn()
    {
        var r = _proxy.Ctl("show", "servers", "state", "be");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout, Does.StartWith("1\n# be_id be_name srv_id"));
        r = _proxy.Ctl("cmd", "show stat -1 4 -1");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout.Split('\n').Count(l => l.StartsWith("be,s") || l.StartsWith("moved,m")), Is.EqualTo(3));
        r = _proxy.Ctl("set", "server", "be/s1", "weight", "1");
        Assert.That((r.ExitCode, r.Stdout), Is.EqualTo((0, "")), r.All);
        r = _proxy.Ctl("set", "server", "be/nope", "weight", "1");
        Assert.That((r.ExitCode, r.Stderr), Is.EqualTo((1, "No such server.\n")), r.All);
    }

    [Test]
    public async Task SetMaxConn_ReachesEveryWorker_AndARespawnedOne()
    {
        Assert.That(await Admin("set maxconn global 100000"), Is.EqualTo("Value out of range.\n\n"), "above the configured maxconn");
        Assert.That(await Admin("set maxconn global"), Is.EqualTo("Expects an integer value.\n\n"));
        Assert.That(await Admin("set maxconn frontend nope 5"), Is.EqualTo("No such frontend.\n\n"));
        Assert.That(await Admin("set maxconn frontend fe 5"), Does.StartWith("'set maxconn frontend' needs a `maxconn`"));
        Assert.That(await Admin("set maxconn frontend fe3 10"), Is.EqualTo("\n"));
        try
        {
            Assert.That(await Admin("set maxconn global 100"), Is.EqualTo("\n"));
            await Poll.UntilAsync(() => Admin("show info").GetAwaiter().GetResult(), i => i.Contains("\nMaxconn: 100\n"), "Maxconn 100 on the board");
            // A respawned worker gets the setting too: the board's Maxconn is the newest worker's.
            var victim = _proxy.Workers().Single(w => w.Slot == 2);
            Proxy.Shared.Interop.Posix.Signal(victim.Pid, Proxy.Shared.Interop.Posix.SIGKILL);
            await Poll.UntilAsync(() => _proxy.Workers().Any(w => w.Slot == 2 && w.Pid != victim.Pid && w.State == "running"), "slot 2 respawned");
            await Poll.UntilAsync(() => StatsWorkerMaxConn(), v => v.All(m => m == 100), "every live worker, the respawned one too, at maxconn 100");
        }
        finally
        {
            await Admin("set maxconn global 4096");
        }
    }

    private List<long> StatsWorkerMaxConn()
    {
        var r = _proxy.Ctl("stats", "--json");
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty("workers").EnumerateArray()
            .Where(w => w.GetProperty("state").GetString() == "running").Select(w => w.GetProperty("MaxConn").GetInt64()).ToList();
    }

    [Test]
    public async Task DisableFrontend_NewConnectionsWait_EnableServesThem()
    {
        Assert.That(await Admin("disable frontend nope"), Is.EqualTo("No such frontend.\n\n"));
        Assert.That(await Admin("disable frontend fe2"), Is.EqualTo("\n"));
        Assert.That(await Admin("disable frontend fe2"), Is.EqualTo("All sockets are already disabled.\n\n"));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_movedPort}"), Timeout = TimeSpan.FromSeconds(20) };
        Task<HttpResponseMessage> waiting;
        try
        {
            waiting = http.GetAsync("/");
            Assert.That(await Task.WhenAny(waiting, Task.Delay(1000)), Is.Not.SameAs(waiting), "no worker takes a connection of a disabled frontend");
        }
        finally
        {
            Assert.That(await Admin("enable frontend fe2"), Is.EqualTo("\n"));
        }
        using var response = await waiting;
        Assert.That(response.StatusCode, Is.Not.EqualTo(HttpStatusCode.RequestTimeout), "served once enabled");
        Assert.That(await Admin("enable frontend fe2"), Is.EqualTo("All sockets are already enabled.\n\n"));
    }
}
