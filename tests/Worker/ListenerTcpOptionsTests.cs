using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Worker;

namespace Proxy.Tests.Worker;

/// <summary>
/// The options set once on a listener reach the connections it accepts (the kernel copies them): TCP_QUICKACK off
/// with `option tcp-smart-accept`, on without, and TCP_NODELAY. Real sockets on 127.0.0.1, asked with getsockopt.
/// </summary>
public class ListenerTcpOptionsTests
{
    private const int TcpQuickAck = 12;

    [TestCase(true, 0)]
    [TestCase(false, 1)]
    public async Task AcceptedConnections_InheritTheListenersOptions(bool smartAccept, int quickAck)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        ListenerTcpOptions.Apply(listener, !smartAccept);   // a reload's change: the value set last holds
        var options = ListenerTcpOptions.Apply(listener, smartAccept);
        for (int i = 0; i < 2; i++)   // the first connection is asked whether it inherited TCP_NODELAY, the second relies on it
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(listener.LocalEndPoint!);
            using var accepted = await listener.AcceptAsync();
            Assert.That(options.Prepare(accepted, keepAlive: i == 1), Is.True);
            Assert.That(accepted.NoDelay, Is.True, "TCP_NODELAY");
            var value = new byte[4];
            accepted.GetRawSocketOption((int)SocketOptionLevel.Tcp, TcpQuickAck, value);
            Assert.That(BitConverter.ToInt32(value), Is.EqualTo(quickAck), "TCP_QUICKACK");
            Assert.That(accepted.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive), Is.EqualTo(i == 1 ? 1 : 0), "SO_KEEPALIVE");
        }
    }

    [Test]
    public async Task ListenerWithoutTheOption_EachConnectionGetsItsOwn()
    {
        // Options applied to another listener: this one's connections come without TCP_NODELAY, which Prepare then sets.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var options = ListenerTcpOptions.Apply(other, smartAccept: false);
        for (int i = 0; i < 2; i++)
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(listener.LocalEndPoint!);
            using var accepted = await listener.AcceptAsync();
            Assert.That(accepted.NoDelay, Is.False, "not inherited");
            Assert.That(options.Prepare(accepted, keepAlive: false), Is.True);
            Assert.That(accepted.NoDelay, Is.True, "set on the connection itself");
        }
    }
}
