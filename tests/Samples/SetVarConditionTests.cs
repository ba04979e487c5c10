using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Tests.Support;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Samples;

/// <summary>
/// `set-var(NAME,COND...)` (HAProxy 2.6, 7.3.1 "set-var"): the converter and the conditions it shares with the
/// set-var actions, evaluated as HAProxy's var_set decides, and the actions' conditions parsed at FILE:LINE.
/// </summary>
public class SetVarConditionTests
{
    [Test]
    public void SetVarConverter_PassesInputOn_AndSetsTheVariable()
    {
        using var t = new SampleTestContext();
        Assert.That(t.Eval("req.hdr(host),lower,set-var(txn.host)"), Is.EqualTo("www.example.com"));
        Assert.That(t.Eval("var(txn.host)"), Is.EqualTo("www.example.com"));
    }

    [Test]
    public void IfNotSet_IfSet_IfExists_FollowTheVariablesState()
    {
        using var t = new SampleTestContext();
        Assert.That(t.Eval("str(a),set-var(txn.v,ifset)"), Is.Null, "ifset: not set yet, so no sample either");
        Assert.That(t.Eval("str(a),set-var(txn.v,ifexists)"), Is.Null, "ifexists: a txn variable exists once set");
        Assert.That(t.Eval("str(first),set-var(txn.v,ifnotset)"), Is.EqualTo("first"));
        Assert.That(t.Eval("str(second),set-var(txn.v,ifnotset)"), Is.Null);
        Assert.That(t.Eval("str(second),set-var(txn.v,ifnotexists)"), Is.Null);
        Assert.That(t.Eval("var(txn.v)"), Is.EqualTo("first"), "the first value stays");
        Assert.That(t.Eval("str(third),set-var(txn.v,ifset,ifexists)"), Is.EqualTo("third"));
        Assert.That(t.Eval("var(txn.v)"), Is.EqualTo("third"));
    }

    [Test]
    public void IfEmpty_IfNotEmpty_ScalarsAreNeverEmpty()
    {
        using var t = new SampleTestContext();
        Assert.That(t.Eval("req.hdr(x-none,1),set-var(txn.e,ifnotempty)"), Is.Null, "no header: no sample at all");
        Assert.That(t.Eval("str(a),regsub(a,),set-var(txn.e,ifnotempty)"), Is.Null);
        Assert.That(t.Eval("str(a),regsub(a,),set-var(txn.e,ifempty)"), Is.EqualTo(""));
        Assert.That(t.Eval("int(0),set-var(txn.i,ifempty)"), Is.Null, "an integer is never empty");
        Assert.That(t.Eval("int(0),set-var(txn.i,ifnotempty)"), Is.EqualTo("0"));
    }

    [Test]
    public void IfGt_IfLt_CompareIntegersOnly()
    {
        using var t = new SampleTestContext();
        Assert.That(t.Eval("int(10),set-var(txn.n,ifgt)"), Is.EqualTo("10"), "not set: the check holds");
        Assert.That(t.Eval("int(20),set-var(txn.n,ifgt)"), Is.Null, "10 is not greater than 20");
        Assert.That(t.Eval("int(5),set-var(txn.n,ifgt)"), Is.EqualTo("5"));
        Assert.That(t.Eval("int(3),set-var(txn.n,iflt)"), Is.Null, "5 is not less than 3");
        Assert.That(t.Eval("int(9),set-var(txn.n,iflt)"), Is.EqualTo("9"));
        Assert.That(t.Eval("str(x),set-var(txn.n,ifgt)"), Is.EqualTo("x"), "not two integers: the check holds");
    }

    [Test]
    public void ProcVariables_AlwaysExist()
    {
        using var t = new SampleTestContext();
        Assert.That(t.Eval("str(p),set-var(proc.cond_test_exists,ifexists)"), Is.EqualTo("p"), "proc variables exist from the configuration on");
    }

    [TestCase("str(a),set-var(txn.a,bogus)", "converter 'set-var': unknown condition \"bogus\"")]
    [TestCase("str(a),set-var(a)", "converter 'set-var' expects a variable name 'proc|sess|txn|req|res.NAME' ('set-var(VARIABLE[,CONDITION...])'), got 'a'")]
    public void SetVarConverter_BadArguments_NameIt(string text, string expected) =>
        Assert.That(SampleTestContext.ParseError(text), Is.EqualTo(expected));

    private const string Tail = "    default_backend be\nbackend be\n    server s 127.0.0.1:8081\n";

    private static string Config(string rule) => Lines("defaults", "    mode http", AllTimeouts.TrimEnd('\n'), "frontend fe",
        "    bind 127.0.0.1:8080", "    " + rule) + Tail;

    [Test]
    public void SetVarActions_Conditions_InTheModel()
    {
        var fe = ParseValid(Lines("defaults", "    mode http", AllTimeouts.TrimEnd('\n'), "frontend fe", "    bind 127.0.0.1:8080",
            "    http-request set-var(txn.a,ifnotset,ifnotempty) req.hdr(x-a)",
            "    http-response set-var-fmt(txn.b,ifexists) \"v=%[status]\"",
            "    http-after-response set-var(txn.c,ifgt,,iflt) int(1)",
            "    tcp-request content set-var(sess.d,ifempty) str(a),regsub(a,)") + Tail).Frontends[0];
        Assert.That(fe.Http.RequestActions.Single().VarConditions, Is.EqualTo(VarSetConditions.IfNotSet | VarSetConditions.IfNotEmpty));
        Assert.That(fe.TcpContentRules.Single().VarConditions, Is.EqualTo(VarSetConditions.IfEmpty));
    }

    [TestCase("http-request set-var(txn.a,bogus) str(x)", "test.cfg:8: 'http-request set-var': unknown condition \"bogus\"")]
    [TestCase("http-request unset-var(txn.a,ifexists)", "test.cfg:8: 'http-request unset-var': unset-var does not expect parameters after the variable name; only set-var and set-var-fmt take conditions")]
    [TestCase("tcp-request content set-var-fmt(txn.a,ifbig) x", "test.cfg:8: 'tcp-request content set-var-fmt': unknown condition \"ifbig\"")]
    [TestCase("http-request set-header X %[str(a),set-var(txn.b,bogus)]", "test.cfg:8: 'http-request set-header': in '%[': converter 'set-var': unknown condition \"bogus\"")]
    public void SetVarActions_BadConditions_RefusedAsHaproxyDoes(string rule, string expected)
    {
        string text = Config(rule);
        Assert.That(ParseErrors(text), Is.EqualTo(new[] { expected }));
        HaproxyCheck.AssertRefuses(text);
    }

    [Test]
    public void SetVarActions_Conditions_HaproxyAccepts() => HaproxyCheck.AssertAccepts(Lines("defaults", "    mode http",
        AllTimeouts.TrimEnd('\n'), "frontend fe", "    bind 127.0.0.1:8080",
        "    http-request set-var(txn.a,ifnotset,ifnotempty) req.hdr(x-a)",
        "    http-request set-header X %[str(a),set-var(txn.b,ifnotset,ifgt)]",
        "    tcp-request content set-var(sess.d,ifempty) str(a),regsub(a,)") + Tail);
}
