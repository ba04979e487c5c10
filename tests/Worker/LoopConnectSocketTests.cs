using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Worker.Forwarding;
using Proxy.Worker.Io;
using Tmds.Linux;

namespace Proxy.Tests.Worker;

/// <summary>
/// A server socket made for the worker's loop (worker/Io/LoopConnectSocket.cs): non-blocking from birth, Nagle off,
/// keep-alive when asked, a TCP socket of its family to .NET, and it connects on the loop and carries bytes both ways.
/// Real sockets on 127.0.0.1 and ::1, asked with fcntl and getsockopt.
/// </summary>
public class LoopConnectSocketTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [TestCase(AddressFamily.InterNetwork, false)]
    [TestCase(AddressFamily.InterNetwork, true)]
    [TestCase(AddressFamily.InterNetworkV6, false)]
    public async Task NewSocket_HasTheServerOptions_AndConnectsOnTheLoop(AddressFamily family, bool keepAlive)
    {
        if (family == AddressFamily.InterNetworkV6) Assume.That(Socket.OSSupportsIPv6, "no IPv6 on this host");
        var loopback = family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback;
        using var listener = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(loopback, 0));
        listener.Listen();

        using var socket = LoopConnectSocket.TryCreate(family, keepAlive);   // disposed twice with `connection`: a no-op
        Assert.That(socket, Is.Not.Null, "made on the loop");
        Assert.That(socket!.AddressFamily, Is.EqualTo(family));
        Assert.That(socket.ProtocolType, Is.EqualTo(ProtocolType.Tcp), "a TCP socket: it closes with a reset (ServerCloseReset)");
        Assert.That(LibC.fcntl((int)socket.SafeHandle.DangerousGetHandle(), LibC.F_GETFL, 0) & LibC.O_NONBLOCK, Is.Not.Zero, "O_NONBLOCK");
        Assert.That(socket.NoDelay, Is.True, "TCP_NODELAY");
        Assert.That(socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive), Is.EqualTo(keepAlive ? 1 : 0), "SO_KEEPALIVE");

        using var connection = new BufferedSocket(socket, 16384) { NonBlocking = true };
        Assert.That(connection.UseIoLoop(), Is.True);
        var connect = connection.ConnectAsync(listener.LocalEndPoint!).AsTask();
        using var accepted = await listener.AcceptAsync().WaitAsync(Limit);
        Assert.That(await connect.WaitAsync(Limit), Is.EqualTo(SocketError.Success));

        Assert.That(await connection.SendAsync("ping"u8.ToArray()).AsTask().WaitAsync(Limit), Is.True);
        var got = new byte[4];
        Assert.That(await accepted.ReceiveAsync(got).WaitAsync(Limit), Is.EqualTo(4));
        Assert.That(got, Is.EqualTo("ping"u8.ToArray()));
        await accepted.SendAsync("pong"u8.ToArray());
        Assert.That(await connection.ReceiveAsync(expectData: true).AsTask().WaitAsync(Limit), Is.EqualTo(4));
        Assert.That(connection.DataMemory.ToArray(), Is.EqualTo("pong"u8.ToArray()));
    }

    [Test]
    public async Task ConnectRefused_IsAnError_NotAnException()
    {
        // A port nobody listens on: bound, then closed, so nothing else took it meanwhile.
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        using var connection = new BufferedSocket(LoopConnectSocket.TryCreate(AddressFamily.InterNetwork, keepAlive: false)!, 16384) { NonBlocking = true };
        Assert.That(connection.UseIoLoop(), Is.True);
        Assert.That(await connection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).AsTask().WaitAsync(Limit), Is.EqualTo(SocketError.ConnectionRefused));
    }

    [Test]
    public void OtherFamilies_AreLeftToDotNet()
    {
        Assert.That(LoopConnectSocket.TryCreate(AddressFamily.Unix, keepAlive: false), Is.Null);
    }
}
