using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Tables;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`stick-table`, `peers`, track-sc and the stick actions and fetches (doc/configuration.txt 4.2, 7.3.3).</summary>
[TestFixture]
public sealed class StickTableKeywordTests
{
    private static string Http(params string[] frontendLines) => Lines(
        [
            "defaults", "  mode http", "  timeout connect 1s", "  timeout client 1s", "  timeout server 1s",
            "frontend fe", "  bind 127.0.0.1:8080", .. frontendLines.Select(l => "  " + l), "  default_backend be",
            "backend be", "  server s 127.0.0.1:8081",
        ]);

    [Test]
    public void StickTable_Parsed_StoreInHaproxyOrder()
    {
        var config = ParseValid(Http("stick-table type ip size 100k expire 30s nopurge store http_req_rate(10s),gpc0,conn_cur,gpc(2)"));
        var t = config.Tables.Single();
        Assert.That((t.Name, t.KeyType, t.KeyLength, t.Size, t.ExpireMs, t.NoPurge), Is.EqualTo(("fe", StickKeyType.Ip, 4, 102400, 30000L, true)));
        Assert.That(t.Store.Select(s => s.ToString()), Is.EqualTo(new[] { "gpc0", "conn_cur", "http_req_rate(10000)", "gpc(2)" }));
    }

    [TestCase("stick-table type string len 64 size 10", StickKeyType.String, 64)]
    [TestCase("stick-table type binary size 10", StickKeyType.Binary, 32)]
    [TestCase("stick-table type ipv6 size 10", StickKeyType.Ipv6, 16)]
    [TestCase("stick-table type integer size 10", StickKeyType.Integer, 4)]
    public void StickTable_KeyTypes(string line, StickKeyType type, int length)
    {
        var t = ParseValid(Http(line)).Tables.Single();
        Assert.That((t.KeyType, t.KeyLength), Is.EqualTo((type, length)));
    }

    [TestCase("stick-table type ip", "missing 'size'")]
    [TestCase("stick-table size 10", "missing 'type'")]
    [TestCase("stick-table type foo size 10", "unknown type 'foo'")]
    [TestCase("stick-table type ip size 10 store nothing", "unknown data type 'nothing'")]
    [TestCase("stick-table type ip size 10 store http_req_rate", "needs a period")]
    [TestCase("stick-table type ip size 10 store gpc0,gpc0", "stored twice")]
    [TestCase("stick-table type ip size 2000m store gpc(100)", "MiB of shared memory, more than this machine's")]
    [TestCase("stick-table type ip size 10 peers nowhere", "no peers section named 'nowhere'")]
    [TestCase("http-request track-sc0 src table nope", "no stick table named 'nope'")]
    [TestCase("http-request track-sc3 src", "not supported yet")]
    [TestCase("http-request sc-inc-gpc0(5)", "the counter must be 0, 1 or 2")]
    public void StickTable_Errors_NameTheLine(string line, string message)
    {
        var errors = ParseErrors(Http(line));
        Assert.That(errors, Has.Some.Contains(message).And.Some.StartsWith("test.cfg:8:"), string.Join("\n", errors));
    }

    [Test]
    public void TrackAndActions_Parsed()
    {
        var config = ParseValid(Http(
            "stick-table type ip size 10 store gpc0,gpt0,http_req_rate(10s),conn_cur",
            "tcp-request connection track-sc1 src",
            "tcp-request connection reject if { sc1_conn_cur gt 10 }",
            "http-request track-sc0 src table fe",
            "http-request sc-inc-gpc0(0)",
            "http-request sc-set-gpt0(0) 5",
            "http-request deny deny_status 429 if { sc_http_req_rate(0) gt 10 } || { src_conn_rate ge 100 } || { src,table_gpc0(fe) gt 3 }",
            "http-request deny if { table_avl lt 1 } || { table_cnt(fe) gt 5 }"));
        var fe = config.Frontends.Single();
        Assert.That(fe.TcpConnectionRules[0].Track!.Counter, Is.EqualTo(1));
        var actions = fe.Http.RequestActions;
        Assert.That(actions[0].Track!.Table, Is.EqualTo("fe"));
        Assert.That(actions[1].Sticky!.Kind, Is.EqualTo(StickActionKind.IncGpc0));
        Assert.That(actions[2].Sticky!.Value, Is.EqualTo(5));
    }

    [Test]
    public void TcpConnectionTrack_Layer7Key_IsAnError()
    {
        var errors = ParseErrors(Http("stick-table type string size 10", "tcp-request connection track-sc0 path"));
        Assert.That(errors, Has.Some.Contains("needs the request"));
    }

    [Test]
    public void PeersSection_Accepted_RemotePeerWarns()
    {
        var result = Parse(Lines("peers mypeers", "  peer other 10.0.0.2:10000") + Http("stick-table type ip size 10 peers mypeers"));
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Warnings.Select(w => w.Message), Has.Some.Contains("no entries are exchanged with remote peers"));
    }

    [Test]
    public void Layout_BytesPerEntry_AsTheReadmeSays()
    {
        var t = ParseValid(Http("stick-table type ip size 10 store conn_cur,conn_rate(3s),http_req_rate(10s),gpc0")).Tables.Single();
        Assert.That(new StickTableLayout(t, columns: 4).EntrySize, Is.EqualTo(112));
    }
}
