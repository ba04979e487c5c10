using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `agent-check` (5.2) against an agent written here, with 2 workers: the agent's `N%`, `drain`, `down` and `up` set the
/// weight and state in every worker (`show stat`, `show servers state`, the traffic); `on-marked-down shutdown-sessions`
/// cuts a live session, `on-marked-up shutdown-backup-sessions` a backup's, and `slowstart` ramps the weight back.
/// </summary>
[TestFixture]
public sealed class AgentCheckEndToEndTests
{
    private EchoServer _e1 = null!, _e2 = null!, _e3 = null!, _e4 = null!;
    private TestAgent _a1 = null!, _a2 = null!;
    private ProxyInstance _proxy = null!;
    private int _port, _markedPort, _closedPort;

    /// <summary>The configuration (also valid for HAProxy 2.6: see <see cref="Config_IsValidForHaproxy"/>).</summary>
    private string Config() => $"""
        defaults
            mode tcp
            timeout connect 1s
            timeout client 20s
            timeout server 20s
        frontend fe
            bind 127.0.0.1:{_port}
            default_backend be
        frontend fe2
            bind 127.0.0.1:{_markedPort}
            default_backend marked
        backend be
            server s1 127.0.0.1:{_e1.Port} weight 100 agent-check agent-port {_a1.Port} agent-inter 100ms agent-send "hello\n"
            server s2 127.0.0.1:{_e2.Port} weight 100
        backend marked
            server d1 127.0.0.1:{_e3.Port} weight 100 agent-check agent-port {_a2.Port} agent-inter 100ms slowstart 4s on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions
            server d2 127.0.0.1:{_e4.Port} backup
        backend checked
            server c1 127.0.0.1:{_closedPort} check inter 100ms rise 1 fall 1
        """;

    [OneTimeSetUp]
    public void Start()
    {
        (_e1, _e2, _e3, _e4) = (new EchoServer(), new EchoServer(), new EchoServer(), new EchoServer());
        (_a1, _a2) = (new TestAgent(), new TestAgent());
        (_port, _markedPort, _closedPort) = (Ports.Free(), Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance(Config()).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        foreach (var d in new IDisposable?[] { _e1, _e2, _e3, _e4, _a1, _a2 }) d?.Dispose();
    }

    /// <summary>The `show stat` rows of one server (the total, then one per worker), as (status, weight).</summary>
    private ServerRows Rows(string backend, string server)
    {
        var lines = _proxy.Ctl("stats", "--csv").Stdout.Split('\n');
        var header = lines[0].TrimStart('#', ' ').Split(',');
        int status = Array.IndexOf(header, "status"), weight = Array.IndexOf(header, "weight");
        return [.. lines.Where(l => l.StartsWith($"{backend},{server},", StringComparison.Ordinal))
            .Select(l => l.Split(','))
            .Select(f => (f[status], int.TryParse(f[weight], out int w) ? w : -1))];
    }

    /// <summary>The rows, printed as they are when a wait for them fails (the total first, then each worker's).</summary>
    private sealed class ServerRows : List<(string Status, int Weight)>
    {
        public override string ToString() => string.Join(", ", this.Select(r => $"{r.Status}/{r.Weight}"));
    }

    private Task<ServerRows> UntilRowsAsync(string backend, string server, Func<(string Status, int Weight), bool> each, string what) =>
        Poll.UntilAsync(() => Rows(backend, server), rows => rows.Count == 3 && rows.All(each), what);

    private static async Task SendAsync(int port, int count)
    {
        for (int i = 0; i < count; i++)
            Assert.That(await TcpClientHelper.RoundTripAsync(port, [1], TimeSpan.FromSeconds(5)), Has.Length.EqualTo(1));
    }

    /// <summary>A connection through <paramref name="port"/> that stays open (one byte echoed to know it reached a server).</summary>
    private static async Task<TcpClient> HoldAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(new byte[] { 7 });
        var one = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.That(await stream.ReadAsync(one, cts.Token), Is.EqualTo(1), "the held connection reached a server");
        return client;
    }

    /// <summary>True once the proxy closed <paramref name="client"/> (end of stream or reset) within 10 s.</summary>
    private static async Task<bool> ClosedAsync(TcpClient client)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await client.GetStream().ReadAsync(new byte[1], cts.Token) == 0;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [Test]
    public async Task AgentPercentAndDrain_SetWeightAndStateInEveryWorker()
    {
        _a1.Reply = "50%\n";
        await UntilRowsAsync("be", "s1", r => r.Weight == 50, "be/s1 at weight 50 in every worker");
        Assert.That(_a1.Received, Is.EqualTo("hello\n"), "agent-send, verbatim");
        string state = await ControlClient.SendAsync(_proxy.SocketPath, "show servers state be", TimeSpan.FromSeconds(10));
        var s1 = state.Split('\n').Single(l => l.Contains(" be ") && l.Split(' ')[3] == "s1").Split(' ');
        Assert.That((s1[7], s1[8]), Is.EqualTo(("50", "100")), "srv_uweight from the agent, srv_iweight as configured\n" + state);
        int before = _e1.Connections;
        await SendAsync(_port, 60);
        Assert.That(_e1.Connections - before, Is.InRange(10, 30), "weight 50 against 100: about a third of the connections");

        _a1.Reply = "drain\n";
        await UntilRowsAsync("be", "s1", r => r.Status == "DRAIN", "be/s1 in DRAIN in every worker");
        before = _e1.Connections;
        await SendAsync(_port, 30);
        Assert.That(_e1.Connections, Is.EqualTo(before), "a drained server takes no new connection from any worker");

        _a1.Reply = "ready 100%\n";
        await UntilRowsAsync("be", "s1", r => r.Status == "no check" && r.Weight == 100, "be/s1 ready at weight 100 again (no `check`: HAProxy shows \"no check\")");
    }

    [Test]
    public async Task AgentDown_CutsLiveSessions_UpCutsBackupSessions_AndSlowStartRamps()
    {
        using var held = await HoldAsync(_markedPort);
        Assert.That(_e3.Connections, Is.GreaterThan(0), "the active server d1 took it");

        _a2.Reply = "down#planned\n";
        Assert.That(await ClosedAsync(held), Is.True, "on-marked-down shutdown-sessions closed the live session");
        await UntilRowsAsync("marked", "d1", r => r.Status == "DOWN", "marked/d1 DOWN in every worker");

        int backupBefore = _e4.Connections;
        using var onBackup = await HoldAsync(_markedPort);
        Assert.That(_e4.Connections, Is.EqualTo(backupBefore + 1), "with d1 down, the backup server took it");

        _a2.Reply = "up\n";
        Assert.That(await ClosedAsync(onBackup), Is.True, "on-marked-up shutdown-backup-sessions closed the backup's session");
        // slowstart 4s: the effective weight is seen below 100 while it ramps, then at 100.
        var ramping = await Poll.UntilAsync(() => Rows("marked", "d1"), rows => rows.Count == 3 && rows.Skip(1).All(r => r.Status == "no check"), "d1 UP");
        Assert.That(ramping.Skip(1).Select(r => r.Weight), Has.All.InRange(1, 99), "right after coming back, the weight is still ramping");
        await UntilRowsAsync("marked", "d1", r => r.Weight == 100, "d1 at its full weight after slowstart");
    }

    private Task<string> Admin(string command) => ControlClient.SendAsync(_proxy.SocketPath, command, TimeSpan.FromSeconds(10));

    [Test]
    public async Task RuntimeApi_AgentAndHealthControls_AndShutdownSessions()
    {
        // `disable agent` stops the agent's answers; `set server ... agent down|up` forces its verdict in every worker.
        Assert.That(await Admin("disable agent be/s1"), Is.EqualTo("\n"));
        Assert.That(await Admin("set server be/s1 agent down"), Is.EqualTo("\n"));
        await UntilRowsAsync("be", "s1", r => r.Status == "DOWN", "be/s1 forced DOWN by 'set server ... agent down'");
        Assert.That(await Admin("set server be/s2 agent up"), Is.EqualTo("agent checks are not enabled on this server.\n\n"));
        Assert.That(await Admin("set server be/s1 agent sideways"), Is.EqualTo("'set server <srv> agent' expects 'up' or 'down'.\n\n"));
        Assert.That(await Admin("enable agent be/s2"), Is.EqualTo("Agent was not configured on this server, cannot enable.\n\n"));
        _a1.Reply = "up ready 100%\n";
        Assert.That(await Admin("enable agent be/s1"), Is.EqualTo("\n"));
        await UntilRowsAsync("be", "s1", r => r.Status == "no check", "be/s1 back once its agent answers 'up' again");

        // `disable health`: the failing check is ignored and the server considered UP; `enable health` checks again.
        await UntilRowsAsync("checked", "c1", r => r.Status == "DOWN", "checked/c1 DOWN (nothing listens)");
        Assert.That(await Admin("disable health checked/c1"), Is.EqualTo("\n"));
        await UntilRowsAsync("checked", "c1", r => r.Status != "DOWN", "checked/c1 considered UP with its check disabled");
        Assert.That(await Admin("enable health checked/c1"), Is.EqualTo("\n"));
        await UntilRowsAsync("checked", "c1", r => r.Status == "DOWN", "checked/c1 DOWN again once checked");

        // `shutdown sessions server`: a live session on the server is closed, whichever worker holds it.
        _a2.Reply = "up\n";
        await UntilRowsAsync("marked", "d1", r => r.Status == "no check" && r.Weight == 100, "marked/d1 up at full weight");
        using var held = await HoldAsync(_markedPort);
        Assert.That(await Admin("shutdown sessions server marked/d1"), Is.EqualTo("\n"));
        Assert.That(await ClosedAsync(held), Is.True, "shutdown sessions server closed the session");
        Assert.That(await Admin("shutdown sessions server marked/nope"), Is.EqualTo("No such server.\n\n"));
    }

    [Test]
    public void Config_IsValidForHaproxy()
    {
        var path = Path.Combine(_proxy.Directory, "haproxy-check.cfg");
        File.WriteAllText(path, Config() + "\n");
        var r = ProcessRunner.Run("haproxy", ["-c", "-f", path]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
    }
}
