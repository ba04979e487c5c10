using NUnit.Framework;
using Proxy.Shared.Control;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Service discovery against a real DNS server (dnsmasq on 127.0.0.1), with origins on 127.0.0.2 and 127.0.0.3 on one
/// port, and two workers: a name that moves, `server-template` filled from A and from SRV records, `init-addr none`
/// with a name that does not resolve yet, and `show resolvers`. One instance for the fixture; each test sets the
/// names it needs (the others stay as they are).
/// </summary>
[TestFixture]
public sealed class DnsDiscoveryTests
{
    private const string HaproxyPath = "/usr/sbin/haproxy";
    private DnsmasqServer _dns = null!;
    private OriginProcess _two = null!, _three = null!;
    private ProxyInstance _proxy = null!;
    private int _move, _pool, _srv, _late, _originPort;
    private readonly Dictionary<string, string> _names = new()
    {
        ["moving.test"] = "127.0.0.2",
        ["pool.test"] = "127.0.0.2\n127.0.0.3",
        ["b2.test"] = "127.0.0.2",
        ["b3.test"] = "127.0.0.3",
    };

    private string Hosts() =>
        string.Concat(_names.SelectMany(n => n.Value.Split('\n').Select(ip => $"{ip} {n.Key}\n")));

    private string Body() =>
        "resolvers dns\n" +
        $"    nameserver dns1 127.0.0.1:{_dns.Port}\n" +
        "    resolve_retries 2\n" +
        "    timeout resolve 200ms\n" +
        "    timeout retry 500ms\n" +
        "    hold valid 300ms\n" +
        "    hold nx 300ms\n" +
        "    hold refused 300ms\n" +
        "    hold other 300ms\n" +
        "    hold obsolete 0s\n" +
        "    accepted_payload_size 1232\n\n" +
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\n" +
        $"frontend fe_move\n    bind 127.0.0.1:{_move}\n    default_backend be_move\n" +
        $"backend be_move\n    server web moving.test:{_originPort} resolvers dns resolve-prefer ipv4 init-addr none\n\n" +
        $"frontend fe_pool\n    bind 127.0.0.1:{_pool}\n    default_backend be_pool\n" +
        $"backend be_pool\n    server-template web 3 pool.test:{_originPort} resolvers dns resolve-prefer ipv4 init-addr none\n\n" +
        $"frontend fe_srv\n    bind 127.0.0.1:{_srv}\n    default_backend be_srv\n" +
        "backend be_srv\n    server-template srv 3 _http._tcp.svc.test resolvers dns resolve-prefer ipv4\n\n" +
        $"frontend fe_late\n    bind 127.0.0.1:{_late}\n    default_backend be_late\n" +
        $"backend be_late\n    server late late.test:{_originPort} resolvers dns resolve-prefer ipv4 init-addr last,libc,none\n";

    [OneTimeSetUp]
    public void StartAll()
    {
        _originPort = Ports.Free();
        _two = new OriginProcess("two", "127.0.0.2", _originPort);
        _three = new OriginProcess("three", "127.0.0.3", _originPort);
        _dns = new DnsmasqServer("",
            $"--srv-host=_http._tcp.svc.test,b2.test,{_originPort},0,100",
            $"--srv-host=_http._tcp.svc.test,b3.test,{_originPort},0,100");
        _dns.SetHosts(Hosts());
        (_move, _pool, _srv, _late) = (Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance(Body()).Start();
    }

    [OneTimeTearDown]
    public void StopAll()
    {
        _proxy?.Dispose();
        _dns?.Dispose();
        _two?.Dispose();
        _three?.Dispose();
    }

    /// <summary>One request on a new connection (so both workers take their share): the origin's name, or the status code.</summary>
    private static async Task<string> GetAsync(int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        client.DefaultRequestHeaders.ConnectionClose = true;
        using var response = await client.GetAsync($"http://127.0.0.1:{port}/");
        return response.IsSuccessStatusCode ? response.Headers.GetValues("X-Origin").Single() : ((int)response.StatusCode).ToString();
    }

    private async Task<List<string>> GetManyAsync(int port, int count)
    {
        var answers = new List<string>();
        for (int i = 0; i < count; i++) answers.Add(await GetAsync(port));
        return answers;
    }

    private string ServersState(string backend) =>
        ControlClient.SendAsync(_proxy.SocketPath, $"show servers state {backend}", TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();

    /// <summary>`show servers state` rows of <paramref name="backend"/>: server name -> (srv_addr, srv_admin_state, srv_port).</summary>
    private Dictionary<string, (string Addr, int Admin, int Port)> States(string backend)
    {
        var rows = new Dictionary<string, (string, int, int)>();
        foreach (var line in ServersState(backend).Split('\n'))
        {
            var w = line.Split(' ');
            if (w.Length > 18 && w[1] == backend) rows[w[3]] = (w[4], int.Parse(w[6]), int.Parse(w[18]));
        }
        return rows;
    }

    [Test]
    public void EveryConfig_PassesHaproxyCheck()
    {
        Assert.That(File.Exists(HaproxyPath), Is.True, $"{HaproxyPath} is missing (.ci/run installs it)");
        string file = Path.Combine(_proxy.Directory, "haproxy.cfg");
        File.WriteAllText(file, "global\n    log stdout local0\n\n" + Body());
        var r = ProcessRunner.Run(HaproxyPath, ["-c", "-f", file]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
    }

    [Test]
    public async Task MovingName_EveryWorkerFollows_WithinTheHoldTime()
    {
        await Poll.UntilAsync(() => GetAsync(_move).GetAwaiter().GetResult(), o => o == "two", "moving.test served by 127.0.0.2");
        Assert.That(_proxy.Workers(), Has.Count.EqualTo(2));
        _names["moving.test"] = "127.0.0.3";
        _dns.SetHosts(Hosts());
        var moved = System.Diagnostics.Stopwatch.StartNew();
        // 20 requests in a row on new connections, spread over both workers, all reach the new origin.
        await Poll.UntilAsync(() => GetManyAsync(_move, 20).GetAwaiter().GetResult(), all => all.All(o => o == "three"),
            "every worker sends moving.test to 127.0.0.3");
        Assert.That(moved.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "timeout resolve 200ms + hold valid 300ms: well within 5 s");
        Assert.That(States("be_move")["web"].Addr, Is.EqualTo("127.0.0.3"));
    }

    [Test]
    public async Task ServerTemplate_FromARecords_FillsTwoServers_TheThirdStaysInMaintenance()
    {
        await Poll.UntilAsync(() => States("be_pool"),
            s => s.Count == 3 && s["web1"].Addr != "0.0.0.0" && s["web2"].Addr != "0.0.0.0", "web1 and web2 get addresses");
        var state = States("be_pool");
        Assert.That(new[] { state["web1"].Addr, state["web2"].Addr }, Is.EquivalentTo(new[] { "127.0.0.2", "127.0.0.3" }), "no duplicate address");
        Assert.That(state["web3"], Is.EqualTo(("0.0.0.0", 0x20, _originPort)), "no answer left: resolution maintenance (RMAINT)");
        var seen = await Poll.UntilAsync(() => GetManyAsync(_pool, 10).GetAwaiter().GetResult(),
            a => a.Contains("two") && a.Contains("three"), "round robin over both origins");
        Assert.That(seen, Has.None.EqualTo("503"), "the slot in maintenance takes no traffic");
        var csv = _proxy.Ctl("stats", "--csv").Stdout.Split('\n');
        Assert.That(csv.Where(l => l.StartsWith("be_pool,web3,")), Is.Not.Empty.And.All.Contains(",MAINT,"), "a row per server on the stats board");
    }

    [Test]
    public async Task ServerTemplate_FromSrvRecords_FillsAddressesAndPorts()
    {
        await Poll.UntilAsync(() => States("be_srv"),
            s => s.Count == 3 && s.Values.Count(v => v.Addr != "0.0.0.0") == 2, "srv1 and srv2 get addresses from the SRV records");
        var state = States("be_srv");
        var filled = state.Values.Where(v => v.Addr != "0.0.0.0").ToList();
        Assert.That(filled.Select(v => v.Addr), Is.EquivalentTo(new[] { "127.0.0.2", "127.0.0.3" }));
        Assert.That(filled.Select(v => v.Port), Is.All.EqualTo(_originPort), "the port comes from the SRV record (the line has none)");
        Assert.That(state["srv3"].Admin & 0x20, Is.EqualTo(0x20));
        await Poll.UntilAsync(() => GetManyAsync(_srv, 10).GetAwaiter().GetResult(), a => a.Contains("two") && a.Contains("three"),
            "traffic reaches both SRV targets");
    }

    [Test]
    public async Task InitAddrNone_UnresolvableAtStart_ServerDown_ThenUpWhenTheNameAppears()
    {
        Assert.That(States("be_late")["late"].Admin & 0x20, Is.EqualTo(0x20), "no address yet: in resolution maintenance");
        Assert.That(await GetAsync(_late), Is.EqualTo("503"), "the instance is up; the server takes nothing");
        _names["late.test"] = "127.0.0.2";
        _dns.SetHosts(Hosts());
        await Poll.UntilAsync(() => GetManyAsync(_late, 10).GetAwaiter().GetResult(), a => a.All(o => o == "two"),
            "late.test resolves: every worker sends to 127.0.0.2");
    }

    [Test]
    public async Task ShowResolvers_HaproxysLayout_CountsTheQueries()
    {
        string answer = await Poll.UntilAsync(
            () => ControlClient.SendAsync(_proxy.SocketPath, "show resolvers", TimeSpan.FromSeconds(5)).GetAwaiter().GetResult(),
            a => a.Contains("  valid:       ") && !a.Contains("  valid:       0\n"), "valid answers counted");
        Assert.That(answer, Does.StartWith("Resolvers section dns\n nameserver dns1:\n  sent:        "));
        var labels = answer.Split('\n').Skip(2).TakeWhile(l => l.StartsWith("  ")).Select(l => l.Split(':')[0].Trim());
        Assert.That(labels, Is.EqualTo(new[]
        {
            "sent", "snd_error", "valid", "update", "cname", "cname_error", "any_err", "nx", "timeout", "refused", "other", "invalid",
            "too_big", "truncated", "outdated",
        }));
        Assert.That(await ControlClient.SendAsync(_proxy.SocketPath, "show resolvers dns", TimeSpan.FromSeconds(5)), Does.StartWith("Resolvers section dns\n"));
        Assert.That(await ControlClient.SendAsync(_proxy.SocketPath, "show resolvers nosuch", TimeSpan.FromSeconds(5)),
            Does.StartWith("Can't find that resolvers section"));
    }

    [Test]
    public async Task SetServerAddr_ThenDns_TheAnswerWins()
    {
        // `set server addr` to an address the name does not have: the next resolution puts the server back (HAProxy's way).
        await Poll.UntilAsync(() => States("be_srv"), s => s.Values.Count(v => v.Addr != "0.0.0.0") == 2, "SRV slots filled");
        var name = States("be_srv").First(kv => kv.Value.Addr != "0.0.0.0").Key;
        var before = States("be_srv")[name].Addr;
        string set = await ControlClient.SendAsync(_proxy.SocketPath, $"set server be_srv/{name} addr 127.0.0.9", TimeSpan.FromSeconds(5));
        Assert.That(set, Does.Contain("IP changed from"));
        await Poll.UntilAsync(() => States("be_srv")[name].Addr, a => a == before, "DNS gives the answered address back");
    }
}
