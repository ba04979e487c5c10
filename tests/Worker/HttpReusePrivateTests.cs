using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Worker.Forwarding;
using Proxy.Worker.Http;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// A server connection that offered NTLM or Negotiate (401 `WWW-Authenticate`, 407 `Proxy-Authenticate`) is its
/// client session's alone, whatever `http-reuse` says (HAProxy 2.6 http_process_res_common: conn_set_private and
/// SESS_FL_PREFER_LAST).
/// </summary>
public class HttpReusePrivateTests
{
    [TestCase(401, "WWW-Authenticate: NTLM", true)]
    [TestCase(401, "WWW-Authenticate: ntlm TlRMTVNTUAACAAAA", true)]
    [TestCase(401, "WWW-Authenticate: Negotiate", true)]
    [TestCase(401, "WWW-Authenticate: Basic realm=\"x\", NTLM", true)]
    [TestCase(401, "WWW-Authenticate: Basic realm=\"x\"\r\nWWW-Authenticate: Nego2", true)]
    [TestCase(407, "Proxy-Authenticate: NTLM", true)]
    [TestCase(401, "WWW-Authenticate: Basic realm=\"NTLM\"", false)]
    [TestCase(401, "WWW-Authenticate: NTL", false)]
    [TestCase(401, "Proxy-Authenticate: NTLM", false)]
    [TestCase(407, "WWW-Authenticate: NTLM", false)]
    [TestCase(200, "WWW-Authenticate: NTLM", false)]
    public void Offered_ReadsTheChallengeOfA401Or407(int status, string header, bool expected)
    {
        using var head = new HttpHead();
        var text = $"HTTP/1.1 {status} X\r\n{header}\r\nContent-Length: 0\r\n\r\n";
        Assert.That(Proxy.Tests.Http.HttpTestHelper.ParseResponse(head, text), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(ConnectionBoundAuth.Offered(head, head.StatusCode), Is.EqualTo(expected));
    }

    [Test]
    public async Task Always_AnNtlmConnection_StaysWithItsSession_AndNeverReachesAnother()
    {
        static byte[] Challenge(HttpMessage _) => HttpOrigin.Response(401, "", ("WWW-Authenticate", "NTLM TlRMTVNTUAACAAAA"));
        await using var a = new HttpOrigin("a", Challenge);
        await using var b = new HttpOrigin("b", Challenge);
        var config = HttpConfig(Server("a", a) + "\n" + Server("b", b), backendExtra: "    http-reuse always");
        HaproxyCheck.AssertAccepts(config.Replace("BIND", "127.0.0.1:8080"));
        await using var proxy = StartFromText(config);
        using (var first = await proxy.ConnectAsync())
        {
            var reader = new HttpReader(first);
            for (int i = 0; i < 3; i++)
            {
                await SendAsync(first, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
                Assert.That((await reader.ReadAsync(true))!.Status, Is.EqualTo(401));
            }
        }
        // roundrobin would alternate: the session stays on its server and connection instead (SESS_FL_PREFER_LAST).
        var (origin, other) = a.Requests.Count > 0 ? (a, b) : (b, a);
        Assert.That(origin.Requests.Select(r => r.Connection), Is.EqualTo(new[] { 1, 1, 1 }), "one connection for the session");
        Assert.That(other.Requests, Is.Empty);
        await Poll.UntilAsync(() => proxy.Engine.ActiveConnections == 0, "first session ended");
        var servers = ((Proxy.Worker.Runtime.BackendRuntime)proxy.Engine.Backends[0]).Servers;
        Assert.That(servers[0].Pool.IdleCount + servers[1].Pool.IdleCount, Is.Zero, "closed, not pooled");

        for (int i = 0; i < 2; i++)   // whichever server the balancer picks, never on the first session's connection
        {
            using var next = await proxy.ConnectAsync();
            await SendAsync(next, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
            Assert.That((await new HttpReader(next).ReadAsync(true))!.Status, Is.EqualTo(401));
        }
        Assert.That(origin.Requests.Skip(3).Select(r => r.Connection), Has.None.EqualTo(1));
        Assert.That(a.Connections + b.Connections, Is.EqualTo(3));
    }
}
