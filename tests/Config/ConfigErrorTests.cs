using NUnit.Framework;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>Each kind of mistake is reported at its line, naming the keyword and what was expected.</summary>
public class ConfigErrorTests
{
    /// <summary>Parses `frontend f / bind :80 / default_backend b / backend b` plus <paramref name="line"/> in <paramref name="section"/>.</summary>
    private static string SingleErrorIn(string section, string line)
    {
        var text = section switch
        {
            "frontend" => Lines("backend b", "frontend f", "bind :80", "default_backend b", line),
            "backend" => Lines("frontend f", "bind :80", "default_backend b", "backend b", line),
            "listen" => Lines("listen l", "bind :80", line),
            _ => Lines("defaults", line),
        };
        var errors = ParseErrors(text);
        Assert.That(errors, Has.Count.EqualTo(1), string.Join("\n", errors));
        return errors[0];
    }

    [TestCase("backend", "timeout connect abc", "test.cfg:5: 'timeout connect': expected a time like 5s, got 'abc'")]
    [TestCase("backend", "timeout server 5x", "test.cfg:5: 'timeout server': expected a time like 5s, got '5x'")]
    [TestCase("backend", "timeout connect", "test.cfg:5: 'timeout connect': missing argument")]
    [TestCase("backend", "timeout bogus 5s", "test.cfg:5: 'timeout': unknown timeout 'bogus'")]
    [TestCase("backend", "timeout client-hs 5s", "test.cfg:5: 'timeout client-hs' is not supported yet")]
    [TestCase("defaults", "server s 10.0.0.1:80", "test.cfg:2: 'server' is not allowed in a defaults section")]
    [TestCase("defaults", "bind :81", "test.cfg:2: 'bind' is not allowed in a defaults section")]
    [TestCase("frontend", "daemon", "test.cfg:5: 'daemon' is not allowed in a frontend section (it is a global keyword)")]
    [TestCase("frontend", "mode udp", "test.cfg:5: 'mode': expected tcp or http, got 'udp'")]
    [TestCase("backend", "balance hash req.cookie(x)", "test.cfg:5: 'balance hash' is not supported yet")]
    [TestCase("backend", "balance fastest", "test.cfg:5: 'balance': unknown algorithm 'fastest'")]
    [TestCase("backend", "balance roundrobin extra", "test.cfg:5: 'balance': unexpected 'extra', expected 'balance roundrobin'")]
    [TestCase("backend", "retries many", "test.cfg:5: 'retries': expected an integer")]
    [TestCase("backend", "option spop-check", "test.cfg:5: 'option spop-check' is not supported yet")]
    [TestCase("backend", "option frobnicate", "test.cfg:5: 'option': unknown option 'frobnicate'")]
    [TestCase("backend", "no option frobnicate", "test.cfg:5: 'no option': unknown option 'frobnicate'")]
    [TestCase("frontend", "acl is_api path_beg /api", "test.cfg:5: 'acl' requires 'mode http'")]
    [TestCase("frontend", "tcp-request content set-priority-class int(1)", "test.cfg:5: 'tcp-request content set-priority-class' is not supported yet (only accept, reject, capture, set-var, set-var-fmt, unset-var, set-dst, set-dst-port and track-sc0..2)")]
    [TestCase("frontend", "http-request deny", "test.cfg:5: 'http-request' requires 'mode http' (frontend 'f' is in tcp mode)")]
    [TestCase("frontend", "frobnicate", "test.cfg:5: unknown keyword 'frobnicate' in a frontend section")]
    [TestCase("frontend", "bind :81 nice 10", "test.cfg:5: 'bind': option 'nice' is not supported yet")]
    [TestCase("frontend", "bind :81 shiny", "test.cfg:5: 'bind': unknown option 'shiny'")]
    [TestCase("frontend", "bind :70000", "test.cfg:5: 'bind': invalid port 70000")]
    [TestCase("frontend", "bind :0", "test.cfg:5: 'bind': invalid port 0")]
    [TestCase("frontend", "bind 10.0.0.1", "test.cfg:5: 'bind': missing port in '10.0.0.1'")]
    [TestCase("frontend", "bind :http", "test.cfg:5: 'bind': expected a port number, got 'http'")]
    [TestCase("frontend", "bind :9002-9000", "test.cfg:5: 'bind': invalid port range 9002-9000")]
    [TestCase("frontend", "bind 300.1.1.1:80", "test.cfg:5: 'bind': invalid address '300.1.1.1'")]
    [TestCase("frontend", "bind unix@", "test.cfg:5: 'bind': missing the socket path in 'unix@'")]
    [TestCase("frontend", "bind abnsz@x", "test.cfg:5: 'bind': 'abnsz@' addresses are not supported yet")]
    [TestCase("frontend", "bind unix@/run/x.sock mode 999", "test.cfg:5: 'bind': 'mode' expects an octal permission like 660, got '999'")]
    [TestCase("frontend", "bind fd@x", "test.cfg:5: 'bind': expected a file descriptor number after 'fd@'")]
    [TestCase("frontend", "bind ipv4@[::1]:80", "test.cfg:5: 'bind': '::1' is not an IPv4 address")]
    [TestCase("frontend", "bind", "test.cfg:5: 'bind': missing address")]
    [TestCase("backend", "server s nowhere.invalid:80", "test.cfg:5: 'server': cannot resolve host name 'nowhere.invalid'")]
    [TestCase("backend", "server s 10.0.0.1 check", "test.cfg:5: 'server s': server has neither service port nor check port")]
    [TestCase("backend", "server s unix@/run/app.sock check", "test.cfg:5: 'server s': health checks of a UNIX socket server are not supported yet")]
    [TestCase("backend", "server s 10.0.0.1:99999", "test.cfg:5: 'server': invalid port 99999")]
    [TestCase("backend", "server s 10.0.0.1:+x", "test.cfg:5: 'server': expected a port offset +N or -N (0-65535), got '+x'")]
    [TestCase("backend", "server s *:80", "test.cfg:5: 'server': expected a destination address")]
    [TestCase("backend", "server s", "test.cfg:5: 'server': missing argument")]
    [TestCase("backend", "server s/1 10.0.0.1:80", "test.cfg:5: 'server': invalid name 's/1'")]
    [TestCase("backend", "server s 10.0.0.1:80 weight 257", "test.cfg:5: 'server weight': expected an integer between 0 and 256, got '257'")]
    [TestCase("backend", "server s 10.0.0.1:80 weight", "test.cfg:5: 'server': option 'weight' needs a value")]
    [TestCase("backend", "server s 10.0.0.1:80 inter never", "test.cfg:5: 'server inter': expected a time like 5s, got 'never'")]
    [TestCase("backend", "server s 10.0.0.1:80 inter 0", "test.cfg:5: 'server inter': the interval must be above zero")]
    [TestCase("backend", "server s 10.0.0.1:80 rise 0", "test.cfg:5: 'server rise': expected an integer between 1")]
    [TestCase("backend", "server s 10.0.0.1:80 tfo", "test.cfg:5: 'server': option 'tfo' is not supported yet")]
    [TestCase("backend", "server s 10.0.0.1:80 turbo", "test.cfg:5: 'server': unknown option 'turbo'")]
    [TestCase("backend", "default-server weight -1", "test.cfg:5: 'default-server weight': expected an integer between 0 and 256, got '-1'")]
    [TestCase("listen", "maxconn x", "test.cfg:3: 'maxconn': expected an integer")]
    [TestCase("defaults", "log 127.0.0.1:514", "test.cfg:2: 'log': missing argument")]
    [TestCase("defaults", "no log now", "test.cfg:2: 'no log': unexpected 'now'")]
    public void Parse_BadProxyLine_ReportsLineKeywordAndExpectation(string section, string line, string expected)
    {
        Assert.That(SingleErrorIn(section, line), Does.StartWith(expected));
    }

    [Test]
    public void Parse_DuplicateBackends_IsAnErrorAtTheSecond()
    {
        var errors = ParseErrors(Lines("backend b", "backend b"));
        Assert.That(errors.Single(), Is.EqualTo("test.cfg:2: 'backend': the name 'b' is already used by the backend at line 1"));
    }

    [TestCase("frontend", "frontend")]
    [TestCase("listen", "backend")]
    [TestCase("frontend", "listen")]
    public void Parse_ProxiesSharingACapabilityAndName_IsAnError(string first, string second)
    {
        var errors = ParseErrors(Lines($"{first} x", "bind :80", $"{second} x", "bind :81"));
        Assert.That(errors, Has.Some.StartWith("test.cfg:3: ").And.Contains("the name 'x' is already used"));
    }

    [Test]
    public void Parse_DuplicateServerNames_IsAnError()
    {
        var errors = ParseErrors(Lines("backend b", "server s 10.0.0.1:80", "server s 10.0.0.2:80"));
        Assert.That(errors.Single(), Is.EqualTo("test.cfg:3: 'server': backend 'b' already has a server named 's' at line 2"));
    }

    [Test]
    public void Parse_DefaultBackendMissing_IsAnErrorAtItsLine()
    {
        var errors = ParseErrors(Lines("frontend f", "bind :80", "default_backend nope", "backend b"));
        Assert.That(errors.Single(), Is.EqualTo("test.cfg:3: 'default_backend': no backend named 'nope' (used by frontend 'f')"));
    }

    [Test]
    public void Parse_DefaultBackendNamingAFrontend_IsAnError()
    {
        var errors = ParseErrors(Lines("frontend f", "bind :80", "default_backend g", "frontend g", "bind :81", "default_backend f"));
        Assert.That(errors, Has.Count.EqualTo(2));
        Assert.That(errors[0], Does.StartWith("test.cfg:3: 'default_backend': no backend named 'g'"));
    }

    [Test]
    public void Parse_FrontendWithoutBind_IsAWarning()
    {
        // HAProxy 2.6: "frontend 'f' has no 'bind' directive. Please declare it as a backend if this was intended."
        var result = Parse(Lines("backend b", "frontend f", "default_backend b"));
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.StartsWith("test.cfg:2: frontend 'f' has no 'bind' directive"));
    }

    [Test]
    public void Parse_ModeMismatch_IsAnErrorAtDefaultBackend()
    {
        var errors = ParseErrors(Lines("frontend f", "mode http", "bind :80", "default_backend b", "backend b", "mode tcp"));
        Assert.That(errors.Single(), Is.EqualTo("test.cfg:4: 'default_backend': frontend 'f' is in http mode but backend 'b' is in tcp mode"));
    }

    [Test]
    public void Parse_SameAddressBoundTwice_IsAnError()
    {
        var errors = ParseErrors(Lines("frontend f", "bind :80", "frontend g", "bind *:80"));
        Assert.That(errors.Single(), Is.EqualTo("test.cfg:4: 'bind': 0.0.0.0:80 is already bound by frontend 'f' at line 2"));
    }

    [Test]
    public void Parse_UnknownFromDefaults_IsAnError()
    {
        var errors = ParseErrors(Lines("backend b from nothing"));
        Assert.That(errors.Single(), Is.EqualTo("test.cfg:1: 'backend': no defaults section named 'nothing' before this line"));
    }

    [Test]
    public void Parse_DuplicateNamedDefaults_IsAnError()
    {
        Assert.That(ParseErrors(Lines("defaults d", "defaults d")).Single(), Does.StartWith("test.cfg:2: 'defaults': a defaults section named 'd' already exists"));
    }

    [TestCase("frontend", "test.cfg:1: 'frontend': missing the frontend name")]
    [TestCase("backend a b", "test.cfg:1: 'backend': unexpected 'b'")]
    [TestCase("listen a/b", "test.cfg:1: 'listen': invalid character '/' in name 'a/b'")]
    [TestCase("global extra", "test.cfg:1: 'global' takes no argument, got 'extra'")]
    [TestCase("userlist", "test.cfg:1: 'userlist': missing the userlist name")]
    [TestCase("maxconn 10", "test.cfg:1: 'maxconn' is outside of any section")]
    public void Parse_BadSectionHeader_ReportsIt(string line, string expected)
    {
        Assert.That(ParseErrors(Lines(line)).First(), Does.StartWith(expected));
    }

    [Test]
    public void Parse_UnsupportedSectionBody_IsSkippedAfterOneError()
    {
        var errors = ParseErrors(Lines("cache c", "total-max-size 4", "backend b"));
        Assert.That(errors.Single(), Does.StartWith("test.cfg:1: 'cache' sections are not supported yet"));
    }

    [Test]
    public void Parse_UndefinedEnvironmentVariable_NamesIt()
    {
        var errors = ParseErrors(Lines("frontend f", "bind \":${PORT}\""));
        Assert.That(errors.Single(), Is.EqualTo("test.cfg:2: environment variable 'PORT' is not defined"));
    }

    [Test]
    public void Parse_ManyMistakes_AreAllReported()
    {
        var text = Lines(
            "global",                                  // 1
            "    maxconn lots",                        // 2
            "    nbproc -1",                           // 3
            "defaults",                                // 4
            "    timeout connect abc",                 // 5
            "    mode ftp",                            // 6
            "frontend web",                            // 7
            "    bind :70000",                         // 8
            "    default_backend missing",             // 9
            "    option frobnicate",                   // 10
            "backend app",                             // 11
            "    server a 10.0.0.1:80 weight 300",     // 12
            "    server b 10.0.0.2:80",                // 13
            "    server b 10.0.0.3:80",                // 14
            "    acl x src 10.0.0.0/8",                // 15
            "backend app");                            // 16
        var errors = ParseErrors(text);
        var lines = errors.Select(e => int.Parse(e.Split(':')[1])).ToList();
        Assert.That(lines, Is.EquivalentTo(new[] { 2, 3, 5, 6, 8, 9, 10, 12, 14, 15, 16 }), string.Join("\n", errors));
    }

    [Test]
    public void Parse_LinesAfterAnError_AreStillChecked()
    {
        var errors = ParseErrors(Lines("backend b", "server a \"unterminated", "retries x"));
        Assert.That(errors, Has.Count.EqualTo(2));
        Assert.That(errors[1], Does.StartWith("test.cfg:3: 'retries'"));
    }
}
