using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Tables;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`stick on|match|store-request|store-response` (doc/configuration.txt 4.2 "stick match" and the others).</summary>
[TestFixture]
public sealed class StickRuleKeywordTests
{
    private static string Backend(params string[] backendLines) => Lines(
        [
            "defaults", "  mode tcp", "  timeout connect 1s", "  timeout client 1s", "  timeout server 1s",
            "frontend fe", "  bind 127.0.0.1:8080", "  default_backend be",
            "backend be", .. backendLines.Select(l => "  " + l), "  server s1 127.0.0.1:8081", "  server s2 127.0.0.1:8082",
        ]);

    [Test]
    public void StickRules_Parsed_TableStoresServerIdAndKey()
    {
        var config = ParseValid(Backend("stick-table type ip size 10 store conn_cur", "stick on src",
            "stick match req.payload(0,4) table be if { src 127.0.0.1 }", "stick store-request dst", "stick store-response src"));
        var rules = config.Backends.Single().StickRules;
        Assert.That(rules.Select(r => (r.Kind, r.Table, r.Condition is not null)), Is.EqualTo(new[]
        {
            (StickRuleKind.On, "be", false), (StickRuleKind.Match, "be", true),
            (StickRuleKind.StoreRequest, "be", false), (StickRuleKind.StoreResponse, "be", false),
        }));
        // HAProxy allocates server_id and server_key for a table a stick rule uses, and prints them in its order.
        Assert.That(config.Tables.Single().Store.Select(s => s.ToString()), Is.EqualTo(new[] { "server_id", "conn_cur", "server_key" }));
    }

    [Test]
    public void StickRule_OtherTable_GetsServerId_TheBackendsOwnNotNeeded()
    {
        var config = ParseValid(Lines(
        [
            "defaults", "  mode tcp", "  timeout connect 1s", "  timeout client 1s", "  timeout server 1s",
            "frontend fe", "  bind 127.0.0.1:8080", "  default_backend be",
            "backend be", "  stick on src table sticky", "  server s1 127.0.0.1:8081",
            "backend sticky", "  stick-table type ip size 1 nopurge",
        ]));
        Assert.That(config.Tables.Single().Store.Select(s => s.Type), Is.EqualTo(new[] { StickDataType.ServerId, StickDataType.ServerKey }));
    }

    [TestCase("stick on src", "no stick table named 'be'")]
    [TestCase("stick", "expected 'on', 'match', 'store-request' or 'store-response'")]
    [TestCase("stick at src", "expected 'on', 'match', 'store-request' or 'store-response', got 'at'")]
    [TestCase("stick on", "missing the pattern")]
    [TestCase("stick match src table", "'table' needs a table name")]
    [TestCase("stick on src foo", "unexpected 'foo'")]
    [TestCase("stick on nosuchfetch", "stick on")]
    public void StickRule_Errors_NameTheLine(string line, string message)
    {
        var errors = ParseErrors(Backend(line));
        Assert.That(errors, Has.Some.Contains(message).And.Some.StartsWith("test.cfg:10:"), string.Join("\n", errors));
    }

    [Test]
    public void StickRule_InFrontend_IsIgnoredWithAWarning_AsHaproxy()
    {
        var result = Parse(Lines(
        [
            "defaults", "  mode tcp", "  timeout connect 1s", "  timeout client 1s", "  timeout server 1s",
            "frontend fe", "  bind 127.0.0.1:8080", "  stick-table type ip size 10", "  stick on src", "  default_backend be",
            "backend be", "  server s1 127.0.0.1:8081",
        ]));
        // HAProxy 2.6: "'stick' ignored because frontend 'fe' has no backend capability" (a warning).
        Assert.That(result.Errors, Is.Empty, string.Join("\n", result.Errors));
        var warnings = result.Warnings.Select(w => w.ToString()).ToList();
        Assert.That(warnings, Has.Some.StartsWith("test.cfg:9:").And.Some.Contains("stick"), string.Join("\n", warnings));
        Assert.That(result.Config!.Backends.Single().StickRules, Is.Empty);
    }
}
