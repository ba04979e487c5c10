using System.Net;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Balancing through the real supervisor and two (Native AOT) workers in front of proxy-origin processes. Each worker
/// balances on its own, so hashing must give the same server in every process, and weights must hold in total.
/// </summary>
[TestFixture]
public sealed class BalancingTests
{
    private static string Config(int port, string balance, params OriginProcess[] origins) => $"""
        defaults
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
        frontend web
            bind 127.0.0.1:{port}
            default_backend app
        backend app
        {balance}
        {string.Join("\n", origins.Select((o, i) => $"    server {o.Name} 127.0.0.1:{o.Port}" + (i == 0 ? " weight 3" : "")))}
        """;

    /// <summary>A client that opens a connection per request, so requests land on both workers (SO_REUSEPORT).</summary>
    private static HttpClient Client(int port)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
        http.DefaultRequestHeaders.ConnectionClose = true;
        return http;
    }

    private static async Task<string> OriginOfAsync(HttpClient http, string path)
    {
        using var resp = await http.GetAsync(path);
        return resp.Headers.GetValues("X-Origin").Single();
    }

    [Test]
    public async Task RoundRobin_Weights31_TwoWorkers_WithinThreePercent()
    {
        using var o1 = new OriginProcess("o1");
        using var o2 = new OriginProcess("o2");
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, "    balance roundrobin", o1, o2)).Start();
        using var http = Client(port);
        int first = 0;
        for (int i = 0; i < 400; i++)
        {
            using var resp = await http.GetAsync("/");
            Assert.That(resp.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            if (resp.Headers.GetValues("X-Origin").Single() == "o1") first++;
        }
        TestContext.Out.WriteLine($"roundrobin 3:1, two workers, 400 requests: o1 {first}");
        Assert.That(first, Is.InRange(300 - 12, 300 + 12));
    }

    [TestCase("    balance uri\n    hash-type consistent sdbm avalanche")]
    [TestCase("    balance url_param id")]
    public async Task Hashing_SameKeySameServer_InEveryWorker(string balance)
    {
        using var o1 = new OriginProcess("o1");
        using var o2 = new OriginProcess("o2");
        using var o3 = new OriginProcess("o3");
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port, balance, o1, o2, o3)).Start();
        using var http = Client(port);
        var owner = new Dictionary<int, string>();
        for (int round = 0; round < 4; round++)
            for (int k = 0; k < 30; k++)
            {
                var origin = await OriginOfAsync(http, $"/doc{k}?id=user{k}&round={round}");
                if (round == 0) owner[k] = origin;
                else Assert.That(origin, Is.EqualTo(owner[k]), $"key {k}, round {round}");
            }
        Assert.That(owner.Values.Distinct().Count(), Is.EqualTo(3), "30 keys reach all three servers");
    }
}
