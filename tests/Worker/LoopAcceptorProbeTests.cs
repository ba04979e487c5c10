using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Worker.Io;

namespace Proxy.Tests.Worker;

/// <summary>
/// The loop's accept builds each socket with .NET's private Socket.CreateAcceptSocket (review finding 6): probed once,
/// so that a runtime without it keeps the listener on .NET's engine instead of stopping it at the first accept.
/// </summary>
public class LoopAcceptorProbeTests
{
    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        return listener;
    }

    [Test]
    public void AMissingConstructor_SaysNo_AndClosesTheProbesDescriptor()
    {
        using var listener = Listen();
        SafeSocketHandle? tried = null;
        bool? found = LoopAcceptor.Probe(listener, (_, handle, _) =>
        {
            tried = handle;
            throw new MissingMethodException("System.Net.Sockets.Socket", "CreateAcceptSocket");
        });
        Assert.That(found, Is.False, "the accept loop then uses .NET's engine");
        Assert.That(tried, Is.Not.Null);
        Assert.That(tried!.IsClosed, Is.True, "the probe's descriptor is closed, not left to the finalizer");
    }
    // That this runtime has it: LoopAcceptorTests (TryCreate returns an acceptor, which accepts).
}
