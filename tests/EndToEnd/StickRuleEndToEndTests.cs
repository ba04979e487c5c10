using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `stick on|match|store-request` (doc/configuration.txt 4.2) through the real supervisor and two workers: every
/// request on a new connection from its own 127.0.0.x, so SO_REUSEPORT spreads them over both workers and stickiness
/// can only come from the shared table. mode tcp sticks per connection, mode http per request; a stuck server taken
/// down hands its clients to the other one and the entry is rewritten; the Galera pattern (`stick-table type ip
/// size 1 nopurge` + `stick on dst`) sends every client to the first server chosen.
/// </summary>
[TestFixture]
public sealed class StickRuleEndToEndTests
{
    private OriginProcess _o1 = null!, _o2 = null!;
    private ProxyInstance _proxy = null!;
    private int _tcp, _http, _galera;

    internal static string Config(int tcp, int http, int galera, int o1, int o2) => $"""
        defaults
            timeout connect 2s
            timeout client 10s
            timeout server 10s
            balance roundrobin
        listen tcpstick
            mode tcp
            bind 127.0.0.1:{tcp}
            stick-table type ip size 100 expire 1m
            stick on src
            server s1 127.0.0.1:{o1}
            server s2 127.0.0.1:{o2}
        listen httpstick
            mode http
            bind 127.0.0.1:{http}
            stick-table type ip size 100 expire 1m
            stick match src
            stick store-request src
            server s1 127.0.0.1:{o1}
            server s2 127.0.0.1:{o2}
        listen galera
            mode tcp
            bind 127.0.0.1:{galera}
            stick-table type ip size 1 nopurge
            stick on dst
            server s1 127.0.0.1:{o1}
            server s2 127.0.0.1:{o2}
        """;

    [OneTimeSetUp]
    public void Start()
    {
        _o1 = new OriginProcess("o1");
        _o2 = new OriginProcess("o2");
        (_tcp, _http, _galera) = (Ports.Free(), Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance(Config(_tcp, _http, _galera, _o1.Port, _o2.Port)).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _proxy?.Dispose();
        _o1?.Dispose();
        _o2?.Dispose();
    }

    private Task<string> Cli(string command) => ControlClient.SendAsync(_proxy.SocketPath, command, TimeSpan.FromSeconds(10));

    /// <summary>One HTTP request on a new connection from <paramref name="source"/>; the origin that answered (X-Origin).</summary>
    private static async Task<string> OriginFor(string source, int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
        await s.ConnectAsync(IPAddress.Loopback, port);
        await s.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"), SocketFlags.None);
        var received = new MemoryStream();
        var buf = new byte[4096];
        int n;
        while ((n = await s.ReceiveAsync(buf, SocketFlags.None)) > 0) received.Write(buf, 0, n);
        string text = Encoding.ASCII.GetString(received.ToArray());
        foreach (var line in text.Split("\r\n"))
            if (line.StartsWith("X-Origin:", StringComparison.OrdinalIgnoreCase)) return line[9..].Trim();
        return "none: " + text;
    }

    private async Task StaysThenTakesOver(string proxy, int port, string client)
    {
        string first = await OriginFor(client, port);
        Assert.That(first, Is.AnyOf("o1", "o2"));
        for (int i = 0; i < 8; i++) Assert.That(await OriginFor(client, port), Is.EqualTo(first), $"request {i} sticks (roundrobin alone alternates)");
        string server = first == "o1" ? "s1" : "s2", other = first == "o1" ? "s2" : "s1";
        string entry = await Cli($"show table {proxy} key {client}");
        Assert.That(entry, Does.Match($@"^# table: {proxy}, type: ip, size:100, used:\d+\n0x[0-9a-f]+: key={client.Replace(".", "\\.")} use=0 exp=\d+ server_id={server[1]} server_key={server}\n$"),
            "HAProxy 2.6's line: server_id is the server's position, server_key its name");

        // The stuck server goes into maintenance: the client goes to the other one and its entry follows.
        Assert.That(await Cli($"disable server {proxy}/{server}"), Is.EqualTo("\n"));
        try
        {
            string expected = first == "o1" ? "o2" : "o1";
            await Poll.UntilAsync(() => OriginFor(client, port).GetAwaiter().GetResult(), o => o == expected, "the client taken over by the other server");
            entry = await Cli($"show table {proxy} key {client}");
            Assert.That(entry, Does.Contain($"server_id={other[1]} server_key={other}"), "the entry rewritten to the new server");
        }
        finally
        {
            await Cli($"enable server {proxy}/{server}");
        }
        // Back up, the old server does not get the client back: it sticks to the one that took it.
        string taken = first == "o1" ? "o2" : "o1";
        for (int i = 0; i < 4; i++) Assert.That(await OriginFor(client, port), Is.EqualTo(taken), $"request {i} after the server came back");
    }

    [Test]
    public Task TcpStickOnSrc_NewConnectionsStick_AndMoveWhenTheServerGoesDown() => StaysThenTakesOver("tcpstick", _tcp, "127.0.0.31");

    [Test]
    public Task HttpStickMatchAndStoreRequest_NewConnectionsStick_AndMoveWhenTheServerGoesDown() => StaysThenTakesOver("httpstick", _http, "127.0.0.32");

    [Test]
    public async Task Galera_StickOnDst_EveryClientGoesToTheFirstServer()
    {
        string first = await OriginFor("127.0.0.33", _galera);
        Assert.That(first, Is.AnyOf("o1", "o2"));
        for (int i = 0; i < 6; i++)
            Assert.That(await OriginFor($"127.0.0.{34 + i}", _galera), Is.EqualTo(first), "one key (the address connected to), one server for all");
        Assert.That(await Cli("show table galera"), Does.Match(@"used:1\n0x[0-9a-f]+: key=127\.0\.0\.1 use=0 exp=\d+ server_id=[12] server_key=s[12]\n"));
    }

    [Test]
    public async Task Proxyctl_TableShowAndClear()
    {
        const string Client = "127.0.0.45";
        await OriginFor(Client, _tcp);
        var shown = _proxy.Ctl("table", "show", "tcpstick", "key", Client);
        Assert.That(shown.ExitCode, Is.EqualTo(0), shown.Stderr);
        Assert.That(shown.Stdout, Does.Match($@"^# table: tcpstick, type: ip, size:100, used:\d+\n0x[0-9a-f]+: key={Client.Replace(".", "\\.")} use=0 exp=\d+ server_id=[12] server_key=s[12]\n$"));
        var cleared = _proxy.Ctl("table", "clear", "tcpstick", "key", Client);
        Assert.That(cleared.ExitCode, Is.EqualTo(0), cleared.Stderr);
        Assert.That(_proxy.Ctl("table", "show", "tcpstick", "key", Client).Stdout, Is.Empty, "the entry is gone");
        var missing = _proxy.Ctl("table", "show", "nope");
        Assert.That((missing.ExitCode, missing.Stderr), Is.EqualTo((1, "No such table\n")));
        Assert.That(_proxy.Ctl("table", "list").ExitCode, Is.EqualTo(2), "show, clear or set");
    }

    [Test]
    public void Config_PassesHaproxyCheck() => HaproxyCheck.AssertAccepts(Config(1, 2, 3, 4, 5));
}
