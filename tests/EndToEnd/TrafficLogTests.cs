using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `option httplog` / `option tcplog` through the real supervisor and worker: the test is the syslog server (UDP on
/// 127.0.0.1), sends requests, and parses each datagram back with HAProxy's format (8.2.2, 8.2.3).
/// </summary>
[TestFixture]
public sealed partial class TrafficLogTests
{
    // RFC 3164 header, then HAProxy's httplog format (doc/configuration.txt 8.2.3).
    [GeneratedRegex("""
        ^<(?<pri>\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d (?:\S+ )?proxy\[(?<pid>\d+)\]: (?<ip>[\d.]+):(?<port>\d+) \[(?<date>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3})\] (?<fe>\S+) (?<be>\S+)/(?<srv>\S+) (?<TR>-?\d+)/(?<Tw>-?\d+)/(?<Tc>-?\d+)/(?<Tr>-?\d+)/(?<Ta>\d+) (?<status>-?\d+) (?<bytes>\d+) - - (?<term>\S{4}) (?<ac>\d+)/(?<fc>\d+)/(?<bc>\d+)/(?<sc>\d+)/(?<rc>\+?\d+) 0/0 "(?<req>[^"]*)"$
        """)]
    private static partial Regex HttpLogLine();

    // The tcplog format (8.2.2) after the same header.
    [GeneratedRegex("""
        ^<(?<pri>\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d (?:\S+ )?proxy\[(?<pid>\d+)\]: (?<ip>[\d.]+):(?<port>\d+) \[(?<date>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3})\] (?<fe>\S+) (?<be>\S+)/(?<srv>\S+) (?<Tw>-?\d+)/(?<Tc>-?\d+)/(?<Tt>\d+) (?<bytes>\d+) (?<term>\S{2}) (?<ac>\d+)/(?<fc>\d+)/(?<bc>\d+)/(?<sc>\d+)/(?<rc>\+?\d+) 0/0$
        """)]
    private static partial Regex TcpLogLine();

    /// <summary>A UDP socket on 127.0.0.1 playing syslog server.</summary>
    internal sealed class SyslogReceiver : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        public SyslogReceiver()
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        }

        public int Port { get; }

        /// <summary>
        /// Traffic lines received until <paramref name="count"/> arrived or <paramref name="wait"/> passed. The process
        /// log goes to the global targets too (`[supervisor] ...` lines, as HAProxy's own messages do): skipped.
        /// </summary>
        public async Task<List<string>> ReceiveAsync(int count, TimeSpan wait)
        {
            var lines = new List<string>();
            var buffer = new byte[65536];
            using var cts = new CancellationTokenSource(wait);
            try
            {
                while (lines.Count < count)
                {
                    int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                    var line = Encoding.UTF8.GetString(buffer, 0, n);
                    if (!line.Contains("]: [", StringComparison.Ordinal)) lines.Add(line);
                }
            }
            catch (OperationCanceledException)
            {
                // fewer than expected: the caller's assertion says so
            }
            return lines;
        }

        public void Dispose() => _socket.Dispose();
    }

    /// <summary>Sends <paramref name="request"/> on a new connection and reads to the end; returns what came back.</summary>
    internal static async Task<byte[]> ExchangeAsync(int port, string request)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        await s.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None);
        var all = new MemoryStream();
        var buf = new byte[16384];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int n;
        while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0) all.Write(buf, 0, n);
        return all.ToArray();
    }

    private static Match Single(IEnumerable<Match> lines, string request, string what) =>
        lines.SingleOrDefault(m => m.Groups["req"].Value == request) ?? throw new AssertionException($"no log line for {what} ({request})");

    [Test]
    public async Task HttpLog_ToUdpSyslog_OneLinePerRequest_InHaproxysFormat()
    {
        using var syslog = new SyslogReceiver();
        using var origin = new OriginProcess("o1");
        int port = Ports.Free();
        int dead = Ports.Free();   // nothing listens there: every connect is refused
        using var proxy = new ProxyInstance($$"""
            defaults
                mode http
                log global
                option httplog
                timeout connect 2s
                timeout client 30s
                timeout server 30s
                retries 1
            frontend web
                bind 127.0.0.1:{{port}}
                use_backend down if { path_beg /down }
                default_backend app
            backend app
                server o1 127.0.0.1:{{origin.Port}}
            backend down
                server d1 127.0.0.1:{{dead}}
            """, global: $"    nbproc 1\n    log 127.0.0.1:{syslog.Port} local0\n").Start();

        var ok = await ExchangeAsync(port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        var missing = await ExchangeAsync(port, "GET /missing?q=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        var bad = await ExchangeAsync(port, "GET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n");
        var down = await ExchangeAsync(port, "GET /down HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        Assert.That(Encoding.ASCII.GetString(ok), Does.StartWith("HTTP/1.1 200"));
        Assert.That(Encoding.ASCII.GetString(missing), Does.StartWith("HTTP/1.1 404"));
        Assert.That(Encoding.ASCII.GetString(bad), Does.StartWith("HTTP/1.1 400"));
        Assert.That(Encoding.ASCII.GetString(down), Does.StartWith("HTTP/1.1 503"));

        var lines = await syslog.ReceiveAsync(4, TimeSpan.FromSeconds(10));
        Assert.That(lines, Has.Count.EqualTo(4), string.Join("\n", lines));
        var parsed = lines.Select(l => HttpLogLine().Match(l)).ToList();
        for (int i = 0; i < lines.Count; i++) Assert.That(parsed[i].Success, Is.True, "not HAProxy's httplog format: " + lines[i]);
        int workerPid = proxy.Workers().Single().Pid;
        foreach (var m in parsed)
        {
            Assert.That(m.Groups["pri"].Value, Is.EqualTo("134"), "local0.info");
            Assert.That(int.Parse(m.Groups["pid"].Value), Is.EqualTo(workerPid));
            Assert.That(m.Groups["ip"].Value, Is.EqualTo("127.0.0.1"));
            Assert.That(m.Groups["fe"].Value, Is.EqualTo("web"));
        }

        var m200 = Single(parsed, "GET / HTTP/1.1", "the 200");
        Assert.That((m200.Groups["be"].Value, m200.Groups["srv"].Value), Is.EqualTo(("app", "o1")));
        Assert.That((m200.Groups["status"].Value, m200.Groups["term"].Value), Is.EqualTo(("200", "----")));
        Assert.That(long.Parse(m200.Groups["bytes"].Value), Is.EqualTo(ok.Length), "bytes sent to the client, head included");
        Assert.That(int.Parse(m200.Groups["Tc"].Value), Is.GreaterThanOrEqualTo(0));
        Assert.That(int.Parse(m200.Groups["Tr"].Value), Is.GreaterThanOrEqualTo(0));
        Assert.That(m200.Groups["Tw"].Value, Is.EqualTo("0"));
        Assert.That((m200.Groups["ac"].Value, m200.Groups["fc"].Value, m200.Groups["bc"].Value, m200.Groups["sc"].Value, m200.Groups["rc"].Value),
            Is.EqualTo(("1", "1", "1", "1", "0")), "the logged request counts itself");

        var m404 = Single(parsed, "GET /missing?q=1 HTTP/1.1", "the 404");
        Assert.That((m404.Groups["be"].Value, m404.Groups["srv"].Value, m404.Groups["status"].Value, m404.Groups["term"].Value),
            Is.EqualTo(("app", "o1", "404", "----")));
        Assert.That(long.Parse(m404.Groups["bytes"].Value), Is.EqualTo(missing.Length));

        var m400 = Single(parsed, "<BADREQ>", "the malformed request");
        Assert.That((m400.Groups["be"].Value, m400.Groups["srv"].Value, m400.Groups["status"].Value, m400.Groups["term"].Value),
            Is.EqualTo(("web", "<NOSRV>", "400", "PR--")));
        Assert.That((m400.Groups["TR"].Value, m400.Groups["Tw"].Value, m400.Groups["Tc"].Value, m400.Groups["Tr"].Value),
            Is.EqualTo(("-1", "-1", "-1", "-1")));
        Assert.That(long.Parse(m400.Groups["bytes"].Value), Is.EqualTo(bad.Length));

        var m503 = Single(parsed, "GET /down HTTP/1.1", "the request to a dead server");
        Assert.That((m503.Groups["be"].Value, m503.Groups["srv"].Value, m503.Groups["status"].Value, m503.Groups["term"].Value),
            Is.EqualTo(("down", "d1", "503", "SC--")));
        Assert.That((m503.Groups["Tc"].Value, m503.Groups["Tr"].Value, m503.Groups["rc"].Value), Is.EqualTo(("-1", "-1", "1")), "one retry, never connected");
        Assert.That(long.Parse(m503.Groups["bytes"].Value), Is.EqualTo(down.Length));
    }

    [Test]
    public async Task TcpLog_ToUdpSyslog_OneLinePerConnection_DontLogNullSkipsEmptyOnes()
    {
        using var syslog = new SyslogReceiver();
        using var origin = new OriginProcess("o1");
        int port = Ports.Free(), downPort = Ports.Free();
        int dead = Ports.Free();
        using var proxy = new ProxyInstance($$"""
            defaults
                mode tcp
                log global
                option tcplog
                option dontlognull
                timeout connect 2s
                timeout client 30s
                timeout server 30s
                retries 0
            frontend fe
                bind 127.0.0.1:{{port}}
                default_backend be
            frontend fe_down
                bind 127.0.0.1:{{downPort}}
                default_backend be_down
            backend be
                server s1 127.0.0.1:{{origin.Port}}
            backend be_down
                server d1 127.0.0.1:{{dead}}
            """, global: $"    nbproc 1\n    log 127.0.0.1:{syslog.Port} local0\n").Start();

        // A connection that sends nothing: not logged (`option dontlognull`).
        using (var empty = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await empty.ConnectAsync(IPAddress.Loopback, port);
            await Task.Delay(200);
        }
        var ok = await ExchangeAsync(port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        Assert.That(Encoding.ASCII.GetString(ok), Does.StartWith("HTTP/1.1 200"));
        // No server: the proxy closes the connection (a reset, as "hello" was never read).
        try
        {
            Assert.That(await ExchangeAsync(downPort, "hello"), Is.Empty);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }

        var lines = await syslog.ReceiveAsync(3, TimeSpan.FromSeconds(5));
        Assert.That(lines, Has.Count.EqualTo(2), "the empty connection is not logged:\n" + string.Join("\n", lines));
        var parsed = lines.Select(l => TcpLogLine().Match(l)).ToList();
        for (int i = 0; i < lines.Count; i++) Assert.That(parsed[i].Success, Is.True, "not HAProxy's tcplog format: " + lines[i]);

        var normal = parsed.Single(m => m.Groups["fe"].Value == "fe");
        Assert.That((normal.Groups["be"].Value, normal.Groups["srv"].Value, normal.Groups["term"].Value), Is.EqualTo(("be", "s1", "--")));
        Assert.That(long.Parse(normal.Groups["bytes"].Value), Is.EqualTo(ok.Length));
        Assert.That(normal.Groups["Tw"].Value, Is.EqualTo("0"));
        Assert.That(int.Parse(normal.Groups["Tc"].Value), Is.GreaterThanOrEqualTo(0));

        var failed = parsed.Single(m => m.Groups["fe"].Value == "fe_down");
        Assert.That((failed.Groups["be"].Value, failed.Groups["srv"].Value, failed.Groups["term"].Value), Is.EqualTo(("be_down", "d1", "SC")));
        Assert.That((failed.Groups["Tc"].Value, failed.Groups["bytes"].Value), Is.EqualTo(("-1", "0")));
    }

    [Test]
    public async Task HttpLog_ToStdout_ForegroundSupervisorPrintsRawLines()
    {
        using var origin = new OriginProcess("o1");
        int port = Ports.Free();
        using var proxy = new ProxyInstance($$"""
            frontend web
                mode http
                option httplog
                log stdout format raw local0
                bind 127.0.0.1:{{port}}
                timeout client 30s
                default_backend app
            backend app
                mode http
                timeout connect 2s
                timeout server 30s
                server o1 127.0.0.1:{{origin.Port}}
            """, global: "    nbproc 1\n");
        var psi = new ProcessStartInfo(Artifacts.Proxyctl) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "start", "-f", proxy.ConfigPath, "--foreground" }) psi.ArgumentList.Add(a);
        using var foreground = Process.Start(psi)!;
        var stdout = new System.Collections.Concurrent.BlockingCollection<string>();
        foreground.OutputDataReceived += (_, e) => { if (e.Data is not null) stdout.Add(e.Data); };
        foreground.ErrorDataReceived += (_, _) => { };
        foreground.BeginOutputReadLine();
        foreground.BeginErrorReadLine();
        try
        {
            // Serving once a connection is answered.
            byte[] reply = [];
            long deadline = Environment.TickCount64 + 20_000;
            while (reply.Length == 0)
            {
                try
                {
                    reply = await ExchangeAsync(port, "GET /?from=stdout HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                }
                catch (SocketException) when (Environment.TickCount64 < deadline)
                {
                    await Task.Delay(100);
                }
            }
            string? line = null;
            while (line is null && stdout.TryTake(out var next, TimeSpan.FromSeconds(10)))
                if (next.Contains("/?from=stdout", StringComparison.Ordinal)) line = next;
            Assert.That(line, Is.Not.Null, "no traffic line on the supervisor's stdout");
            Assert.That(line, Does.Match("""^127\.0\.0\.1:\d+ \[[^\]]+\] web app/o1 \d+/0/\d+/\d+/\d+ 200 \d+ - - ---- \d+/\d+/\d+/\d+/0 0/0 "GET /\?from=stdout HTTP/1\.1"$"""));
        }
        finally
        {
            proxy.Ctl("stop");
            if (!foreground.WaitForExit(10_000)) foreground.Kill(entireProcessTree: true);
        }
    }

    [Test]
    public async Task HttpLog_ToAFile_TwoWorkersAppendWholeLines_AndTheFileIsReopenedAfterRotation()
    {
        string dir = Path.Combine(Path.GetTempPath(), "trafficlog-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "traffic.log");
        try
        {
            using var origin = new OriginProcess("o1");
            int port = Ports.Free();
            using var proxy = new ProxyInstance($$"""
                defaults
                    mode http
                    log global
                    option httplog
                    timeout connect 2s
                    timeout client 30s
                    timeout server 30s
                frontend web
                    bind 127.0.0.1:{{port}}
                    default_backend app
                backend app
                    server o1 127.0.0.1:{{origin.Port}}
                """, global: $"    nbproc 2\n    log {file} local0\n").Start();

            for (int i = 0; i < 40; i++)
            {
                var reply = await ExchangeAsync(port, $"GET /?before={i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                Assert.That(Encoding.ASCII.GetString(reply), Does.StartWith("HTTP/1.1 200"));
            }
            var before = await TrafficLinesAsync(file, "?before=", 40);
            Assert.That(before, Has.Count.EqualTo(40), "one whole line per request, none lost or torn");
            var parsed = before.Select(l => HttpLogLine().Match(l)).ToList();
            for (int i = 0; i < before.Count; i++) Assert.That(parsed[i].Success, Is.True, "not HAProxy's httplog format: " + before[i]);
            var workerPids = proxy.Workers().Select(w => w.Pid.ToString()).ToHashSet();
            Assert.That(parsed.Select(m => m.Groups["pid"].Value).ToHashSet().IsSubsetOf(workerPids), Is.True);
            Assert.That(parsed.Select(m => m.Groups["req"].Value).ToHashSet(), Has.Count.EqualTo(40));

            // logrotate's way: the file is moved aside; the workers notice within a second and create a new one.
            File.Move(file, file + ".1");
            await Task.Delay(1500);
            for (int i = 0; i < 10; i++)
                await ExchangeAsync(port, $"GET /?after={i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            var after = await TrafficLinesAsync(file, "?after=", 10);
            Assert.That(after, Has.Count.EqualTo(10), "the lines after the rotation go to the new file");
            Assert.That(File.ReadAllText(file + ".1"), Does.Not.Contain("?after="));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The lines of <paramref name="file"/> containing <paramref name="marker"/>, once there are <paramref name="count"/> (or 10 s passed).</summary>
    private static async Task<List<string>> TrafficLinesAsync(string file, string marker, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<string> lines = [];
        while (DateTime.UtcNow < deadline)
        {
            lines = File.Exists(file) ? File.ReadAllLines(file).Where(l => l.Contains(marker, StringComparison.Ordinal)).ToList() : [];
            if (lines.Count >= count) break;
            await Task.Delay(100);
        }
        return lines;
    }
}
