using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// A server connection the proxy closes first ends with a reset, one whose server closed first with an orderly close
/// (HAProxy's FD_LINGER_RISK; worker/Forwarding/ServerCloseReset.cs): the proxy's ports keep no TIME_WAIT.
/// </summary>
public class ServerCloseResetTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    /// <summary>What the origin's next receive saw after it answered: "FIN", "bytes", or the socket error (ConnectionReset).</summary>
    private static async Task<string> NextReceiveAsync(Socket s)
    {
        try
        {
            return await s.ReceiveAsync(new byte[64], SocketFlags.None) == 0 ? "FIN" : "bytes";
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode.ToString();
        }
    }

    /// <summary>A `mode tcp` frontend relaying to one server on <paramref name="port"/>.</summary>
    private static string TcpConfig(int port) => $"""
        defaults
            mode tcp
            timeout connect 1s
            timeout client 10s
            timeout server 10s
        frontend fe
            bind BIND
            default_backend be
        backend be
            server s 127.0.0.1:{port}
        """;

    [Test]
    public async Task Http_ProxyClosesFirst_TheServerSeesAReset()
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = new TestServer(async s =>
        {
            if (await new HttpReader(s).ReadAsync(isResponse: false) is null) return;
            await s.SendAsync(HttpOrigin.Ok("done"), SocketFlags.None);
            seen.TrySetResult(await NextReceiveAsync(s));
        });
        // http-server-close: the proxy closes the server connection once the response is complete.
        await using var proxy = StartFromText(HttpConfig($"    server s 127.0.0.1:{origin.EndPoint.Port}", backendExtra: "    option http-server-close"));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That((await new HttpReader(c).ReadAsync(isResponse: true))!.BodyText, Is.EqualTo("done"));
        Assert.That(await seen.Task.WaitAsync(Limit), Is.EqualTo(nameof(SocketError.ConnectionReset)));
    }

    [Test]
    public async Task Http_ServerClosesFirst_TheProxyClosesInOrder()
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = new TestServer(async s =>
        {
            if (await new HttpReader(s).ReadAsync(isResponse: false) is null) return;
            // A body delimited by the close: the proxy reads the server's FIN before it closes its side.
            await s.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"), SocketFlags.None);
            s.Shutdown(SocketShutdown.Send);
            seen.TrySetResult(await NextReceiveAsync(s));
        });
        await using var proxy = StartFromText(HttpConfig($"    server s 127.0.0.1:{origin.EndPoint.Port}"));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That((await new HttpReader(c).ReadAsync(isResponse: true))!.BodyText, Is.EqualTo("until the end"));
        Assert.That(await seen.Task.WaitAsync(Limit), Is.EqualTo("FIN"));
    }

    [Test]
    public async Task Tcp_ClientResets_TheServerSeesAReset()
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var relayed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = new TestServer(async s =>
        {
            if (await s.ReceiveAsync(new byte[16], SocketFlags.None) <= 0) return;
            relayed.TrySetResult();
            seen.TrySetResult(await NextReceiveAsync(s));
        });
        await using var proxy = StartFromText(TcpConfig(origin.EndPoint.Port));
        using var c = await proxy.ConnectAsync();
        await c.SendAsync(new byte[] { 1 }, SocketFlags.None);
        await relayed.Task.WaitAsync(Limit);
        c.LingerState = new LingerOption(true, 0);
        c.Dispose();   // a reset: the proxy aborts the session before the server closed anything
        Assert.That(await seen.Task.WaitAsync(Limit), Is.EqualTo(nameof(SocketError.ConnectionReset)));
    }

    [Test]
    public async Task Tcp_ServerClosesFirst_ThenTheClient_TheServerSeesAFin()
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = new TestServer(async s =>
        {
            await s.SendAsync(new byte[] { 7 }, SocketFlags.None);
            s.Shutdown(SocketShutdown.Send);   // the server's FIN first: the proxy's close of this side stays orderly
            seen.TrySetResult(await NextReceiveAsync(s));
            s.Dispose();   // the session ends at once: the engine's disposal has nothing to wait for
        });
        await using var proxy = StartFromText(TcpConfig(origin.EndPoint.Port));
        using var c = await proxy.ConnectAsync();
        var got = new byte[8];
        Assert.That(await c.ReceiveAsync(got, SocketFlags.None).WaitAsync(Limit), Is.EqualTo(1));
        Assert.That(await c.ReceiveAsync(got, SocketFlags.None).WaitAsync(Limit), Is.EqualTo(0), "the server's FIN, relayed");
        c.Shutdown(SocketShutdown.Send);
        Assert.That(await seen.Task.WaitAsync(Limit), Is.EqualTo("FIN"), "the client's FIN reaches the server as a FIN, never as a reset");
    }
}
