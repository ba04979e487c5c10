using System.Diagnostics;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `option redis-check` and an `option tcp-check` script against a real redis-server (Debian's, started by the
/// test on its own port), through the real executables with two workers: the servers go DOWN in every worker's
/// row when Redis stops, and UP again when it comes back. The config also passes `haproxy -c`.
/// </summary>
[TestFixture]
public sealed class TcpCheckEndToEndTests
{
    private const string RedisServer = "/usr/bin/redis-server";

    /// <summary>A redis-server on 127.0.0.1:<see cref="Port"/>, without persistence; Dispose kills it.</summary>
    private sealed class Redis : IDisposable
    {
        private readonly Process _process;

        public Redis(int port)
        {
            Port = port;
            Assert.That(File.Exists(RedisServer), Is.True, $"{RedisServer} is missing: apt-get install redis-server (.ci/run does)");
            _process = Process.Start(new ProcessStartInfo(RedisServer,
                ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"])
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Port { get; }

        public async Task WaitReadyAsync()
        {
            await Poll.UntilAsync(() =>
            {
                try
                {
                    using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    s.Connect("127.0.0.1", Port);
                    return true;
                }
                catch (SocketException)
                {
                    return false;
                }
            }, "redis-server listening");
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited) _process.Kill();
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }

    private static string Config(int port, int redisPort) => $"""
        defaults
            mode tcp
            timeout connect 1s
            timeout client 10s
            timeout server 10s
            timeout check 1s
        frontend fe
            bind 127.0.0.1:{port}
            default_backend redis_check
        backend redis_check
            option redis-check
            server r1 127.0.0.1:{redisPort} check inter 150ms rise 1 fall 1
        backend master_only
            option tcp-check
            tcp-check connect
            tcp-check send PING\r\n
            tcp-check expect string +PONG
            tcp-check send info\ replication\r\n
            tcp-check expect string role:master
            tcp-check send QUIT\r\n
            tcp-check expect string +OK
            server r1 127.0.0.1:{redisPort} check inter 150ms rise 1 fall 1
        """;

    private static List<Dictionary<string, string>> Rows(ProxyInstance proxy, string px, string sv)
    {
        var r = proxy.Ctl("stats", "--csv");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var names = lines[0].TrimStart('#', ' ').Split(',');
        return lines.Skip(1).Where(l => l.StartsWith($"{px},{sv},", StringComparison.Ordinal))
            .Select(l => l.Split(',')).Select(cells => names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => cells[x.i])).ToList();
    }

    private static Task WaitAsync(ProxyInstance proxy, string px, string status, string checkStatus) =>
        Poll.UntilAsync(() => Rows(proxy, px, "r1"), rows => rows.Count == 3 && rows.All(r => r["status"] == status) && rows[0]["check_status"] == checkStatus,
            $"{px}/r1 {status} ({checkStatus}) in the total and both workers' rows", TimeSpan.FromSeconds(15));

    [Test]
    public async Task RedisCheck_And_TcpCheckScript_FollowARealRedis_DownAndUp()
    {
        int redisPort = Ports.Free();
        var text = Config(Ports.Free(), redisPort);
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, text + "\n");      // HAProxy refuses a last line without LF
            var haproxy = ProcessRunner.Run("/usr/sbin/haproxy", ["-c", "-q", "-f", file]);
            Assert.That(haproxy.ExitCode, Is.EqualTo(0), haproxy.All);
        }
        finally
        {
            File.Delete(file);
        }

        var redis = new Redis(redisPort);
        try
        {
            await redis.WaitReadyAsync();
            using var proxy = new ProxyInstance(text).Start();
            await WaitAsync(proxy, "redis_check", "UP", "L7OK");
            await WaitAsync(proxy, "master_only", "UP", "L7OK");

            redis.Dispose();
            await WaitAsync(proxy, "redis_check", "DOWN", "L4CON");
            await WaitAsync(proxy, "master_only", "DOWN", "L4CON");

            redis = new Redis(redisPort);
            await redis.WaitReadyAsync();
            await WaitAsync(proxy, "redis_check", "UP", "L7OK");
            await WaitAsync(proxy, "master_only", "UP", "L7OK");
            Assert.That(Rows(proxy, "redis_check", "r1")[0]["check_desc"], Is.EqualTo("Layer7 check passed"));
        }
        finally
        {
            redis.Dispose();
        }
    }
}
