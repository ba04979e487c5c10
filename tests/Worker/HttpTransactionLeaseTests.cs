using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Worker.Forwarding;
using Proxy.Worker.Runtime;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// An http session's transaction is lent per request (HttpTransactionPool): once given back it must neither keep
/// its old session alive nor take what another thread meant for its old session.
/// </summary>
public class HttpTransactionLeaseTests
{
    private const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic;

    [Test]
    public void ReturnedTransaction_ForgetsItsSession()
    {
        var session = (HttpSession)RuntimeHelpers.GetUninitializedObject(typeof(HttpSession));
        var fe = (FrontendRuntime)RuntimeHelpers.GetUninitializedObject(typeof(FrontendRuntime));
        var connector = (ServerConnector)RuntimeHelpers.GetUninitializedObject(typeof(ServerConnector));
        HttpTransaction? tx = null;
        // On a thread of its own: the pool is per thread, and this transaction must not reach another test's engine.
        var thread = new Thread(() =>
        {
            tx = new HttpTransaction(session, fe, connector, 1024, 16);
            HttpTransactionPool.Return(tx);
        });
        thread.Start();
        thread.Join();
        Assert.That(typeof(HttpTransaction).GetField("_owner", Private)!.GetValue(tx), Is.Null, "the session");
        Assert.That(typeof(HttpTransaction).GetField("_fe", Private)!.GetValue(tx), Is.Null, "the frontend");
        Assert.That(tx!.Connector, Is.Null, "the session's connector");
    }

    [Test]
    public async Task Kill_ThroughATransactionNowLentToAnotherSession_LeavesThatRequestAlone()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET / HTTP/1.1\r\n");   // a request under way: its session holds a transaction
        var b = await Poll.UntilAsync(() => proxy.Engine.LiveSessions().OfType<HttpSession>().SingleOrDefault(),
            s => s is { HoldsTransaction: true }, "the session to hold its transaction");
        var tx = (HttpTransaction)typeof(HttpSession).GetField("_tx", Private)!.GetValue(b)!;
        // Another session (never started) that read `tx` just before giving it back, as `shutdown session` or the
        // timer may from another thread while the transaction goes to b's request.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var a = new HttpSession(proxy.Engine, b!.Frontend, socket);
        typeof(HttpSession).GetField("_tx", Private)!.SetValue(a, tx);
        a.Kill('K');
        Assert.That(tx.Cause, Is.EqualTo('\0'), "b's request has no termination cause");
        Assert.That(b.IsAborted, Is.False);
        await SendAsync(c, "Host: h\r\n\r\n");
        var resp = await new HttpReader(c).ReadAsync(isResponse: true);
        Assert.That(resp!.Status, Is.EqualTo(200));
    }
}
