using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// `userlist` sections (doc/configuration.txt 3.4), `http_auth(L)`, `http_auth_group(L)` and `http-request auth`
/// parsed: the model, what HAProxy 2.6 refuses, and the hash check against libxcrypt. Hashes from `openssl passwd`.
/// </summary>
public sealed class UserListKeywordTests
{
    internal const string Sha512 = "$6$saltsalt$LMtDgChSrV.wGnnrAr7LXtxT9OYdesYYRBi0J7VAO0UoNpOTX5uxqMPmQ0Gkk2HMqd/t1jYDOamm5q1ro0ZhX/";  // secret6
    internal const string Sha256 = "$5$saltsalt$708Qd1GA5FblAgceNooXo6mCmXw7DIUSz5IHtzs/2E6";  // secret5
    internal const string Md5 = "$1$saltsalt$2HM3oGhH6VPi/5dxZ798f/";  // secret1

    private static string Frontend(string rules) => Lines(
        "frontend fe",
        "    mode http",
        "    bind :80",
        rules,
        "    default_backend be",
        "backend be",
        "    mode http",
        "    server s 127.0.0.1:81");

    [Test]
    public void Userlist_UsersAndGroupsFromBothSides_AreMergedPerUser_AndCarriedByTheFetch()
    {
        var config = ParseValid(Lines(
            "userlist L",
            "    group admins users alice",
            "    group ops",
            $"    user alice password '{Sha512}' groups ops",
            "    user bob insecure-password builder groups ops,admins",
            "    user carol insecure-password c") + Frontend("    acl ok http_auth_group(L) admins\n    http-request auth realm Admin unless ok"));
        var acl = config.Frontends[0].Http.RequestActions[0].Condition!.AnyOf[0][0].Acls[0];
        var list = acl.Expr.Fetch.UserList!;
        Assert.That(list.Name, Is.EqualTo("L"));
        Assert.That(list.Users.Select(u => (u.Name, u.Insecure, string.Join(",", u.Groups))),
            Is.EqualTo(new[] { ("alice", false, "ops,admins"), ("bob", true, "ops,admins"), ("carol", true, "") }));
        Assert.That(config.Frontends[0].Http.RequestActions[0].Kind, Is.EqualTo(HttpRequestActionKind.Auth));
        Assert.That(config.Frontends[0].Http.RequestActions[0].Realm, Is.EqualTo("Admin"));
    }

    [Test]
    public void HttpAuth_MayNameAUserlistWrittenBelow_AsHaproxyResolvesItAfterParsing()
    {
        var config = ParseValid(Frontend("    http-request auth unless { http_auth(later) }") + Lines(
            "userlist later",
            $"    user u password '{Sha256}'",
            $"    user v password '{Md5}'"));
        var action = config.Frontends[0].Http.RequestActions[0];
        Assert.That(action.Realm, Is.Null, "no realm: the worker uses the proxy's name");
        Assert.That(action.Condition!.AnyOf[0][0].Acls[0].Expr.Fetch.UserList!.Users, Has.Count.EqualTo(2));
    }

    [TestCase("    http-request auth unless { http_auth(nope) }", "test.cfg:4: 'http-request': fetch method 'http_auth' expects the name of a userlist, and there is no 'userlist nope'")]
    [TestCase("    http-request auth realm", "test.cfg:4: 'http-request auth': expected 'http-request auth [realm REALM] [if|unless COND]'")]
    [TestCase("    http-request auth realm a b", "test.cfg:4: 'http-request auth': expected 'http-request auth [realm REALM] [if|unless COND]'")]
    [TestCase("    http-request auth realm 'a\"b'", "test.cfg:4: 'http-request auth': the realm must not contain a double quote, CR, LF or NUL")]
    public void AuthRules_Refused(string rule, string error)
    {
        var errors = ParseErrors(Lines("userlist L", "    user u insecure-password p") + Frontend(rule));
        Assert.That(errors, Has.Some.StartsWith(error.Replace("test.cfg:4", "test.cfg:6")), string.Join("\n", errors));
    }

    [TestCase("    user u password 'notahash!'", "test.cfg:2: 'user u' in userlist 'L': the password hash 'notahash!' cannot be used: its format is not supported by crypt(3)")]
    [TestCase("    user u", "test.cfg:2: 'user u': missing 'password HASH' or 'insecure-password PASSWORD'")]
    [TestCase("    user u insecure-password a password b", "test.cfg:2: 'user u': only one of 'password' and 'insecure-password'")]
    [TestCase("    user u insecure-password a groups nobody", "test.cfg:2: 'user u': no group 'nobody' in userlist 'L'")]
    [TestCase("    group g users ghost", "test.cfg:2: 'group g': no user 'ghost' in userlist 'L'")]
    [TestCase("    user u insecure-password a\n    user u insecure-password b", "test.cfg:3: 'user': userlist 'L' already has a user 'u'")]
    [TestCase("    group g\n    group g", "test.cfg:3: 'group': userlist 'L' already has a group 'g'")]
    [TestCase("    server s 127.0.0.1:80", "test.cfg:2: 'server' is not a userlist keyword (expected 'user' or 'group')")]
    public void UserlistLines_Refused(string body, string error)
    {
        var errors = ParseErrors(Lines("userlist L", body));
        Assert.That(errors, Has.Some.StartsWith(error), string.Join("\n", errors));
    }

    [Test]
    public void DuplicateUserlist_IsAWarning_AndTheFirstOneIsKept()
    {
        var result = Parse(Lines("userlist L", "    user a insecure-password x", "userlist L", "    user b insecure-password y")
            + Frontend("    http-request auth unless { http_auth(L) }"));
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Some.StartsWith("test.cfg:3: 'userlist L': a userlist of that name exists at line 1"));
        var list = result.Config!.Frontends[0].Http.RequestActions[0].Condition!.AnyOf[0][0].Acls[0].Expr.Fetch.UserList!;
        Assert.That(list.Users.Single().Name, Is.EqualTo("a"));
    }

    [Test]
    public void UserlistModel_SurvivesTheWorkerInitTransfer()
    {
        var config = ParseValid(Lines("userlist L", $"    user a password '{Sha512}' groups g", "    group g") + Frontend("    http-request auth unless { http_auth_group(L) g }"));
        var init = new Proxy.Shared.Control.WorkerInit(0, 1, [0], config, [], "/board", 1, [], RunsHealthChecks: false, DownServers: []);
        var ctx = Proxy.Shared.Control.ControlJsonContext.Default.WorkerInit;
        var back = System.Text.Json.JsonSerializer.Deserialize(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(init, ctx), ctx)!.Config;
        var user = back.Frontends[0].Http.RequestActions[0].Condition!.AnyOf[0][0].Acls[0].Expr.Fetch.UserList!.Users[0];
        Assert.That((user.Name, user.Password, user.Insecure, user.Groups.Single()), Is.EqualTo(("a", Sha512, false, "g")));
    }
}
