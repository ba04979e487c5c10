using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Stick tables in shared memory (issue 19) on one instance with 2 workers: a request rate limit counted across both
/// workers, a conn_cur limit on `tcp-request connection`, `show table` in HAProxy's format, expiry, and the table kept
/// over a reload and a `kill -9` of the workers (whose conn_cur cells go back to 0). Each test uses its own client
/// address (127.0.0.x), so they share the instance without sharing entries.
/// </summary>
[TestFixture]
public sealed class StickTableEndToEndTests
{
    private OriginProcess _origin = null!;
    private ProxyInstance _proxy = null!;
    private int _http, _tcp, _content, _proxied;
    private const int Limit = 40;

    internal static string Config(int http, int tcp, int origin, int content = 0, int proxied = 0) => $"""
        defaults
            timeout connect 2s
            timeout client 10s
            timeout server 10s
        frontend fe
            mode http
            bind 127.0.0.1:{http}
            stick-table type ip size 1k expire 3s store http_req_rate(10s),gpc0,conn_cur,http_req_cnt
            http-request track-sc0 src
            http-request sc-inc-gpc0(0) if {"{"} path_beg /count {"}"}
            http-request deny deny_status 429 if {"{"} sc_http_req_rate(0) gt {Limit} {"}"}
            default_backend be
        frontend tcpfe
            mode tcp
            bind 127.0.0.1:{tcp}
            stick-table type ip size 1k store conn_cnt,conn_cur,conn_rate(10s)
            tcp-request connection track-sc0 src
            tcp-request connection reject if {"{"} sc0_conn_cur gt 2 {"}"}
            default_backend betcp
        frontend contentfe
            mode tcp
            bind 127.0.0.1:{(content == 0 ? tcp + 1 : content)}
            stick-table type ip size 1k store conn_cur,bytes_in_cnt,bytes_out_cnt
            tcp-request inspect-delay 1s
            tcp-request content track-sc1 src if {"{"} req.len gt 0 {"}"}
            default_backend betcp
        frontend proxiedfe
            mode http
            bind 127.0.0.1:{(proxied == 0 ? tcp + 2 : proxied)} accept-proxy
            stick-table type ip size 1k store http_req_cnt,conn_cnt
            tcp-request session track-sc0 src
            default_backend be
        backend be
            mode http
            server o 127.0.0.1:{origin}
        backend betcp
            mode tcp
            server o 127.0.0.1:{origin}
        """;

    [OneTimeSetUp]
    public void Start()
    {
        _origin = new OriginProcess("o");
        (_http, _tcp, _content, _proxied) = (Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance(Config(_http, _tcp, _origin.Port, _content, _proxied)).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy.Dispose();
        _origin.Dispose();
    }

    private Task<string> Cli(string command) => ControlClient.SendAsync(_proxy.SocketPath, command, TimeSpan.FromSeconds(10));

    private static async Task<Socket> ConnectFromAsync(string source, int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
        await s.ConnectAsync(IPAddress.Loopback, port);
        return s;
    }

    /// <summary>One request on a new connection from <paramref name="source"/>; the status code, or 0 when closed unanswered.</summary>
    private static async Task<int> RequestAsync(string source, int port, string path = "/")
    {
        using var s = await ConnectFromAsync(source, port);
        await s.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"), SocketFlags.None);
        var buf = new byte[64];
        int n = 0;
        while (n < 12)
        {
            int r = await s.ReceiveAsync(buf.AsMemory(n), SocketFlags.None);
            if (r == 0) return 0;
            n += r;
        }
        return int.Parse(Encoding.ASCII.GetString(buf, 9, 3));
    }

    [Test]
    public async Task RateLimit_CountedAcrossWorkers_FourClientsGetLimitRequestsThrough()
    {
        const string Client = "127.0.0.5";
        int ok = 0, denied = 0;
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 30; i++)
            {
                int status = await RequestAsync(Client, _http);
                if (status == 200) Interlocked.Increment(ref ok);
                else if (status == 429) Interlocked.Increment(ref denied);
            }
        })).ToArray();
        await Task.WhenAll(clients);
        // Every connection is new, so SO_REUSEPORT spreads them over both workers; the count is one for the instance.
        Assert.That(ok, Is.InRange(Limit * 95 / 100, Limit * 105 / 100), $"{ok} served, {denied} denied");
        Assert.That(ok + denied, Is.EqualTo(120));
        string table = await Cli($"show table fe key {Client}");
        Assert.That(table, Does.Match(@$"http_req_cnt=120\b"), table);
    }

    [Test]
    public async Task TcpRequestContent_TracksOnceTheFirstBytesCame()
    {
        const string Client = "127.0.0.7";
        // The tcp frontend relays the HTTP bytes to the origin once the content rule ran.
        Assert.That(await RequestAsync(Client, _content), Is.EqualTo(200));
        string entry = await Cli($"show table contentfe key {Client}");
        Assert.That(entry, Does.Contain($"key={Client} "), "tracked by tcp-request content");
        Assert.That(entry, Does.Match(@"bytes_in_cnt=[1-9]\d* bytes_out_cnt=[1-9]\d*"), "the tracked entry counts the bytes both ways");
    }

    [Test]
    public async Task TcpRequestSession_TracksTheAddressOfThePROXYHeader()
    {
        using var s = await ConnectFromAsync("127.0.0.1", _proxied);
        await s.SendAsync(Encoding.ASCII.GetBytes("PROXY TCP4 10.9.8.7 127.0.0.1 5555 80\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"), SocketFlags.None);
        var buf = new byte[64];
        int n = await s.ReceiveAsync(buf, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(Encoding.ASCII.GetString(buf, 0, n), Does.StartWith("HTTP/1.1 200"));
        string table = await Cli("show table proxiedfe");
        Assert.That(table, Does.Contain("key=10.9.8.7 ").And.Not.Contain("key=127.0.0.1 "), "the client of the PROXY header, not the balancer in front");
    }

    [Test]
    public async Task ShowTable_HaproxyFormat()
    {
        const string Client = "127.0.0.9";
        Assert.That(await RequestAsync(Client, _http, "/count"), Is.Not.EqualTo(0).And.Not.EqualTo(429), "answered by the origin");
        string all = await Cli("show table");
        Assert.That(all, Does.Contain("# table: fe, type: ip, size:1024, used:"));
        Assert.That(all, Does.Contain("# table: tcpfe, type: ip, size:1024, used:"));
        // The client has its answer and has closed; the proxy ends the session (conn_cur, use back to 0) just after.
        string table = "";
        await Poll.UntilAsync(() => (table = Cli($"show table fe key {Client}").GetAwaiter().GetResult()).Contains(" use=0 "),
            "the session ended: use=0 in the entry");
        // HAProxy 2.6: the data in its order of types (gpc0, conn_cur, http_req_cnt, http_req_rate(period)).
        Assert.That(table, Does.Match(new Regex(@$"^# table: fe, type: ip, size:1024, used:\d+\n0x[0-9a-f]+: key={Regex.Escape(Client)} use=0 exp=\d+ gpc0=1 conn_cur=0 http_req_cnt=1 http_req_rate\(10000\)=1\n", RegexOptions.Multiline)), table);
        Assert.That(await Cli($"show table fe data.gpc0 gt 5 key {Client}"), Does.Not.Contain("key="));
        Assert.That(await Cli($"set table fe key {Client} data.gpc0 7"), Is.Empty.Or.EqualTo("\n"));
        Assert.That(await Cli($"show table fe data.gpc0 eq 7"), Does.Contain($"key={Client} "));
        await Cli($"clear table fe key {Client}");
        Assert.That(await Cli($"show table fe key {Client}"), Does.Not.Contain("key="));
    }

    [Test]
    public async Task Expire_EntryGoesAfterItsTime()
    {
        const string Client = "127.0.0.8";
        Assert.That(await RequestAsync(Client, _http), Is.EqualTo(200));
        Assert.That(await Cli($"show table fe key {Client}"), Does.Contain($"key={Client}"));
        await Poll.UntilAsync(() => !Cli($"show table fe key {Client}").Result.Contains("key="), "the entry expires after 3s");
    }

    [Test]
    public async Task ConnCur_LimitRejectsThirdConnection_AndKillOfWorkersGivesCellsBack()
    {
        const string Client = "127.0.0.6";
        var held = new List<Socket>();
        try
        {
            for (int i = 0; i < 2; i++) held.Add(await ServedAsync(Client));
            await Poll.UntilAsync(() => Cli($"show table tcpfe key {Client}").Result.Contains(" conn_cur=2\n"), "two tracked connections");
            // HAProxy's order of types: conn_cnt, conn_rate, conn_cur.
        // The third sees conn_cur 3 after tracking it: rejected (closed before anything is read).
            using (var third = await ConnectFromAsync(Client, _tcp))
            {
                var buf = new byte[16];
                int n;
                try { n = await third.ReceiveAsync(buf, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10)); }
                catch (SocketException) { n = 0; }
                Assert.That(n, Is.EqualTo(0), "the third connection is closed");
            }
            await Poll.UntilAsync(() => Cli($"show table tcpfe key {Client}").Result.Contains(" conn_cur=2\n"), "the rejected connection released its count");
            // kill -9 both workers: the table survives, and the connections they held are no longer counted.
            foreach (var w in _proxy.Workers()) Posix.Signal(w.Pid, Posix.SIGKILL);
            await Poll.UntilAsync(() => Cli($"show table tcpfe key {Client}").Result.Contains(" conn_cur=0\n"), "conn_cur back to 0 after the kill");
            await Poll.UntilAsync(() => _proxy.Workers().Count(w => w.State == "running") == 2, "workers respawned", TimeSpan.FromSeconds(30));
            Assert.That(await Cli($"show table tcpfe key {Client}"), Does.Match(@"conn_rate\(10000\)=[3-9]"), "the entry survived the kill");
        }
        finally
        {
            foreach (var s in held) s.Dispose();
        }
    }

    /// <summary>A tcp connection through tcpfe that got an answer from the origin (so it was accepted and tracked).</summary>
    private async Task<Socket> ServedAsync(string source)
    {
        var s = await ConnectFromAsync(source, _tcp);
        await s.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: t\r\n\r\n"), SocketFlags.None);
        var buf = new byte[256];
        Assert.That(await s.ReceiveAsync(buf, SocketFlags.None), Is.GreaterThan(0));
        return s;
    }

    [Test]
    public async Task Reload_UnchangedTableKeepsEntries()
    {
        const string Client = "127.0.0.7";
        for (int i = 0; i < 3; i++) (await ServedAsync(Client)).Dispose();
        await Poll.UntilAsync(() => Cli($"show table tcpfe key {Client}").Result.Contains(" conn_cnt=3 ") && Cli($"show table tcpfe key {Client}").Result.Contains(" conn_cur=0\n"), "three connections counted and closed");
        var r = _proxy.Ctl("reload");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(await Cli($"show table tcpfe key {Client}"), Does.Contain(" conn_cnt=3 "), "kept over the reload");
        (await ServedAsync(Client)).Dispose();
        await Poll.UntilAsync(() => Cli($"show table tcpfe key {Client}").Result.Contains(" conn_cnt=4 "), "the new generation counts in the same entry");
    }
}
