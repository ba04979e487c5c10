using System.Net;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Stats;
using Proxy.Tests.Support;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// `option tcp-check` with its `tcp-check` rules, and the protocol checks (redis, pgsql, mysql, smtp, ldap, ssl-hello),
/// compiled as HAProxy 2.6 builds them (src/tcpcheck.c); each valid config here also passes Debian's `haproxy -c`.
/// </summary>
public class TcpCheckConfigTests
{
    // Line 5 is the first line given to Backend().
    private static string Backend(params string[] lines) => Lines(
        [
            "defaults",
            "    mode tcp",
            "    timeout connect 5s",
            "backend app",
            .. lines,
            "    server s1 127.0.0.1:6379 check",
        ]);

    private static TcpCheckSettings Check(params string[] lines)
    {
        var text = Backend(lines);
        HaproxyAccepts(text);
        return ParseValid(text).Backends[0].TcpCheck!;
    }

    private static void HaproxyAccepts(string text)
    {
        const string haproxy = "/usr/sbin/haproxy";
        Assert.That(File.Exists(haproxy), Is.True, $"{haproxy} is missing: apt-get install haproxy (.ci/run does)");
        var file = Path.GetTempFileName();
        try
        {
            // A listener, or HAProxy's -c answers 2 ("will not start (no listener)").
            File.WriteAllText(file, text + "listen with_a_listener\n    bind 127.0.0.1:1\n    timeout client 5s\n");
            var r = ProcessRunner.Run(haproxy, ["-c", "-q", "-f", file]);
            Assert.That(r.ExitCode, Is.EqualTo(0), $"haproxy -c refuses:\n{text}\n{r.All}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void TcpCheckScript_CompiledOnce_WithImplicitConnect()
    {
        var c = Check(
            "    option tcp-check",
            "    tcp-check comment \"ping step\"",
            "    tcp-check send PING\\r\\n",
            "    tcp-check expect string +PONG",
            "    tcp-check send-binary 50494e470d0a",
            "    tcp-check expect ! rstring ^-ERR min-recv 3 error-status L7STS on-error \"redis said no\"",
            "    tcp-check expect rbinary ^2B comment plus");
        Assert.That(c.IsScript, Is.True);
        Assert.That(c.Rules.Select(r => r.Action), Is.EqualTo(new[]
            { TcpCheckAction.Connect, TcpCheckAction.Send, TcpCheckAction.Expect, TcpCheckAction.Send, TcpCheckAction.Expect, TcpCheckAction.Expect }));
        var connect = c.Rules[0];
        Assert.That((connect.Implicit, connect.UsesServerSettings, connect.Index), Is.EqualTo((true, true, -1)), "HAProxy's implicit connect is step 0");
        Assert.That(c.Rules[1].Data, Is.EqualTo("PING\r\n"u8.ToArray()));
        Assert.That((c.Rules[1].Index, c.Rules[1].Comment), Is.EqualTo((1, "ping step")), "the comment belongs to the next rule");
        Assert.That(c.Rules[2].Bytes, Is.EqualTo("+PONG"u8.ToArray()));
        Assert.That(c.Rules[3].Data, Is.EqualTo("PING\r\n"u8.ToArray()));
        var negated = c.Rules[4];
        Assert.That((negated.Match, negated.Negate, negated.MinRecv, negated.ErrorStatus, negated.OnError),
            Is.EqualTo((TcpCheckMatch.RString, true, 3, (CheckStatusCode?)CheckStatusCode.L7Sts, "redis said no")));
        Assert.That((c.Rules[5].Match, c.Rules[5].Comment), Is.EqualTo((TcpCheckMatch.RBinary, "plus")));
    }

    [Test]
    public void TcpCheckConnect_Options()
    {
        // Not beside `haproxy -c`: HAProxy wants `verify none` or a CA file on the server line for `connect ssl`.
        var r = Parse(Backend(
            "    option tcp-check",
            "    tcp-check connect port 6380 send-proxy",
            "    tcp-check expect string OK",
            "    tcp-check connect addr 127.0.0.2 port 8443 ssl sni db.example alpn h2,http/1.1 linger comment tls"));
        Assert.That(r.Warnings.Select(w => w.ToString()), Has.Some.Contains(":8").And.Contains("does not verify the server's certificate"));
        var c = ParseValid(Backend(
            "    option tcp-check",
            "    tcp-check connect port 6380 send-proxy",
            "    tcp-check expect string OK",
            "    tcp-check connect addr 127.0.0.2 port 8443 ssl sni db.example alpn h2,http/1.1 linger comment tls")).Backends[0].TcpCheck!;
        var first = c.Rules[0];
        Assert.That((first.Implicit, first.Port, first.SendProxy, first.Ssl), Is.EqualTo((false, (int?)6380, true, false)));
        var second = c.Rules[2];
        Assert.That((second.Address, second.Port, second.Ssl, second.Sni, second.Alpn, second.Comment),
            Is.EqualTo((IPAddress.Parse("127.0.0.2"), (int?)8443, true, "db.example", "h2,http/1.1", "tls")));
    }

    [Test]
    public void TcpCheckRules_InheritedFromDefaults_AndReplacedByTheProxysOwn()
    {
        var text = Lines(
            "defaults",
            "    mode tcp",
            "    option tcp-check",
            "    tcp-check send A\\r\\n",
            "backend inherits",
            "    server s1 127.0.0.1:1 check",
            "backend own",
            "    tcp-check send B\\r\\n",
            "    server s1 127.0.0.1:1 check");
        HaproxyAccepts(text);
        var config = ParseValid(text);
        Assert.That(config.Backends[0].TcpCheck!.Rules[1].Data, Is.EqualTo("A\r\n"u8.ToArray()));
        Assert.That(config.Backends[1].TcpCheck!.Rules[1].Data, Is.EqualTo("B\r\n"u8.ToArray()));
    }

    [Test]
    public void LastCheckOptionWins_AsHAProxy()
    {
        var text = Backend("    option httpchk GET /", "    option redis-check");
        var be = ParseValid(text).Backends[0];
        Assert.That((be.HttpCheck, be.TcpCheck!.Name), Is.EqualTo(((HttpCheckSettings?)null, "redis-check")));
        be = ParseValid(Backend("    option redis-check", "    option httpchk GET /")).Backends[0];
        Assert.That((be.HttpCheck is null, be.TcpCheck), Is.EqualTo((false, (TcpCheckSettings?)null)));
    }

    [Test]
    public void TcpCheckRules_WithoutOption_Warn()
    {
        var r = Parse(Backend("    tcp-check send PING\\r\\n"));
        Assert.That(r.Errors, Is.Empty);
        Assert.That(r.Warnings.Select(w => w.ToString()), Has.Some.Contains(":5").And.Contains("without 'option tcp-check'"));
        Assert.That(ParseValid(Backend("    tcp-check send PING\\r\\n")).Backends[0].TcpCheck, Is.Null);
    }

    [TestCase("    tcp-check send-binary 0G", "invalid binary string")]
    [TestCase("    tcp-check send-binary ABC", "invalid binary string")]
    [TestCase("    tcp-check expect rstring (", "invalid regular expression")]
    [TestCase("    tcp-check expect string", "needs a value")]
    [TestCase("    tcp-check expect min-recv 4", "missing the pattern")]
    [TestCase("    tcp-check expect ok-status L7STS string x", "is not a status for it")]
    [TestCase("    tcp-check expect on-error %[res.payload(0,0)] string x", "log-format expressions are not supported yet")]
    [TestCase("    tcp-check send-lf %[date]", "'tcp-check send-lf' is not supported yet")]
    [TestCase("    tcp-check bogus", "unknown action")]
    [TestCase("    tcp-check connect port 0", "tcp-check connect port")]
    [TestCase("    tcp-check connect via-socks4", "not supported yet")]
    [TestCase("    option pgsql-check", "option pgsql-check user USERNAME")]
    [TestCase("    option mysql-check user u post-42", "expected post-41 or pre-41")]
    [TestCase("    option redis-check now", "takes no argument")]
    [TestCase("    no option tcp-check", "negation is not supported")]
    public void TcpCheckErrors_NameTheLineAndKeyword(string line, string expected)
    {
        var errors = ParseErrors(Backend("    option tcp-check", line));
        Assert.That(errors, Has.Some.Contains(":6").And.Contains(expected), string.Join("\n", errors));
    }

    [Test]
    public void ConnectAfterSend_IsRefused_AsHAProxy()
    {
        var errors = ParseErrors(Backend("    option tcp-check", "    tcp-check send A", "    tcp-check connect"));
        Assert.That(errors, Has.Some.Contains(":7").And.Contains("first step MUST also be a 'connect'"));
    }

    [Test]
    public void RedisCheck_SendsPing_ExpectsPong()
    {
        var c = Check("    option redis-check");
        Assert.That(c.Rules[1].Data, Is.EqualTo("*1\r\n$4\r\nPING\r\n"u8.ToArray()));
        Assert.That((c.Rules[2].Bytes, c.Rules[2].ErrorStatus, c.Rules[2].OnSuccess),
            Is.EqualTo(("+PONG\r\n"u8.ToArray(), (CheckStatusCode?)CheckStatusCode.L7Sts, "Redis server is ok")));
    }

    [Test]
    public void PgsqlCheck_StartupMessage_AsHAProxy()
    {
        var c = Check("    option pgsql-check user haproxy");
        // length (15 + 7), protocol 3.0, "user\0haproxy\0\0"
        Assert.That(Convert.ToHexString(c.Rules[1].Data!), Is.EqualTo("00000016" + "00030000" + "7573657200" + Convert.ToHexString("haproxy"u8) + "00" + "00"));
        Assert.That((c.Rules[2].Negate, c.Rules[2].Pattern, c.Rules[3].Pattern), Is.EqualTo((true, "^E", "^52000000(08|0A|0C)000000(00|02|03|04|05|06)")));
    }

    [Test]
    public void MySqlCheck_Forms()
    {
        Assert.That(Check("    option mysql-check").Rules.Select(r => r.Match).Skip(1), Is.EqualTo(new[] { TcpCheckMatch.MySqlHandshake }));
        var post41 = Check("    option mysql-check user haproxy").Rules[1].Data!;
        // 3-byte length (7 + 27 + 7) and sequence 1, then capabilities, max packet, charset, 23 zero bytes, the user.
        Assert.That(Convert.ToHexString(post41[..4]), Is.EqualTo("29000001"));
        Assert.That(Convert.ToHexString(post41[4..13]), Is.EqualTo("008200000080000121"));
        Assert.That(Encoding.ASCII.GetString(post41, 36, 7), Is.EqualTo("haproxy"));
        Assert.That(Convert.ToHexString(post41[^7..]), Is.EqualTo("00000100000001"));
        var pre41 = Check("    option mysql-check user haproxy pre-41").Rules[1].Data!;
        Assert.That(Convert.ToHexString(pre41[..9]), Is.EqualTo("0E000001" + "0080" + "000001"));
    }

    [Test]
    public void SmtpchkLdapSslHello_AsHAProxy()
    {
        var smtp = Check("    option smtpchk EHLO mail.example");
        Assert.That(smtp.Rules.Select(r => r.Action), Is.EqualTo(new[]
            { TcpCheckAction.Connect, TcpCheckAction.Expect, TcpCheckAction.Expect, TcpCheckAction.Send, TcpCheckAction.Expect }));
        Assert.That(smtp.Rules[3].Data, Is.EqualTo("EHLO mail.example\r\n"u8.ToArray()));
        Assert.That(Check("    option smtpchk").Rules[3].Data, Is.EqualTo("HELO localhost\r\n"u8.ToArray()));
        Assert.That(Convert.ToHexString(Check("    option ldap-check").Rules[1].Data!), Is.EqualTo("300C020101600702010304008000"));
        var hello = Check("    option ssl-hello-chk").Rules;
        Assert.That(hello[1].Data!.Length, Is.EqualTo(5 + 0x79), "the record header and 0x79 bytes");
        Assert.That((hello[1].StampUnixTime, hello[2].OkStatus, hello[2].ErrorStatus, hello[2].TimeoutStatus),
            Is.EqualTo((true, (CheckStatusCode?)CheckStatusCode.L6Ok, (CheckStatusCode?)CheckStatusCode.L6Rsp, (CheckStatusCode?)CheckStatusCode.L6Tout)));
    }
}
