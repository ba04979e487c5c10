using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Runtime;
using Proxy.Worker.Samples;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Samples;

/// <summary>
/// The layer-6 fetches (7.3.5) on a real ClientHello, the one .NET's TLS client (OpenSSL) sends, and the
/// `tcp-request content` rules' wait for bytes that have not come (HAProxy's SMP_F_MAY_CHANGE).
/// </summary>
public sealed class PayloadSampleTests
{
    private static byte[]? s_hello;

    /// <summary>The first bytes a TLS client sends to a server named <c>b.example</c>.</summary>
    private static byte[] ClientHello()
    {
        if (s_hello is not null) return s_hello;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = listener.AcceptSocket();
        var tls = new SslStream(client.GetStream());
        var handshake = tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "b.example" });
        var buffer = new byte[16384];
        int n = 0;
        accepted.ReceiveTimeout = 10000;
        // One record holds the hello; read until its length is in.
        while (n < 5 || n < 5 + ((buffer[3] << 8) | buffer[4])) n += accepted.Receive(buffer, n, buffer.Length - n, SocketFlags.None);
        accepted.Close();
        Assert.That(() => handshake.Wait(10000), Throws.Exception, "the server never answered");
        tls.Dispose();
        return s_hello = buffer[..n];
    }

    private static SampleContext Context(byte[] data, int length, bool final)
    {
        var ctx = new SampleContext();
        ctx.SetPayload(data, length, final);
        return ctx;
    }

    private static string? Text(string expr, SampleContext ctx)
    {
        var compiled = new CompiledSampleExpr(SampleTestContext.Parse(expr));
        if (!compiled.TryEvaluate(ctx, out var s)) return null;
        return s.Type is SampleType.Int or SampleType.Bool ? s.Int.ToString() : Encoding.Latin1.GetString(s.Bytes);
    }

    [Test]
    public void WholeClientHello_GivesSniTypeVersionLengthAndBytes()
    {
        var hello = ClientHello();
        var ctx = Context(hello, hello.Length, final: false);
        Assert.That(Text("req.ssl_sni", ctx), Is.EqualTo("b.example"));
        Assert.That(Text("req_ssl_sni,upper", ctx), Is.EqualTo("B.EXAMPLE"));
        Assert.That(Text("req.ssl_hello_type", ctx), Is.EqualTo("1"));
        Assert.That(Text("req_ssl_ver", ctx), Is.EqualTo((0x30003).ToString()), "client_version 3.3 (TLS 1.2, as TLS 1.3 hellos say too)");
        Assert.That(Text("req.len", ctx), Is.EqualTo(hello.Length.ToString()));
        Assert.That(Text("req.payload(0,1),hex", ctx), Is.EqualTo("16"), "a handshake record");
        Assert.That(ctx.PayloadIncomplete, Is.True, "req.len may still change");
    }

    [TestCase(3, false, true)]
    [TestCase(3, true, false)]
    [TestCase(60, false, true)]
    public void PartialClientHello_NoSni_AndWaitsUnlessFinal(int length, bool final, bool waits)
    {
        var hello = ClientHello();
        var ctx = Context(hello, length, final);
        Assert.That(Text("req.ssl_sni", ctx), Is.Null);
        Assert.That(ctx.PayloadIncomplete, Is.EqualTo(waits));
    }

    [Test]
    public void PlainText_IsNoTlsHello_AndDoesNotWait()
    {
        var get = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: b.example\r\n\r\n");
        var ctx = Context(get, get.Length, final: false);
        Assert.That((Text("req.ssl_sni", ctx), Text("req.ssl_hello_type", ctx), Text("req.ssl_ver", ctx)), Is.EqualTo(((string?)null, (string?)null, (string?)null)));
        Assert.That(ctx.PayloadIncomplete, Is.False);
        Assert.That(Text("req.payload(0,3)", ctx), Is.EqualTo("GET"));
        Assert.That(Text("req.payload(4,0)", ctx), Does.StartWith("/ HTTP/1.1"));
    }

    [Test]
    public void ContentRules_WaitForTheHello_ThenAcceptAndSetVariables()
    {
        var fe = ParseValid(Lines(
            "frontend fe", "    mode tcp", "    bind :443", "    tcp-request inspect-delay 5s",
            "    tcp-request content reject unless { req.ssl_hello_type 1 }",
            "    tcp-request content set-var(sess.sni) req.ssl_sni",
            "    tcp-request content accept if { req.ssl_sni -m end .example }",
            "    tcp-request content reject",
            "    default_backend be", "backend be", "    mode tcp", "    server s 127.0.0.1:1")).Frontends[0];
        Assert.That(fe.InspectDelay, Is.EqualTo(TimeSpan.FromSeconds(5)));
        var rules = new TcpContentRuntime(fe);
        var hello = ClientHello();
        var ctx = Context(hello, 4, final: false);
        int next = 0;
        Assert.That(rules.Run(ctx, ref next), Is.EqualTo(TcpContentVerdict.NeedMore), "no record header yet: even the reject unless waits");
        ctx.SetPayload(hello, hello.Length, final: false);
        Assert.That(rules.Run(ctx, ref next), Is.EqualTo(TcpContentVerdict.Accept));
        Assert.That(Text("var(sess.sni)", ctx), Is.EqualTo("b.example"));

        var plain = Encoding.ASCII.GetBytes("SSH-2.0-OpenSSH\r\n");
        next = 0;
        Assert.That(rules.Run(Context(plain, plain.Length, final: false), ref next), Is.EqualTo(TcpContentVerdict.Reject));
        next = 0;
        Assert.That(rules.Run(Context(hello, 4, final: true), ref next), Is.EqualTo(TcpContentVerdict.Reject), "the delay passed: decided on what came");
    }
}
