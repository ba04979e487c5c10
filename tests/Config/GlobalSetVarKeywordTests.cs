using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Tests.Support;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// `set-var` and `set-var-fmt` in the `global` section (doc/configuration.txt 3.1): `proc.` variables from fetches
/// that need no traffic, what could differ between workers fixed by the supervisor, side by side with `haproxy -c`.
/// </summary>
public class GlobalSetVarKeywordTests
{
    private const string Tail = "defaults\n    mode http\n" + AllTimeouts + "frontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server s 127.0.0.1:8081\n";

    private static string Config(params string[] globalLines) => Lines(["global", .. globalLines.Select(l => "    " + l)]) + Tail;

    [Test]
    public void GlobalSetVar_HaproxyExamples_InOrderInTheModel()
    {
        // 3.1's own examples.
        string text = Config("set-var proc.current_state str(primary)", "set-var proc.prio int(100)",
            "set-var proc.threshold int(200),sub(proc.prio)", "set-var-fmt proc.bootid \"%pid|%t\"");
        var vars = ParseValid(text).Global.Variables;
        Assert.That(vars.Select(v => v.Variable), Is.EqualTo(new[] { "proc.current_state", "proc.prio", "proc.threshold", "proc.bootid" }));
        Assert.That(vars[2].Expr!.Text, Is.EqualTo("int(200),sub(proc.prio)"));
        Assert.That(vars[2].Location.Line, Is.EqualTo(4));
        // %pid and %t are written as text by the supervisor: every worker gets the same value.
        var literal = string.Concat(vars[3].ValueFormat!.Nodes.Select(n => n.Literal));
        Assert.That(vars[3].ValueFormat!.IsConstant, Is.True);
        Assert.That(literal, Does.Match($@"^{Environment.ProcessId}\|\d\d/[A-Z][a-z][a-z]/\d{{4}}:\d\d:\d\d:\d\d\.\d{{3}}$"));
        HaproxyCheck.AssertAccepts(text);
    }

    [Test]
    public void GlobalSetVar_RandAndDate_DrawnOnceBySupervisor()
    {
        var vars = ParseValid(Config("set-var proc.r rand(10)", "set-var proc.d date(60),add(1)")).Global.Variables;
        Assert.That((vars[0].Expr!.Fetch.Kind, vars[1].Expr!.Fetch.Kind), Is.EqualTo((SampleFetchKind.Int, SampleFetchKind.Int)));
        Assert.That(vars[0].Expr!.Fetch.Number, Is.InRange(0, 9));
        Assert.That(vars[1].Expr!.Fetch.Number, Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60).Within(5));
        Assert.That(vars[1].Expr!.Converters.Single().Name, Is.EqualTo("add"), "converters run in each worker");
    }

    [TestCase("set-var txn.a int(1)", "test.cfg:2: 'set-var': expected a process-wide variable 'proc.NAME' (letters, digits, '_' and '.'), got 'txn.a'", true)]
    [TestCase("set-var proc.a", "test.cfg:2: 'set-var': missing argument, expected 'set-var proc.NAME EXPR'", true)]
    [TestCase("set-var proc.a src", "test.cfg:2: 'set-var': fetch method 'src' needs traffic, none of which is available in the global section (only str, int, bool, always_true, always_false, env, date, rand and var(proc.NAME))", true)]
    [TestCase("set-var proc.a nbsrv(be)", "test.cfg:2: 'set-var': fetch method 'nbsrv' needs traffic, none of which is available in the global section (only str, int, bool, always_true, always_false, env, date, rand and var(proc.NAME))", true)]
    [TestCase("set-var proc.a frob(1)", "test.cfg:2: 'set-var': unknown fetch method 'frob'", true)]
    [TestCase("set-var proc.a int(1),add(txn.x)", "test.cfg:2: 'set-var': converter 'add' reads 'txn.x': only 'proc.' variables exist in the global section", false)]
    [TestCase("set-var proc.a var(sess.x)", "test.cfg:2: 'set-var': fetch method 'var' reads 'sess.x': only 'proc.' variables exist in the global section", false)]
    [TestCase("set-var-fmt proc.a \"from %ci\"", "test.cfg:2: 'set-var-fmt': '%ci' needs traffic, none of which is available in the global section (only %[EXPR], %pid, %H, %t, %T, %Tl, %Ts and %ms)", false)]
    [TestCase("set-var-fmt proc.a \"%[src]\"", "test.cfg:2: 'set-var-fmt': fetch method 'src' needs traffic, none of which is available in the global section (only str, int, bool, always_true, always_false, env, date, rand and var(proc.NAME))", true)]
    public void GlobalSetVar_Refused_NamesKeywordAndLine(string line, string expected, bool haproxyRefuses)
    {
        string text = Config(line);
        Assert.That(ParseErrors(text), Is.EqualTo(new[] { expected }));
        // HAProxy prints nothing for traffic fields and reads no other scope here; this proxy refuses them (README).
        if (haproxyRefuses) HaproxyCheck.AssertRefuses(text);
        else HaproxyCheck.AssertAccepts(text);
    }
}
