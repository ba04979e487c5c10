using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>The `mode http` keywords: connection options, forwardfor, errorfile, header rules, ACLs and use_backend.</summary>
public class HttpKeywordTests
{
    private static string Http(params string[] frontendLines) => Lines(
        [
            "defaults",
            "    mode http",
            "    timeout connect 5s",
            "    timeout client 30s",
            "    timeout server 30s",
            "frontend web",
            "    bind 127.0.0.1:8080",
            .. frontendLines,
            "    default_backend app",
            "backend app",
            "    server s1 127.0.0.1:9001",
            "backend api",
            "    server s2 127.0.0.1:9002",
        ]);

    [Test]
    public void ConnectionOptions_LastOneWins_AndDefaultIsKeepAlive()
    {
        Assert.That(ParseValid(Http()).Frontends[0].Http.ConnectionMode, Is.EqualTo(HttpConnectionMode.KeepAlive));
        Assert.That(ParseValid(Http("    option httpclose")).Frontends[0].Http.ConnectionMode, Is.EqualTo(HttpConnectionMode.Close));
        Assert.That(ParseValid(Http("    option httpclose", "    option http-server-close")).Frontends[0].Http.ConnectionMode,
            Is.EqualTo(HttpConnectionMode.ServerClose));
        Assert.That(ParseValid(Http("    option http-server-close", "    no option http-server-close")).Frontends[0].Http.ConnectionMode,
            Is.EqualTo(HttpConnectionMode.KeepAlive));
    }

    [Test]
    public void ForwardFor_ExceptAndHeader_Parsed()
    {
        var ff = ParseValid(Http("    option forwardfor except 10.0.0.0/8 header X-Client")).Frontends[0].Http.ForwardFor;
        Assert.That(ff, Is.Not.Null);
        Assert.That(ff!.HeaderName, Is.EqualTo("X-Client"));
        Assert.That(ff.Except!.Value.ToString(), Is.EqualTo("10.0.0.0/8"));
        Assert.That(ParseValid(Http("    option forwardfor")).Frontends[0].Http.ForwardFor!.HeaderName, Is.EqualTo("X-Forwarded-For"));
    }

    [Test]
    public void ForwardFor_InDefaults_IsInherited()
    {
        var text = Http().Replace("    mode http\n", "    mode http\n    option forwardfor\n");
        Assert.That(ParseValid(text).Backends[0].Http.ForwardFor, Is.Not.Null);
    }

    [Test]
    public void UseBackend_WithAclsAndOperators_BuildsCondition()
    {
        var fe = ParseValid(Http(
            "    acl is_api path_beg /api /v2",
            "    acl is_api hdr_beg(host) -i api.",
            "    acl internal src 10.0.0.0/8 192.168.1.1",
            "    acl is_get method GET HEAD",
            "    use_backend api if is_api !internal || { path_end .json } is_get")).Frontends[0];
        var rule = fe.Http.UseBackends.Single();
        Assert.That(rule.Backend, Is.EqualTo("api"));
        Assert.That(rule.Condition.Unless, Is.False);
        Assert.That(rule.Condition.AnyOf, Has.Count.EqualTo(2));
        var first = rule.Condition.AnyOf[0];
        Assert.That(first[0].Acls, Has.Count.EqualTo(2), "two acl lines with one name are ORed");
        Assert.That(first[0].Acls[1].IgnoreCase, Is.True);
        Assert.That((first[0].Acls[1].Expr.Fetch.Kind, first[0].Acls[1].Expr.Fetch.Text, first[0].Acls[1].Match),
            Is.EqualTo((SampleFetchKind.ReqHdr, "host", PatternMatch.Beg)));
        Assert.That(first[1].Negated, Is.True);
        Assert.That((first[1].Acls[0].Match, first[1].Acls[0].Values.Count), Is.EqualTo((PatternMatch.Ip, 2)));
        Assert.That((rule.Condition.AnyOf[1][0].Acls[0].Criterion, rule.Condition.AnyOf[1][0].Acls[0].Match), Is.EqualTo(("path_end", PatternMatch.End)));
        Assert.That(rule.Condition.AnyOf[1][1].Acls[0].Values, Is.EqualTo(new[] { "GET", "HEAD" }));
    }

    [Test]
    public void HeaderRules_WithConditions_Parsed()
    {
        var fe = ParseValid(Http(
            "    acl is_api path_beg /api",
            "    http-request set-header X-Api yes if is_api",
            "    http-request add-header X-Tag \"a b\"",
            "    http-request del-header X-Secret unless is_api",
            "    http-response set-header X-Served-By proxy")).Frontends[0];
        Assert.That(fe.Http.RequestRules.Select(r => r.Action), Is.EqualTo(new[] { HeaderAction.Set, HeaderAction.Add, HeaderAction.Delete }));
        Assert.That(fe.Http.RequestRules[1].Value, Is.EqualTo("a b"));
        Assert.That(fe.Http.RequestRules[2].Condition!.Unless, Is.True);
        Assert.That(fe.Http.ResponseRules.Single().Name, Is.EqualTo("X-Served-By"));
    }

    [Test]
    public void ErrorFile_ReadAtParseTime()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown");
            var fe = ParseValid(Http($"    errorfile 503 {path}")).Frontends[0];
            Assert.That(fe.Http.ErrorFiles[503], Has.Length.EqualTo(59));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase("    errorfile 503 /nonexistent/503.http", "test.cfg:8: 'errorfile 503': cannot read '/nonexistent/503.http'")]
    [TestCase("    errorfile 299 /dev/null", "test.cfg:8: 'errorfile': status code '299' cannot be customized")]
    [TestCase("    use_backend api if nope", "test.cfg:8: 'use_backend': no ACL named 'nope' is declared before this line")]
    [TestCase("    use_backend nowhere if { path / }", "test.cfg:8: 'use_backend': no backend named 'nowhere'")]
    [TestCase("    use_backend api when x", "test.cfg:8: 'use_backend': expected 'use_backend BACKEND [if|unless CONDITION]'")]
    [TestCase("    use_backend api if { path /", "test.cfg:8: 'use_backend': missing '}' after an anonymous ACL")]
    [TestCase("    acl x url_bge /a", "test.cfg:8: 'acl x': unknown fetch method 'url_bge'")]
    [TestCase("    acl x path_beg", "test.cfg:8: 'acl x': 'path_beg' needs at least one value")]
    [TestCase("    acl x path_reg ^(/a", "test.cfg:8: 'acl x': 'path_reg' expects a valid regular expression, got '^(/a'")]
    [TestCase("    acl x src 10.0.0.300", "test.cfg:8: 'acl x': 'src' expects an IP address or network, got '10.0.0.300'")]
    [TestCase("    acl x path -m bgn /a", "test.cfg:8: 'acl x': unknown matching method 'bgn' after '-m'")]
    [TestCase("    acl x path_beg -m beg /a", "test.cfg:8: 'acl x': '-m' cannot be used with 'path_beg'")]
    [TestCase("    acl x hdr(host),lowr -m found", "test.cfg:8: 'acl x': unknown converter 'lowr'")]
    [TestCase("    acl x hdr_cnt(host) gt", "test.cfg:8: 'acl x': operator 'gt' expects one integer after it")]
    [TestCase("    acl x path -z /a", "test.cfg:8: 'acl x': unknown ACL flag '-z'")]
    [TestCase("    acl x path -f /nonexistent/patterns", "test.cfg:8: 'acl x': '-f': cannot read '/nonexistent/patterns'")]
    [TestCase("    acl x/y path /a", "test.cfg:8: 'acl': invalid name 'x/y'")]
    [TestCase("    http-request set-header X-A", "test.cfg:8: 'http-request set-header': missing value")]
    [TestCase("    http-request set-header X-A %[srcx]", "test.cfg:8: 'http-request set-header': in '%[': unknown fetch method 'srcx'")]
    [TestCase("    http-request set-header X-A %Zz", "test.cfg:8: 'http-request set-header': unknown log-format variable '%Zz'")]
    [TestCase("    http-request set-header X:A b", "test.cfg:8: 'http-request set-header': invalid header name 'X:A'")]
    [TestCase("    http-request set-mark 1", "test.cfg:8: 'http-request set-mark' is not supported yet")]
    [TestCase("    http-response set-map(x.map) a b", "test.cfg:8: 'http-response set-map(x.map)' is not supported yet")]
    [TestCase("    http-response set-status 42", "test.cfg:8: 'http-response set-status': invalid status '42' (expected 100 to 999)")]
    [TestCase("    http-response set-status 200 why not", "test.cfg:8: 'http-response set-status': expected 'http-response set-status CODE [reason TEXT] [if|unless COND]'")]
    [TestCase("    http-request deny deny_status 999", "test.cfg:8: 'http-request deny': status '999' is not allowed")]
    [TestCase("    http-request deny now", "test.cfg:8: 'http-request deny': unexpected 'now'")]
    [TestCase("    http-request return status 700", "test.cfg:8: 'http-request return': invalid status '700'")]
    [TestCase("    http-request return string ok", "test.cfg:8: 'http-request return': a payload ('string', 'file', 'lf-string' or 'lf-file') needs a 'content-type'")]
    [TestCase("    http-request return content-type text/plain file /nonexistent/x", "test.cfg:8: 'http-request return': cannot read '/nonexistent/x'")]
    [TestCase("    http-request redirect location", "test.cfg:8: 'http-request redirect': expected 'http-request redirect location|prefix|scheme VALUE")]
    [TestCase("    http-request redirect elsewhere /x", "test.cfg:8: 'http-request redirect': expected")]
    [TestCase("    http-request redirect location /x code 304", "test.cfg:8: 'http-request redirect': status '304' is not allowed")]
    [TestCase("    http-request redirect prefix /x keep-query", "test.cfg:8: 'http-request redirect': unexpected 'keep-query'")]
    [TestCase("    http-request redirect scheme ht/tp", "test.cfg:8: 'http-request redirect scheme': invalid value 'ht/tp'")]
    [TestCase("    option forwardfor header", "test.cfg:8: 'option forwardfor': unexpected 'header'")]
    [TestCase("    option forwardfor except 1.2.x", "test.cfg:8: 'option forwardfor': 'except' expects a network")]
    [TestCase("    option httpclose now", "test.cfg:8: 'option httpclose': unexpected 'now'")]
    public void BadHttpLine_ReportsFileLineAndReason(string line, string expected)
    {
        var errors = ParseErrors(Http(line));
        Assert.That(errors, Has.Count.EqualTo(1), string.Join("\n", errors));
        Assert.That(errors[0], Does.StartWith(expected));
    }

    [Test]
    public void RequestActions_ParsedInOrder_WithTheirOptionsAndConditions()
    {
        var fe = ParseValid(Http(
            "    acl admin path_beg /admin",
            "    http-request deny if admin",
            "    http-request deny deny_status 429 if { hdr(x-abuse) yes }",
            "    http-request return status 503 content-type text/plain string \"down for maintenance\" if { path /health }",
            "    http-request redirect prefix https://www.example.com code 301 drop-query if { hdr(host) -i example.com }",
            "    http-request redirect scheme https unless { hdr(x-forwarded-proto) https }",
            "    http-request redirect location /moved")).Frontends[0];
        var a = fe.Http.RequestActions;
        Assert.That(a, Has.Count.EqualTo(6));
        Assert.That((a[0].Kind, a[0].Status, a[0].Condition is not null), Is.EqualTo((HttpRequestActionKind.Deny, 403, true)));
        Assert.That((a[1].Kind, a[1].Status), Is.EqualTo((HttpRequestActionKind.Deny, 429)));
        Assert.That((a[2].Kind, a[2].Status, a[2].ContentType), Is.EqualTo((HttpRequestActionKind.Return, 503, "text/plain")));
        Assert.That(System.Text.Encoding.UTF8.GetString(a[2].Body!), Is.EqualTo("down for maintenance"));
        Assert.That((a[3].Redirect, a[3].Target, a[3].Status, a[3].DropQuery), Is.EqualTo((RedirectKind.Prefix, "https://www.example.com", 301, true)));
        Assert.That((a[4].Redirect, a[4].Target, a[4].Status, a[4].Condition!.Unless), Is.EqualTo((RedirectKind.Scheme, "https", 302, true)));
        Assert.That((a[5].Redirect, a[5].Target, a[5].Condition), Is.EqualTo((RedirectKind.Location, "/moved", (ConditionConfig?)null)));
        Assert.That(a[5].Location.Line, Is.EqualTo(14));
    }

    [Test]
    public void PredefinedAcls_TrueFalseAndMethods()
    {
        var fe = ParseValid(Http("    use_backend api if METH_POST || FALSE", "    http-request set-header X-A b if TRUE")).Frontends[0];
        var cond = fe.Http.UseBackends[0].Condition;
        Assert.That(cond.AnyOf[0][0].Acls[0].Values, Is.EqualTo(new[] { "POST" }));
        Assert.That(cond.AnyOf[1][0].Acls[0].Expr.Fetch.Kind, Is.EqualTo(SampleFetchKind.AlwaysFalse));
        Assert.That(fe.Http.RequestRules[0].Condition!.AnyOf[0][0].Acls[0].Expr.Fetch.Kind, Is.EqualTo(SampleFetchKind.AlwaysTrue));
    }

    [Test]
    public void ErrorFile_NotAResponse_IsAnError()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "<html>sorry</html>");
            Assert.That(ParseErrors(Http($"    errorfile 400 {path}"))[0],
                Does.StartWith($"test.cfg:8: 'errorfile 400': '{path}' must hold a complete HTTP response"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ErrorFile_Empty_IsAllowed() =>
        Assert.That(ParseValid(Http("    errorfile 408 /dev/null")).Frontends[0].Http.ErrorFiles[408], Is.Empty);

    [Test]
    public void HttpKeyword_InTcpProxy_IsAnError()
    {
        var errors = ParseErrors(Http("    mode tcp", "    option forwardfor").Replace("    mode http\n", "    mode tcp\n"));
        Assert.That(errors, Has.Some.Contains("'option forwardfor' requires 'mode http'"));
    }

    [Test]
    public void AclInBackend_IsAllowed_UseBackendInBackend_WarnsAndHasNoEffect()
    {
        var text = Http() + Lines("backend other", "    acl a path /x", "    http-request set-header X-A b if a", "    server s3 127.0.0.1:9003");
        Assert.That(ParseValid(text).Backends[2].Http.RequestRules, Has.Count.EqualTo(1));
        var ignored = Parse(Http() + Lines("backend other", "    use_backend app if { path / }", "    server s3 127.0.0.1:9003"));
        Assert.That(ignored.Errors, Is.Empty);
        Assert.That(ignored.Warnings.Select(w => w.Message), Has.Member("'use_backend' has no effect in backend 'other', which has no frontend capability: ignored"));
        Assert.That(ignored.Config!.Backends[2].Http.UseBackends, Is.Empty);
    }
    [Test]
    public void HeaderRules_PastSixtyFourPerDirection_AreAnErrorAtTheFirstOneOver_NeverDropped()
    {
        var lines = new List<string> { "frontend f", "mode http", "bind :80", "default_backend b" };
        for (int i = 0; i < 65; i++) lines.Add($"http-request set-header X-{i} v");
        lines.AddRange(["backend b", "mode http", "server s 127.0.0.1:9001"]);
        var result = Parse(string.Join("\n", lines) + "\n");
        Assert.That(result.Errors.Select(e => e.ToString()), Is.EqualTo(new[]
        {
            "test.cfg:69: 'http-request': more than 64 header rules (set-header, add-header, del-header) in frontend 'f', its defaults' included; at most 64 are evaluated here",
        }));
        lines.RemoveAt(68);
        Assert.That(Parse(string.Join("\n", lines) + "\n").Errors, Is.Empty, "64 are fine");
    }
}
