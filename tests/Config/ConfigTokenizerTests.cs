using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

public class ConfigTokenizerTests
{
    private static List<ConfigLine> Tokenize(string text, Dictionary<string, string>? env = null)
    {
        var diag = new ConfigDiagnostics(FileName);
        var lines = ConfigTokenizer.Tokenize(text, n => env is not null && env.TryGetValue(n, out var v) ? v : null, diag);
        Assert.That(diag.Errors, Is.Empty, string.Join("\n", diag.Errors));
        return lines;
    }

    private static List<string> Words(string line, Dictionary<string, string>? env = null) =>
        Tokenize(line, env).Single().Words.ToList();

    [Test]
    public void Tokenize_BlankAndCommentLines_AreSkippedButCounted()
    {
        var lines = Tokenize("# comment\n\n   \nglobal # trailing\n\tmaxconn   10\n");
        Assert.That(lines.Select(l => l.Number), Is.EqualTo(new[] { 4, 5 }));
        Assert.That(lines[0].Words, Is.EqualTo(new[] { "global" }));
        Assert.That(lines[1].Words, Is.EqualTo(new[] { "maxconn", "10" }));
    }

    [Test]
    public void Tokenize_CrLfLineEnds_AreAccepted()
    {
        var lines = Tokenize("global\r\n  daemon\r\n");
        Assert.That(lines[1].Words, Is.EqualTo(new[] { "daemon" }));
    }

    [Test]
    public void Tokenize_SingleQuotes_ProtectEverything()
    {
        Assert.That(Words("log '/dev/my log' \"${X}\" '${X} # \\n'", new() { ["X"] = "v" }),
            Is.EqualTo(new[] { "log", "/dev/my log", "v", "${X} # \\n" }));
    }

    [Test]
    public void Tokenize_DoubleQuotes_KeepBlanksAndHash()
    {
        Assert.That(Words("pidfile \"/run/a b#c\""), Is.EqualTo(new[] { "pidfile", "/run/a b#c" }));
    }

    [Test]
    public void Tokenize_QuotesInsideAWord_JoinTheParts()
    {
        Assert.That(Words("a\"b c\"'d e'f"), Is.EqualTo(new[] { "ab cd ef" }));
    }

    [Test]
    public void Tokenize_EmptyQuotes_AreAnEmptyWord()
    {
        Assert.That(Words("user \"\""), Is.EqualTo(new[] { "user", "" }));
    }

    [TestCase(@"a\ b", "a b")]
    [TestCase(@"a\\b", @"a\b")]
    [TestCase(@"a\#b", "a#b")]
    [TestCase(@"a\'b", "a'b")]
    [TestCase("a\\\"b", "a\"b")]
    [TestCase(@"a\tb", "a\tb")]
    [TestCase(@"a\x41b", "aAb")]
    [TestCase(@"a\1b", @"a\1b")]
    public void Tokenize_BackslashEscapes_FollowHAProxy(string input, string expected)
    {
        Assert.That(Words(input), Is.EqualTo(new[] { expected }));
    }

    [Test]
    public void Tokenize_EnvInDoubleQuotes_IsExpanded()
    {
        var env = new Dictionary<string, string> { ["PORT"] = "8080", ["HOST"] = "10.0.0.1" };
        Assert.That(Words("bind \"${HOST}:$PORT\"", env), Is.EqualTo(new[] { "bind", "10.0.0.1:8080" }));
    }

    [Test]
    public void Tokenize_EnvWithDefault_UsesDefaultWhenUndefined()
    {
        Assert.That(Words("bind \":${PORT-8443}\""), Is.EqualTo(new[] { "bind", ":8443" }));
        Assert.That(Words("bind \":${PORT-8443}\"", new() { ["PORT"] = "1" }), Is.EqualTo(new[] { "bind", ":1" }));
    }

    [Test]
    public void Tokenize_EscapedDollarInDoubleQuotes_IsLiteral()
    {
        Assert.That(Words("x \"\\${A}\""), Is.EqualTo(new[] { "x", "${A}" }));
    }

    [Test]
    public void Tokenize_PseudoVariables_GiveLineAndFile()
    {
        var lines = Tokenize("\n\nx \"${.LINE}\" \"${.FILE}\"\n");
        Assert.That(lines[0].Words, Is.EqualTo(new[] { "x", "3", FileName }));
    }

    [Test]
    public void Tokenize_UndefinedVariable_IsAnErrorNamingIt()
    {
        var diag = new ConfigDiagnostics(FileName);
        ConfigTokenizer.Tokenize("\nbind \"${NOPE}:80\"\n", _ => null, diag);
        Assert.That(diag.Errors.Single().ToString(), Is.EqualTo("test.cfg:2: environment variable 'NOPE' is not defined"));
    }

    [TestCase("x \"abc", "unmatched double quote")]
    [TestCase("x 'abc", "unmatched single quote")]
    [TestCase("x \"${A\"", "missing '}'")]
    [TestCase("x \"$1\"", "must be followed by a variable name")]
    [TestCase(@"x \xZZ", @"'\x' must be followed by two hexadecimal digits")]
    [TestCase("x\0y", "NUL byte")]
    public void Tokenize_MalformedLine_ReportsError(string line, string expected)
    {
        var diag = new ConfigDiagnostics(FileName);
        ConfigTokenizer.Tokenize(line, _ => "v", diag);
        Assert.That(diag.Errors, Has.Count.EqualTo(1));
        Assert.That(diag.Errors[0].ToString(), Does.StartWith("test.cfg:1: ").And.Contain(expected));
    }

    [Test]
    public void Tokenize_TooManyWords_IsAnError()
    {
        var diag = new ConfigDiagnostics(FileName);
        ConfigTokenizer.Tokenize(string.Join(' ', Enumerable.Repeat("w", 65)), _ => null, diag);
        Assert.That(diag.Errors.Single().Message, Does.Contain("too many words"));
    }

    [Test]
    public void Tokenize_VeryLongLine_IsOneWord()
    {
        var longWord = new string('a', 1_000_000);
        Assert.That(Words("x " + longWord)[1], Has.Length.EqualTo(1_000_000));
    }

    [Test]
    public void Tokenize_VariableOutsideQuotes_IsExpandedWhenDefined_LiteralWithWarningOtherwise()
    {
        // What `haproxy -c` (2.6.12) does: `bind :$PORT` and `bind :${PORT}` expand when PORT is set, stay as written when not.
        var diag = new ConfigDiagnostics(FileName);
        var lines = ConfigTokenizer.Tokenize("pidfile /run/${X}/$X.pid\n", _ => "v", diag);
        Assert.That(lines.Single().Words[1], Is.EqualTo("/run/v/v.pid"));
        Assert.That(diag.Warnings, Is.Empty);
        lines = ConfigTokenizer.Tokenize("pidfile /run/${X}\n", _ => null, diag);
        Assert.That(lines.Single().Words[1], Is.EqualTo("/run/${X}"));
        Assert.That(diag.Warnings.Single().Message, Does.Contain("is not defined: kept as written"));
    }
}
