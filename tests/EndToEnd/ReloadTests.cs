using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using NUnit.Framework;
using Proxy.Shared.Interop;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>`proxyctl reload` under load: new workers, old ones drained, not one connection failed.</summary>
[NonParallelizable]
[TestFixture]
public sealed class ReloadTests
{
    /// <summary>Clients that open a new connection per exchange, until stopped; returns (ok, failed).</summary>
    private static async Task<(int Ok, int Failed, List<string> Errors)> ShortConnectionsAsync(int port, int clients, CancellationToken stop)
    {
        int ok = 0, failed = 0;
        var errors = new List<string>();
        var tasks = new Task[clients];
        for (int c = 0; c < clients; c++)
        {
            int seed = c;
            tasks[c] = Task.Run(async () =>
            {
                var payload = new byte[1024];
                new Random(seed).NextBytes(payload);
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var back = await TcpClientHelper.RoundTripAsync(port, payload, TimeSpan.FromSeconds(10));
                        if (back.AsSpan().SequenceEqual(payload)) Interlocked.Increment(ref ok);
                        else { Interlocked.Increment(ref failed); lock (errors) errors.Add($"short read {back.Length}"); }
                    }
                    catch (Exception e) when (e is SocketException or OperationCanceledException)
                    {
                        Interlocked.Increment(ref failed);
                        lock (errors) errors.Add(e.Message);
                    }
                }
            });
        }
        await Task.WhenAll(tasks);
        return (ok, failed, errors);
    }

    /// <summary>Clients that keep one connection and exchange on it until stopped; returns (exchanges, failures).</summary>
    private static async Task<(int Ok, int Failed)> LongConnectionsAsync(int port, int clients, CancellationToken stop)
    {
        int ok = 0, failed = 0;
        var tasks = new Task[clients];
        for (int c = 0; c < clients; c++)
        {
            tasks[c] = Task.Run(async () =>
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                var buffer = new byte[64];
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await s.SendAsync(buffer.AsMemory(0, 64), SocketFlags.None);
                        int got = 0;
                        while (got < 64)
                        {
                            int n = await s.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None);
                            if (n == 0) throw new SocketException((int)SocketError.ConnectionReset);
                            got += n;
                        }
                        Interlocked.Increment(ref ok);
                        await Task.Delay(5);
                    }
                    catch (SocketException)
                    {
                        Interlocked.Increment(ref failed);
                        return;
                    }
                }
            });
        }
        await Task.WhenAll(tasks);
        return (ok, failed);
    }

    [Test]
    public async Task Reload_UnderLoad_NoConnectionFailsAndWorkersAreReplaced()
    {
        using var echo = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port)).Start();
        var firstPids = proxy.Workers().Select(w => w.Pid).ToList();

        using var stop = new CancellationTokenSource();
        var shortLoad = ShortConnectionsAsync(port, 8, stop.Token);
        var longLoad = LongConnectionsAsync(port, 8, stop.Token);
        await Task.Delay(500);
        for (int i = 0; i < 5; i++)
        {
            var r = proxy.Ctl("reload");
            Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
            Assert.That(r.Stdout, Does.Contain("Reloaded"));
            await Task.Delay(700);
        }
        stop.Cancel();
        var (ok, failed, errors) = await shortLoad;
        var (exchanges, broken) = await longLoad;

        Assert.That(failed, Is.EqualTo(0), $"{failed} of {ok + failed} short connections failed: {string.Join("; ", errors.Take(5))}");
        Assert.That(ok, Is.GreaterThan(100));
        Assert.That(broken, Is.EqualTo(0), "long-lived connections must survive reloads (old workers drain)");
        Assert.That(exchanges, Is.GreaterThan(100));

        var now = proxy.Workers();
        Assert.That(now.Where(w => w.State == "running").Select(w => w.Pid), Has.None.AnyOf(firstPids.Cast<object>().ToArray()));
        Assert.That(now.Where(w => w.State == "running").Select(w => w.Generation).Distinct().Single(), Is.EqualTo(6));
        // The long connections are closed now: every old worker exits.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (firstPids.Any(Posix.ProcessExists) && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.That(firstPids.Where(Posix.ProcessExists), Is.Empty, "old workers are gone once their connections end");
    }

    [Test]
    public async Task Reload_BySighupAndSigusr2_StartsNewGenerations()
    {
        using var echo = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port)).Start();
        foreach (var (signal, generation) in new[] { (Posix.SIGHUP, 2), (Posix.SIGUSR2, 3) })
        {
            Posix.Signal(proxy.SupervisorPid, signal);
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (DateTime.UtcNow < deadline && !proxy.Workers().Any(w => w.Generation == generation && w.State == "running"))
                await Task.Delay(100);
            Assert.That(proxy.Workers().Where(w => w.State == "running").Select(w => w.Generation), Has.All.EqualTo(generation));
        }
        Assert.That(await TcpClientHelper.RoundTripAsync(port, [3], TimeSpan.FromSeconds(5)), Is.EqualTo(new byte[] { 3 }));
    }

    [Test]
    public async Task Reload_BadConfig_RefusedAndOldWorkersKeepServing()
    {
        using var echo = new EchoServer();
        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port)).Start();
        var before = proxy.Workers().Select(w => w.Pid).ToList();
        File.AppendAllText(proxy.ConfigPath, "\nbackend broken\n    server x 127.0.0.1:notaport\n");
        var r = proxy.Ctl("reload");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Stderr, Does.Contain("proxy.cfg:").And.Contain("server"));
        Assert.That(proxy.Workers().Select(w => w.Pid), Is.EquivalentTo(before));
        var back = await TcpClientHelper.RoundTripAsync(port, [5, 6], TimeSpan.FromSeconds(5));
        Assert.That(back, Is.EqualTo(new byte[] { 5, 6 }));
    }

    [Test]
    public async Task Reload_NewListener_IsServedAndRemovedListenerClosed()
    {
        using var echo = new EchoServer();
        int port = Ports.Free(), extra = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, echo.Port)).Start();
        File.WriteAllText(proxy.ConfigPath, File.ReadAllText(proxy.ConfigPath).Replace($"bind 127.0.0.1:{port}", $"bind 127.0.0.1:{extra}"));
        var r = proxy.Ctl("reload");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout, Does.Contain($"added listener fe 127.0.0.1:{extra}").And.Contain($"removed listener fe 127.0.0.1:{port}"));
        Assert.That(await TcpClientHelper.RoundTripAsync(extra, [1], TimeSpan.FromSeconds(5)), Is.EqualTo(new byte[] { 1 }));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Ports.CanBind(port) && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.That(Ports.CanBind(port), Is.True, "a listener the new config dropped is closed once unused");
    }

    [Test]
    public async Task Reload_DuringLongDownload_DownloadCompletesByteForByte()
    {
        // A server that streams 50 MiB at a limited rate (about 25 MiB/s), so the download spans reloads.
        var data = new byte[50 * 1024 * 1024];
        new Random(7).NextBytes(data);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        int serverPort = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var serve = Task.Run(async () =>
        {
            using var c = await listener.AcceptAsync();
            for (int off = 0; off < data.Length; off += 256 * 1024)
            {
                await c.SendAsync(data.AsMemory(off, Math.Min(256 * 1024, data.Length - off)), SocketFlags.None);
                await Task.Delay(10);
            }
            c.Shutdown(SocketShutdown.Send);
        });

        int port = Ports.Free();
        using var proxy = new ProxyInstance(TestConfigs.Tcp(port, serverPort)).Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        var download = Task.Run(async () =>
        {
            var received = new MemoryStream(data.Length);
            var buffer = new byte[64 * 1024];
            while (true)
            {
                int n = await client.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0) break;
                received.Write(buffer, 0, n);
            }
            return received.ToArray();
        });
        await Task.Delay(300);
        for (int i = 0; i < 2; i++)
        {
            var r = proxy.Ctl("reload");
            Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        }
        Assert.That(download.IsCompleted, Is.False, "the download should still be running after the reloads");
        var got = await download;
        await serve;
        Assert.That(got.Length, Is.EqualTo(data.Length));
        Assert.That(SHA256.HashData(got), Is.EqualTo(SHA256.HashData(data)));
    }
}
