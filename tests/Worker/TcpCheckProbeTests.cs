using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Stats;
using Proxy.Worker.Health;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Worker;

/// <summary>
/// The tcp-check engine against protocol-level stand-ins on 127.0.0.1 (the bytes each server would answer): each
/// protocol check passing and failing with HAProxy's status, code and info text, and a written script's messages.
/// </summary>
[TestFixture]
public sealed class TcpCheckProbeTests
{
    /// <summary>A server that runs <paramref name="conversation"/> on each connection and records what it received.</summary>
    private sealed class ScriptedServer : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly CancellationTokenSource _stop = new();

        public ScriptedServer(Func<Socket, Task> conversation)
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(16);
            _ = AcceptAsync(conversation);
        }

        public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

        private async Task AcceptAsync(Func<Socket, Task> conversation)
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket c;
                try { c = await _listener.AcceptAsync(_stop.Token); }
                catch (Exception) { return; }
                _ = Task.Run(async () =>
                {
                    using (c)
                    {
                        try { await conversation(c); }
                        catch (Exception) { /* the check closed first */ }
                    }
                });
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
        }
    }

    /// <summary>Reads until <paramref name="count"/> bytes came (or the peer closed).</summary>
    private static async Task<byte[]> ReadAsync(Socket s, int count)
    {
        var buffer = new byte[count];
        int got = 0;
        while (got < count)
        {
            int n = await s.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None);
            if (n == 0) break;
            got += n;
        }
        return buffer[..got];
    }

    private static async Task SendAsync(Socket s, byte[] data) => await s.SendAsync(data, SocketFlags.None);

    private static TcpCheckSettings Settings(params string[] lines) => ParseValid(Lines(
        [
            "defaults",
            "    mode tcp",
            "backend app",
            .. lines,
            "    server s1 127.0.0.1:1 check",
        ])).Backends[0].TcpCheck!;

    private static Task<CheckOutcome> RunAsync(TcpCheckSettings settings, IPEndPoint target, int timeoutMs = 3000) =>
        new TcpCheckProbe(settings, target, default).RunAsync(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(timeoutMs), CancellationToken.None);

    [Test]
    public async Task RedisCheck_Pong_Passes_ErrorReply_IsL7Sts()
    {
        byte[]? received = null;
        string reply = "+PONG\r\n";
        using var server = new ScriptedServer(async c =>
        {
            received = await ReadAsync(c, 14);
            await SendAsync(c, Encoding.ASCII.GetBytes(reply));
        });
        var settings = Settings("    option redis-check");
        var ok = await RunAsync(settings, server.EndPoint);
        Assert.That(received, Is.EqualTo("*1\r\n$4\r\nPING\r\n"u8.ToArray()));
        Assert.That(ok, Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Ok, 0, "Redis server is ok")));
        reply = "-LOADING Redis is loading the dataset in memory\r\n";
        var loading = await RunAsync(settings, server.EndPoint);
        Assert.That(loading, Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Sts, 0, "-LOADING Redis is loading the dataset in memory")));
    }

    [Test]
    public async Task PgsqlCheck_AuthenticationRequest_Passes_ErrorResponse_Fails()
    {
        byte[]? startup = null;
        byte[] reply = Convert.FromHexString("520000000800000000");       // AuthenticationOk
        using var server = new ScriptedServer(async c =>
        {
            startup = await ReadAsync(c, 15 + 3);
            await SendAsync(c, reply);
        });
        var settings = Settings("    option pgsql-check user app");
        Assert.That(await RunAsync(settings, server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Ok, 0, "PostgreSQL server is ok")));
        Assert.That(Convert.ToHexString(startup!), Is.EqualTo("00000012" + "00030000" + "7573657200" + "61707000" + "00"));
        reply = Convert.FromHexString("520000000800000007");             // AuthenticationGSSContinue: not in HAProxy's list
        Assert.That(await RunAsync(settings, server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Sts, 0, "PostgreSQL unknown error")));
        reply = [(byte)'E', 0, 0, 0, 40, (byte)'S', .. "FATAL\0"u8, (byte)'M', .. "role \"app\" does not exist\0"u8, 0];
        Assert.That(await RunAsync(settings, server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Rsp, 0, "FATAL")));
    }

    [Test]
    public async Task MySqlCheck_HandshakeThenOk_Passes_ErrorPacket_IsL7Sts()
    {
        // Initial handshake v10 (server version 8.0.36), then the answer to the client's authentication packet.
        byte[] body = [10, .. "8.0.36\0"u8, 1, 0, 0, 0, .. new byte[30]];
        byte[] handshake = [(byte)body.Length, 0, 0, 0, .. body];
        byte[] answer = Convert.FromHexString("0700000200000002000000");          // OK packet
        using var server = new ScriptedServer(async c =>
        {
            await SendAsync(c, handshake);
            await ReadAsync(c, 4 + 41 + 5);     // the authentication packet, then COM_QUIT
            await SendAsync(c, answer);
        });
        var settings = Settings("    option mysql-check user haproxy");
        Assert.That((await RunAsync(settings, server.EndPoint)).Status, Is.EqualTo(CheckStatusCode.L7Ok));
        answer = [0x16, 0, 0, 2, 0xff, 0x15, 0x04, .. "#28000Access denied"u8];     // ER_ACCESS_DENIED_ERROR 1045
        Assert.That(await RunAsync(settings, server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Sts, 1045, "#28000Access denied")));
        // Without a user, the handshake alone.
        Assert.That((await RunAsync(Settings("    option mysql-check"), server.EndPoint)).Status, Is.EqualTo(CheckStatusCode.L7Ok));
    }

    [Test]
    public async Task Smtpchk_Greeting_Helo_ReplyCode()
    {
        string greeting = "220 mail.example ESMTP\r\n";
        string? command = null;
        using var server = new ScriptedServer(async c =>
        {
            await SendAsync(c, Encoding.ASCII.GetBytes(greeting));
            if (!greeting.StartsWith('2')) return;
            command = Encoding.ASCII.GetString(await ReadAsync(c, "EHLO check.example\r\n".Length));
            await SendAsync(c, "250-mail.example hello\r\n250 SIZE 1000\r\n"u8.ToArray());
        });
        var settings = Settings("    option smtpchk EHLO check.example");
        Assert.That(await RunAsync(settings, server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Ok, 250, "mail.example hello")));
        Assert.That(command, Is.EqualTo("EHLO check.example\r\n"));
        greeting = "554 5.3.2 service unavailable\r\n";
        Assert.That(await RunAsync(settings, server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Sts, 554, "5.3.2 service unavailable")));
    }

    [Test]
    public async Task LdapCheck_BindResponse_Success_And_Failure()
    {
        int resultCode = 0;
        using var server = new ScriptedServer(async c =>
        {
            var request = await ReadAsync(c, 14);
            Assert.That(Convert.ToHexString(request), Is.EqualTo("300C020101600702010304008000"));
            await SendAsync(c, [0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, (byte)resultCode, 0x04, 0x00, 0x04, 0x00]);
        });
        var settings = Settings("    option ldap-check");
        Assert.That((await RunAsync(settings, server.EndPoint)).Status, Is.EqualTo(CheckStatusCode.L7Ok));
        resultCode = 49;       // invalidCredentials
        Assert.That(await RunAsync(settings, server.EndPoint),
            Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Sts, 49, "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9")));
    }

    [Test]
    public async Task SslHelloChk_HandshakeRecord_IsL6Ok_PlainText_IsL6Rsp()
    {
        byte[] reply = [0x16, 0x03, 0x01, 0x00, 0x02, 0x02, 0x00];
        byte[]? hello = null;
        using var server = new ScriptedServer(async c =>
        {
            hello = await ReadAsync(c, 5 + 0x79);
            await SendAsync(c, reply);
        });
        var settings = Settings("    option ssl-hello-chk");
        Assert.That(await RunAsync(settings, server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L6Ok, 0, null)));
        Assert.That(Convert.ToHexString(hello![..11]), Is.EqualTo("16030000790100007503" + "00"));
        long stamped = (hello[11] << 24) | (hello[12] << 16) | (hello[13] << 8) | hello[14];
        Assert.That(stamped, Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Within(60), "the GMT time field");
        reply = "HTTP/1.0 400 Bad request\r\n\r\n"u8.ToArray();
        Assert.That((await RunAsync(settings, server.EndPoint)).Status, Is.EqualTo(CheckStatusCode.L6Rsp));
    }

    [Test]
    public async Task Script_Messages_AsHAProxy()
    {
        string answer = "+PONG\r\nrole:master\r\n";
        using var server = new ScriptedServer(async c =>
        {
            await ReadAsync(c, 6);
            await SendAsync(c, Encoding.ASCII.GetBytes(answer));
            await ReadAsync(c, 1);      // until the check closes
        });
        var settings = Settings(
            "    option tcp-check",
            "    tcp-check send PING\\r\\n",
            "    tcp-check expect string +PONG",
            "    tcp-check expect string role:master comment \"master only\"");
        Assert.That(await RunAsync(settings, server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Ok, 0, "(tcp-check)")));
        answer = "+PONG\r\nrole:slave\r\n";
        // No match and no min-recv: it waits for more until the timeout (HAProxy's TCPCHK_EVAL_WAIT), then L7TOUT.
        var timedOut = await RunAsync(settings, server.EndPoint, timeoutMs: 500);
        Assert.That(timedOut.Status, Is.EqualTo(CheckStatusCode.L7Tout));
        Assert.That(timedOut.Info, Does.Contain("at step 3 of tcp-check (expect string 'role:master')"));

        var withMinRecv = Settings(
            "    option tcp-check",
            "    tcp-check send PING\\r\\n",
            "    tcp-check expect min-recv 4 string role:master",
            "    tcp-check expect ! binary 2D455252");
        Assert.That(await RunAsync(withMinRecv, server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Rsp, 0, "TCPCHK did not match content 'role:master' at step 2")));
        answer = "role:master -ERR\r\n";
        Assert.That(await RunAsync(withMinRecv, server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Rsp, 0, "TCPCHK matched unwanted content (binary) at step 3")));
    }

    [Test]
    public async Task Script_ConnectPort_And_Refused()
    {
        using var server = new ScriptedServer(c => SendAsync(c, "ready\n"u8.ToArray()));
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int refusedPort = ((IPEndPoint)closed.LocalEndPoint!).Port;     // bound, not listening: refused
        var settings = Settings(
            "    option tcp-check",
            $"    tcp-check connect port {server.EndPoint.Port}",
            "    tcp-check expect rstring ^ready");
        // The server's own port is refused; the script's connect goes to its port.
        Assert.That(await RunAsync(settings, new IPEndPoint(IPAddress.Loopback, refusedPort)), Is.EqualTo(new CheckOutcome(CheckStatusCode.L7Ok, 0, "(tcp-check)")));
        var plain = await RunAsync(Settings("    option tcp-check"), new IPEndPoint(IPAddress.Loopback, refusedPort));
        Assert.That(plain.Status, Is.EqualTo(CheckStatusCode.L4Con));
        Assert.That(await RunAsync(Settings("    option tcp-check"), server.EndPoint), Is.EqualTo(new CheckOutcome(CheckStatusCode.L4Ok, 0, null)), "the implicit connect alone: no info");
    }
}
