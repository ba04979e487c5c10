using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>ACLs and http-request/http-response rules in named defaults sections (4.2 "http-request": "(!)").</summary>
public class RuleDefaultsTests
{
    // A proxy without `from` uses the last defaults section: the backend gets one without rules.
    private const string Backend = "defaults plain\n    mode http\nbackend be\n    server s 127.0.0.1:81\n";

    [Test]
    public void NamedDefaultsRules_InheritedFirst_AclsToo()
    {
        var fe = ParseValid("defaults rules\n    mode http\n    acl api path_beg /api\n    http-request set-header X-From defaults if api\n" +
            "    http-request deny if { path /forbidden }\nfrontend fe from rules\n    bind :80\n    http-request set-header X-From fe if api\n" +
            "    http-request deny deny_status 429 if { path /slow }\n    default_backend be\n" + Backend).Frontends[0];
        Assert.That(fe.Http.RequestRules.Select(r => r.Value), Is.EqualTo(new[] { "defaults", "fe" }));
        Assert.That(fe.Http.RequestActions.Select(a => a.Status), Is.EqualTo(new[] { 403, 429 }));
    }

    [Test]
    public void AnonymousDefaults_WithRules_IsAnError() =>
        Assert.That(ParseErrors("defaults\n    mode http\n    http-request deny\nfrontend fe\n    bind :80\n    default_backend be\n" + Backend),
            Is.EqualTo(new[] { "test.cfg:3: 'http-request' is only allowed in a named defaults section (defaults NAME), not an anonymous one" }));

    [Test]
    public void DefaultsWithRules_UsedByAFrontendAndABackend_IsAnError()
    {
        var errors = ParseErrors("defaults rules\n    mode http\n    http-request deny if { path /x }\nfrontend fe from rules\n    bind :80\n" +
            "    default_backend be\nbackend be from rules\n    server s 127.0.0.1:81\n");
        Assert.That(errors, Is.EqualTo(new[] { "test.cfg:7: 'backend be': defaults section 'rules' has http-request/http-response rules, so it cannot serve both frontends and backends (nor a listen section)" }));
    }
}
