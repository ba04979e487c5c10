using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Interop;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// A plain `mode http` listener is accepted on the worker's own loop (worker/Io/LoopAcceptor.cs, issue 15): the global
/// `maxconn` still pauses accepting and resumes it when a connection ends, and a reload still drains: the old worker
/// stops accepting (its listener leaves the loop) while new connections keep being served, and then exits.
/// </summary>
[NonParallelizable]
[TestFixture]
public sealed class LoopAcceptEndToEndTests
{
    private OriginProcess _origin = null!;

    [OneTimeSetUp]
    public void StartOrigin() => _origin = new OriginProcess("loop-accept");

    [OneTimeTearDown]
    public void StopOrigin() => _origin.Dispose();

    private string Config(int port) => $"""
        defaults
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
        frontend fe
            bind 127.0.0.1:{port}
            default_backend be
        backend be
            server s 127.0.0.1:{_origin.Port}
        """;

    /// <summary>Sends one keep-alive GET on <paramref name="s"/> and reads until the end of the response head.</summary>
    private static async Task<string> GetHeadAsync(Socket s)
    {
        await s.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: t\r\n\r\n"), SocketFlags.None);
        var head = new StringBuilder();
        var buffer = new byte[4096];
        while (!head.ToString().Contains("\r\n\r\n"))
        {
            int n = await s.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0) throw new IOException($"closed after {head.Length} bytes");
            head.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        return head.ToString();
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        return s;
    }

    [Test]
    public async Task GlobalMaxConn_PausesAccepting_AndAClosedConnectionResumesIt()
    {
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port), "    nbproc 1\n    maxconn 2\n").Start();
        using var a = await ConnectAsync(port);
        using var b = await ConnectAsync(port);
        Assert.That(await GetHeadAsync(a), Does.StartWith("HTTP/1.1 200"));
        Assert.That(await GetHeadAsync(b), Does.StartWith("HTTP/1.1 200"));
        using var c = await ConnectAsync(port);   // completes in the kernel's backlog
        var third = GetHeadAsync(c);
        Assert.That(await Task.WhenAny(third, Task.Delay(700)), Is.Not.SameAs(third), "maxconn 2 reached: the third connection waits in the backlog");
        a.Dispose();   // one place frees: accepting resumes
        Assert.That(await third.WaitAsync(TimeSpan.FromSeconds(10)), Does.StartWith("HTTP/1.1 200"));
        Assert.That(await GetHeadAsync(b), Does.StartWith("HTTP/1.1 200"), "the held connection still served");
    }

    [Test]
    public async Task Reload_OldWorkerStopsAccepting_NewConnectionsServed_OldWorkerExits()
    {
        int port = Ports.Free();
        using var proxy = new ProxyInstance(Config(port), "    nbproc 1\n").Start();
        var first = proxy.Workers().Select(w => w.Pid).ToList();
        using var stop = new CancellationTokenSource();
        int ok = 0, failed = 0;
        var errors = new List<string>();
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            http.DefaultRequestHeaders.ConnectionClose = true;   // a new connection, accepted anew, per request
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await http.GetAsync("/");
                    if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref ok);
                    else { Interlocked.Increment(ref failed); lock (errors) errors.Add(response.StatusCode.ToString()); }
                }
                catch (HttpRequestException e)
                {
                    Interlocked.Increment(ref failed);
                    lock (errors) errors.Add(e.Message);
                }
            }
        })).ToArray();
        await Poll.UntilAsync(() => Volatile.Read(ref ok) > 20, "served before the reload");
        var r = proxy.Ctl("reload");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        await Poll.UntilAsync(() => proxy.Workers().Any(w => w.State == "running" && !first.Contains(w.Pid)), "the new generation runs");
        int before = Volatile.Read(ref ok);
        // The old worker ends while clients keep connecting: it no longer accepts any of them.
        await Poll.UntilAsync(() => !first.Any(Posix.ProcessExists), "the old worker drained and exited");
        await Poll.UntilAsync(() => Volatile.Read(ref ok) > before + 20, "served by the new generation");
        stop.Cancel();
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(failed, Is.EqualTo(0), string.Join("; ", errors.Take(5)));
    }
}
