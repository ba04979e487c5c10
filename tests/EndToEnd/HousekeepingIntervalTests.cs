using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Tests.Worker;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// The worker's housekeeping intervals can be shortened through the environment (worker/HousekeepingIntervals.cs),
/// and the variables reach the workers: proxyctl, the supervisor and WorkerSpawner all pass their environment on.
/// </summary>
public sealed class HousekeepingIntervalTests
{
    [Test]
    public async Task PoolPurgeDelay_FromTheEnvironment_ClosesAnIdleServerConnectionSooner()
    {
        int closedByProxy = 0;
        await using var origin = new TestServer(async s =>
        {
            var reader = new HttpReader(s);
            while (await reader.ReadAsync(isResponse: false) is not null)
                await s.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray(), SocketFlags.None);
            Interlocked.Increment(ref closedByProxy);
        });
        int port = Ports.Free();
        using var proxy = new ProxyInstance($"""
            defaults
                mode http
                timeout connect 2s
                timeout client 30s
                timeout server 30s
            frontend fe
                bind 127.0.0.1:{port}
                default_backend be
            backend be
                server s1 127.0.0.1:{origin.EndPoint.Port}
            """, global: "    nbproc 1\n");
        proxy.EnvironmentVariables["PROXY_POOL_PURGE_DELAY_MS"] = "300";
        proxy.Start();

        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync("127.0.0.1", port);
            await client.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), SocketFlags.None);
            Assert.That((await new HttpReader(client).ReadAsync(isResponse: true))!.Status, Is.EqualTo(200));
        }
        // The client left; its server connection went to the worker's idle pool, which closes it after 300 ms
        // (swept every 60 ms) instead of the production 5 s.
        Assert.That(await Poll.TryUntilAsync(() => Volatile.Read(ref closedByProxy) == 1, TimeSpan.FromSeconds(3)), Is.True,
            "the idle server connection was not closed within 3 s: PROXY_POOL_PURGE_DELAY_MS=300 did not reach the worker");
    }
}
