using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Samples;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// `balance rdp-cookie` and `persist rdp-cookie` (doc/configuration.txt 4.2) through the real supervisor and two
/// workers, with a protocol-level RDP client: each connection sends an X.224 Connection Request carrying
/// `Cookie: mstshash=USER` (or a broker's `msts=ADDR.PORT.0000`), and two in-test servers say which one got it.
/// </summary>
[TestFixture]
public sealed class RdpCookieEndToEndTests
{
    private TcpListener _s1 = null!, _s2 = null!;
    private ProxyInstance _proxy = null!;
    private int _balance, _persist;
    private readonly CancellationTokenSource _stop = new();

    internal static string Config(int balance, int persist, int s1, int s2) => $"""
        defaults
            mode tcp
            timeout connect 2s
            timeout client 10s
            timeout server 10s
        listen rdp
            bind 127.0.0.1:{balance}
            balance rdp-cookie
            tcp-request inspect-delay 5s
            tcp-request content accept if RDP_COOKIE
            server s1 127.0.0.1:{s1}
            server s2 127.0.0.1:{s2}
        listen broker
            bind 127.0.0.1:{persist}
            balance roundrobin
            persist rdp-cookie
            tcp-request inspect-delay 5s
            tcp-request content accept if RDP_COOKIE
            server s1 127.0.0.1:{s1}
            server s2 127.0.0.1:{s2}

        """;

    [OneTimeSetUp]
    public void Start()
    {
        _s1 = Serve("s1");
        _s2 = Serve("s2");
        (_balance, _persist) = (Ports.Free(), Ports.Free());
        _proxy = new ProxyInstance(Config(_balance, _persist, Port(_s1), Port(_s2))).Start();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _stop.Cancel();
        _proxy?.Dispose();
        _s1?.Stop();
        _s2?.Stop();
    }

    private static int Port(TcpListener l) => ((IPEndPoint)l.LocalEndpoint).Port;

    /// <summary>A server that answers each connection with its name once the request came, then closes.</summary>
    private TcpListener Serve(string name)
    {
        var l = new TcpListener(IPAddress.Loopback, Ports.Free());
        l.Start();
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket s;
                try { s = await l.AcceptSocketAsync(_stop.Token); }
                catch (Exception) { return; }
                _ = Task.Run(async () =>
                {
                    using (s)
                    {
                        await s.ReceiveAsync(new byte[512], SocketFlags.None);
                        await s.SendAsync(Encoding.ASCII.GetBytes(name), SocketFlags.None);
                        s.Shutdown(SocketShutdown.Both);
                    }
                });
            }
        });
        return l;
    }

    /// <summary>A new connection sending an RDP connection request with <paramref name="cookieLine"/>; the server that answered.</summary>
    private static async Task<string> ServerFor(int port, string cookieLine)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        await s.SendAsync(RdpCookieTests.ConnectionRequest(cookieLine), SocketFlags.None);
        var buf = new byte[16];
        int n = 0, r;
        while ((r = await s.ReceiveAsync(buf.AsMemory(n), SocketFlags.None)) > 0) n += r;
        return Encoding.ASCII.GetString(buf, 0, n);
    }

    [Test]
    public async Task BalanceRdpCookie_OneUserOneServer_OverNewConnections()
    {
        var seen = new HashSet<string>();
        foreach (var user in new[] { "alice", "bob", "carol", "dave", "erin", "frank" })
        {
            string first = await ServerFor(_balance, $"Cookie: mstshash={user}");
            Assert.That(first, Is.AnyOf("s1", "s2"));
            seen.Add(first);
            for (int i = 0; i < 4; i++)
                Assert.That(await ServerFor(_balance, $"Cookie: mstshash={user}"), Is.EqualTo(first), $"{user}'s connection {i}: the hash of the cookie decides");
        }
        Assert.That(seen, Has.Count.EqualTo(2), "six users hashed over two servers use both");
    }

    [Test]
    public async Task PersistRdpCookie_MstsNamesTheServer_WhateverRoundRobinSays()
    {
        // 127.0.0.1 is 16777343 as s_addr read little-endian; the port is byte-swapped (what ntohs undoes).
        string Msts(TcpListener l) => $"Cookie: msts=16777343.{(ushort)IPAddress.HostToNetworkOrder((short)Port(l))}.0000";
        for (int i = 0; i < 4; i++)
        {
            Assert.That(await ServerFor(_persist, Msts(_s2)), Is.EqualTo("s2"), $"connection {i}");
            Assert.That(await ServerFor(_persist, Msts(_s1)), Is.EqualTo("s1"), $"connection {i}");
        }
        var unknown = new HashSet<string>();
        for (int i = 0; i < 4; i++) unknown.Add(await ServerFor(_persist, "Cookie: msts=1.2.0000"));
        Assert.That(unknown, Is.EquivalentTo(new[] { "s1", "s2" }), "a cookie naming no server: round robin");
    }

    [Test]
    public void Config_PassesHaproxyCheck() => HaproxyCheck.AssertAccepts(Config(1, 2, 3, 4));
}
