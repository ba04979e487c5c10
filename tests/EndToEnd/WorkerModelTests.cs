using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// One configuration, checked once and shipped whole: the supervisor parses the file and resolves host names once,
/// and every worker (a respawned one too) runs that model. A worker never opens the config file nor asks DNS.
/// </summary>
[TestFixture]
public sealed class WorkerModelTests
{
    /// <summary>A server on ADDRESS:PORT that answers every connection with one byte naming it, then closes.</summary>
    private sealed class BannerServer : IDisposable
    {
        private readonly Socket _listener;

        public BannerServer(IPAddress address, int port, byte banner)
        {
            _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _listener.Bind(new IPEndPoint(address, port));
            _listener.Listen(64);
            Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
            _ = ServeAsync(banner);
        }

        public int Port { get; }

        private async Task ServeAsync(byte banner)
        {
            while (true)
            {
                Socket c;
                try { c = await _listener.AcceptAsync(); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
                using (c)
                {
                    try { await c.SendAsync(new[] { banner }, SocketFlags.None); c.Shutdown(SocketShutdown.Both); }
                    catch (SocketException) { }
                }
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>Which server the proxy on <paramref name="port"/> reaches: its banner byte, or -1 when none answered.</summary>
    private static async Task<int> BannerThroughProxyAsync(int port)
    {
        try
        {
            var back = await TcpClientHelper.RoundTripAsync(port, [], TimeSpan.FromSeconds(5));
            return back.Length == 1 ? back[0] : -1;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return -1;
        }
    }

    /// <summary>Worker pids and states from the control socket itself (proxyctl would need the config file).</summary>
    private static async Task<List<(int Pid, int Generation, string State)>> WorkersAsync(string socketPath)
    {
        string reply = await ControlClient.SendAsync(socketPath, "status", TimeSpan.FromSeconds(5));
        var list = new List<(int, int, string)>();
        foreach (var line in reply.Split('\n'))
        {
            var w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (w.Length >= 5 && int.TryParse(w[0], out _) && int.TryParse(w[1], out int pid) && int.TryParse(w[3], out int gen))
                list.Add((pid, gen, w[4]));
        }
        return list;
    }

    /// <summary>Kills the only worker with SIGKILL and waits until a new one runs in its slot; returns the new pid.</summary>
    private static async Task<int> KillWorkerAndAwaitRespawnAsync(string socketPath)
    {
        var before = (await WorkersAsync(socketPath)).Single();
        Posix.Signal(before.Pid, Posix.SIGKILL);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var now = await WorkersAsync(socketPath);
            if (now.Count == 1 && now[0].Pid != before.Pid && now[0].State == "running") return now[0].Pid;
            await Task.Delay(50);
        }
        Assert.Fail($"no worker replaced pid {before.Pid} within 15 s");
        return 0;
    }

    private static string TcpProxy(int port, string server) => $"""
        defaults
            mode tcp
            timeout connect 2s
            timeout client 10s
            timeout server 10s
        frontend fe
            bind 127.0.0.1:{port}
            default_backend be
        backend be
            server s1 {server}

        """;

    [Test]
    public async Task Respawn_AfterTheHostNameChanged_KeepsTheAddressTheSupervisorResolved_ReloadResolvesAgain()
    {
        Assume.That(Posix.GetEffectiveUid(), Is.EqualTo(0u), "needs root to change /etc/hosts");
        string name = $"proxy-test-{Guid.NewGuid():N}.example";
        using var first = new BannerServer(IPAddress.Parse("127.0.0.2"), 0, (byte)'A');
        using var second = new BannerServer(IPAddress.Parse("127.0.0.3"), first.Port, (byte)'B');
        int port = Ports.Free();
        try
        {
            HostsFile.Set(name, "127.0.0.2");
            using var proxy = new ProxyInstance(TcpProxy(port, $"{name}:{first.Port}"), "    nbproc 1\n").Start();
            Assert.That(await BannerThroughProxyAsync(port), Is.EqualTo('A'));

            HostsFile.Set(name, "127.0.0.3");
            Assert.That(Dns.GetHostAddresses(name), Has.Member(IPAddress.Parse("127.0.0.3")), "the name now resolves elsewhere");
            await KillWorkerAndAwaitRespawnAsync(proxy.SocketPath);
            Assert.That(await BannerThroughProxyAsync(port), Is.EqualTo('A'), "a respawned worker runs its generation's model: the address resolved at start");

            // A reload reads and resolves the file again, once, in the supervisor.
            var r = proxy.Ctl("reload");
            Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
            Assert.That(await BannerThroughProxyAsync(port), Is.EqualTo('B'), "the new generation's model has the new address");
        }
        finally
        {
            HostsFile.Remove(name);
        }
    }

    [Test]
    public async Task Respawn_WithTheConfigFileGone_RunsTheSupervisorsModel()
    {
        using var echo = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port), "    nbproc 1\n").Start();
        string away = proxy.ConfigPath + ".away";
        File.Move(proxy.ConfigPath, away);
        try
        {
            int pid = await KillWorkerAndAwaitRespawnAsync(proxy.SocketPath);
            var back = await TcpClientHelper.RoundTripAsync(port, [5, 6, 7], TimeSpan.FromSeconds(5));
            Assert.That(back, Is.EqualTo(new byte[] { 5, 6, 7 }), $"the new worker {pid} serves without the file");
        }
        finally
        {
            File.Move(away, proxy.ConfigPath); // proxyctl stop finds the instance through the file
        }
    }

    [Test]
    public async Task Chroot_TrafficLogFile_IsOpenedBeforePrivilegesDrop_AndWritten()
    {
        Assume.That(Posix.GetEffectiveUid(), Is.EqualTo(0u), "needs root to chroot and change user");
        string dir = Directory.CreateTempSubdirectory("proxy-chroot-").FullName;
        string jail = Directory.CreateDirectory(Path.Combine(dir, "jail")).FullName;   // empty: the log path is not in it
        string file = Path.Combine(dir, "traffic.log");
        try
        {
            using var echo = new EchoServer();
            int port = Ports.Free();
            using var proxy = new ProxyInstance($"""
                defaults
                    mode tcp
                    timeout connect 2s
                    timeout client 10s
                    timeout server 10s
                frontend fe
                    bind 127.0.0.1:{port}
                    log {file} local0
                    option tcplog
                    default_backend be
                backend be
                    server s1 127.0.0.1:{echo.Port}

                """, $"    nbproc 1\n    user nobody\n    group nogroup\n    chroot {jail}\n").Start();
            Assert.That(await TcpClientHelper.RoundTripAsync(port, [1, 2], TimeSpan.FromSeconds(5)), Is.EqualTo(new byte[] { 1, 2 }));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            string text = "";
            while (DateTime.UtcNow < deadline)
            {
                text = File.Exists(file) ? File.ReadAllText(file) : "";
                if (text.Contains(" fe be/s1 ")) break;
                await Task.Delay(50);
            }
            Assert.That(text, Does.Contain(" fe be/s1 "), "the worker, chrooted away from the path, writes through the descriptor it opened first");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>One line `ADDRESS NAME` of /etc/hosts per test name, removed again by name (other lines untouched).</summary>
    private static class HostsFile
    {
        private const string Path = "/etc/hosts";

        public static void Set(string name, string address)
        {
            var lines = Others(name);
            lines.Add($"{address} {name}");
            File.WriteAllText(Path, string.Join('\n', lines) + "\n"); // in place: /etc/hosts may be a bind mount
        }

        public static void Remove(string name) => File.WriteAllText(Path, string.Join('\n', Others(name)) + "\n");

        private static List<string> Others(string name) =>
            File.ReadAllLines(Path).Where(l => !l.EndsWith(" " + name, StringComparison.Ordinal)).ToList();
    }
}
