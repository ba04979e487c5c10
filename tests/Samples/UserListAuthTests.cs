using System.Diagnostics;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Interop;
using Proxy.Tests.Config;
using Proxy.Tests.Support;
using Proxy.Worker.Http;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Samples;

/// <summary>
/// `http_auth(L)` / `http_auth_group(L)` evaluated (3.4, 7.3.6): every crypt(3) format `openssl passwd` makes, checked by
/// libxcrypt; a verified token remembered so a keep-alive client's next request costs no hash and no allocation.
/// </summary>
public sealed class UserListAuthTests
{
    private static string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private static string Request(string? token) =>
        "GET / HTTP/1.1\r\nHost: x\r\n" + (token is null ? "" : $"Authorization: Basic {token}\r\n") + "\r\n";

    /// <summary>A hash made now by Debian's openssl (`openssl passwd -1|-5|-6`), so the test pins what operators paste.</summary>
    private static string OpensslPasswd(string flag, string password)
    {
        var r = ProcessRunner.Run("/usr/bin/openssl", ["passwd", flag, password]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        return r.All.Trim();
    }

    private static UserListRuntime Compile(params string[] users)
    {
        var config = ParseValid(Lines(["userlist L", .. users, "    group g", "frontend fe", "    mode http", "    bind :80",
            "    http-request auth unless { http_auth(L) }", "    default_backend be", "backend be", "    mode http", "    server s 127.0.0.1:81"]));
        return new UserListRuntime(config.Frontends[0].Http.RequestActions[0].Condition!.AnyOf[0][0].Acls[0].Expr.Fetch.UserList!);
    }

    [TestCase("-6", "$6$")]
    [TestCase("-5", "$5$")]
    [TestCase("-1", "$1$")]
    public void HashFromOpensslPasswd_VerifiesItsPassword_AndNoOther(string flag, string prefix)
    {
        string hash = OpensslPasswd(flag, "s3cret:with colon");
        Assert.That(hash, Does.StartWith(prefix));
        var users = Compile("    user alice insecure-password other", $"    user bob password '{hash}' groups g");
        using var right = new SampleTestContext(Request(Basic("bob", "s3cret:with colon")));
        using var wrong = new SampleTestContext(Request(Basic("bob", "s3cret:with colom")));
        using var other = new SampleTestContext(Request(Basic("alice", "s3cret:with colon")));
        Assert.That(users.Authenticate(right.Context.Request!), Is.EqualTo(1));
        Assert.That(users.Authenticate(wrong.Context.Request!), Is.EqualTo(-1));
        Assert.That(users.Authenticate(other.Context.Request!), Is.EqualTo(-1));
        Assert.That(Crypt.Verify("s3cret:with colon"u8, Encoding.ASCII.GetBytes(hash + "\0")), Is.True);
    }

    [TestCase(null)]
    [TestCase("not base64!")]
    [TestCase("Ym9i")]                 // "bob": no colon
    [TestCase("Z2hvc3Q6eA==")]         // "ghost:x": no such user
    public void MissingOrMalformedCredentials_AuthenticateNobody(string? token)
    {
        var users = Compile("    user bob insecure-password x");
        using var t = new SampleTestContext(Request(token));
        Assert.That(users.Authenticate(t.Context.Request!), Is.EqualTo(-1));
    }

    [Test]
    public void InsecurePassword_ComparedAsIs_AndSchemeIsCaseInsensitive()
    {
        var users = Compile("    user bob insecure-password builder");
        using var ok = new SampleTestContext($"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: bAsIc  {Basic("bob", "builder")}\r\n\r\n");
        using var bad = new SampleTestContext(Request(Basic("bob", "Builder")));
        Assert.That(users.Authenticate(ok.Context.Request!), Is.EqualTo(0));
        Assert.That(users.Authenticate(bad.Context.Request!), Is.EqualTo(-1));
    }

    [Test]
    public void VerifiedToken_IsRemembered_SoLaterRequestsSkipTheHash_AndAllocateNothing()
    {
        // 100000 rounds of SHA-512 crypt: tens of milliseconds per verification, against microseconds for a hit.
        string hash = ProcessRunner.Run("/usr/bin/openssl", ["passwd", "-6", "-salt", "rounds=100000$abcdefgh", "pw"]).All.Trim();
        Assert.That(hash, Does.StartWith("$6$rounds=100000$"));
        var users = Compile($"    user bob password '{hash}'");
        using var t = new SampleTestContext(Request(Basic("bob", "pw")));
        var request = t.Context.Request!;
        var first = Stopwatch.StartNew();
        Assert.That(users.Authenticate(request), Is.EqualTo(0));
        first.Stop();
        var hits = Stopwatch.StartNew();
        int verified = 0;
        for (int i = 0; i < 100; i++) verified += users.Authenticate(request) == 0 ? 1 : 0;
        hits.Stop();
        Assert.That(verified, Is.EqualTo(100));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) verified += users.Authenticate(request) == 0 ? 1 : 0;
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "a remembered token allocates nothing (warmed up)");
        Assert.That(hits.Elapsed, Is.LessThan(first.Elapsed), $"100 hits took {hits.Elapsed.TotalMilliseconds} ms, one hash {first.Elapsed.TotalMilliseconds} ms");
    }

    [Test]
    public void WrongPassword_IsNeverRemembered()
    {
        var users = Compile($"    user bob password '{UserListKeywordTests.Md5}'");
        using var wrong = new SampleTestContext(Request(Basic("bob", "nope")));
        using var right = new SampleTestContext(Request(Basic("bob", "secret1")));
        for (int i = 0; i < 3; i++) Assert.That(users.Authenticate(wrong.Context.Request!), Is.EqualTo(-1));
        Assert.That(users.Authenticate(right.Context.Request!), Is.EqualTo(0));
        Assert.That(users.Authenticate(wrong.Context.Request!), Is.EqualTo(-1));
    }

    [TestCase("alice", "a", "admins", true)]
    [TestCase("alice", "a", "ops", false)]
    [TestCase("bob", "b", "ops", true)]
    [TestCase("bob", "b", "admins ops", true)]
    [TestCase("bob", "wrong", "ops", false)]
    public void HttpAuthGroup_InAnAcl_MatchesTheUsersGroups(string user, string password, string groups, bool matches)
    {
        var config = ParseValid(Lines("userlist L", "    group admins users alice", "    group ops", "    user alice insecure-password a",
            "    user bob insecure-password b groups ops", "frontend fe", "    mode http", "    bind :80",
            $"    http-request deny if {{ http_auth_group(L) {groups} }}", "    default_backend be", "backend be", "    mode http", "    server s 127.0.0.1:81"));
        var condition = new CompiledCondition(config.Frontends[0].Http.RequestActions[0].Condition!);
        using var t = new SampleTestContext(Request(Basic(user, password)));
        Assert.That(condition.Evaluate(t.Context), Is.EqualTo(matches));
    }

    [Test]
    public void HttpAuthGroup_AsASample_IsTheUserName()
    {
        var config = ParseValid(Lines("userlist L", "    user alice insecure-password a", "frontend fe", "    mode http", "    bind :80",
            "    http-request set-header X-User %[http_auth_group(L)]", "    default_backend be", "backend be", "    mode http", "    server s 127.0.0.1:81"));
        var format = new Proxy.Worker.Logging.CompiledLogFormat(config.Frontends[0].Http.RequestRules[0].Format!);
        using var t = new SampleTestContext(Request(Basic("alice", "a")));
        var dest = new byte[64];
        int n = format.Render(t.Context, null, dest);
        Assert.That(Encoding.ASCII.GetString(dest, 0, n), Is.EqualTo("alice"));
    }

    [Test]
    public void AuthRule_AnswersHaproxys401_WithTheRealmOrTheProxyName()
    {
        var withRealm = new CompiledRequestAction(new HttpRequestAction(HttpRequestActionKind.Auth, 401, null, default) { Realm = "Admin area" }, "fe");
        var noRealm = new CompiledRequestAction(new HttpRequestAction(HttpRequestActionKind.Auth, 401, null, default), "fe");
        var text = Encoding.ASCII.GetString(withRealm.Response!);
        Assert.That(text, Does.StartWith("HTTP/1.1 401 Unauthorized\r\n"));
        Assert.That(text, Does.Contain("\r\nWWW-Authenticate: Basic realm=\"Admin area\"\r\n\r\n<html>"));
        Assert.That(Encoding.ASCII.GetString(noRealm.Response!), Does.Contain("WWW-Authenticate: Basic realm=\"fe\"\r\n"));
        var page = Encoding.ASCII.GetBytes("HTTP/1.1 401 Go away\r\nWWW-Authenticate: Digest x\r\nContent-Length: 2\r\n\r\nno");
        var custom = new CompiledRequestAction(new HttpRequestAction(HttpRequestActionKind.Auth, 401, null, default), "fe", new Dictionary<int, byte[]> { [401] = page });
        Assert.That(Encoding.ASCII.GetString(custom.Response!),
            Is.EqualTo("HTTP/1.1 401 Go away\r\nContent-Length: 2\r\nWWW-Authenticate: Basic realm=\"fe\"\r\n\r\nno"), "the errorfile, its challenge replaced");
    }
}
