using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Http;
using static Proxy.Tests.Http.HttpTestHelper;

namespace Proxy.Tests.Worker;

/// <summary>A proxy's compiled `stats` page: the URI prefix, Basic credentials (RFC 7617) and the `;` options.</summary>
public class StatsPageRuntimeTests
{
    private static StatsPageRuntime Page(params StatsUser[] users) =>
        new(new StatsPageConfig("/stats", "Ops", users, null, null, []));

    private static HttpHead Request(string headers)
    {
        var head = new HttpHead();
        Assert.That(ParseRequest(head, $"GET /stats HTTP/1.1\r\nHost: x\r\n{headers}\r\n"), Is.EqualTo(HttpParseStatus.Complete));
        return head;
    }

    [TestCase("/stats", true)]
    [TestCase("/stats;csv;up", true)]
    [TestCase("/stats?x=1", true)]
    [TestCase("/stat", false)]
    [TestCase("/other/stats", false)]
    public void Uri_IsAPrefix(string target, bool matches)
    {
        Assert.That(Page().Matches(B(target)), Is.EqualTo(matches));
    }

    [Test]
    public void Authorization_NeedsOneOfTheUsers()
    {
        var page = Page(new StatsUser("admin", "pw"), new StatsUser("ops", "a:b"));
        string Basic(string credentials) => "Authorization: Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials)) + "\r\n";
        Assert.Multiple(() =>
        {
            Assert.That(page.Authorized(Request(Basic("admin:pw"))), Is.True);
            Assert.That(page.Authorized(Request(Basic("ops:a:b"))), Is.True, "the password may hold a colon");
            Assert.That(page.Authorized(Request(Basic("admin:PW"))), Is.False);
            Assert.That(page.Authorized(Request("")), Is.False);
            Assert.That(page.Authorized(Request("Authorization: Bearer abc\r\n")), Is.False);
            Assert.That(Page().Authorized(Request("")), Is.True, "no stats auth: no authentication");
        });
        Assert.That(S(page.Unauthorized), Does.StartWith("HTTP/1.1 401 Unauthorized\r\n").And.Contain("WWW-Authenticate: Basic realm=\"Ops\"\r\n"));
    }

    [Test]
    public void Options_AreReadAnywhereAfterThePrefix()
    {
        var o = StatsRequestOptions.Parse(B(";up;csv;worker=2;st=DONE"));
        Assert.That(o, Is.EqualTo(new StatsRequestOptions(Csv: true, Json: false, UpOnly: true, NoRefresh: false, Worker: 2, ActionStatus: "DONE")));
        Assert.That(StatsRequestOptions.Parse(B(";json;norefresh;worker=x")), Is.EqualTo(new StatsRequestOptions(false, true, false, true, null, null)));
    }
}
