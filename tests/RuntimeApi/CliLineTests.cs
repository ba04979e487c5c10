using NUnit.Framework;
using Proxy.Supervisor.RuntimeApi;

namespace Proxy.Tests.RuntimeApi;

/// <summary>How a stats socket line is cut into commands and words (HAProxy's cli_parse_request()).</summary>
public sealed class CliLineTests
{
    private static string Show(string line) =>
        string.Join(" | ", CliLine.Split(line).Select(c => string.Join(",", c)));

    [TestCase("show info", "show,info")]
    [TestCase("  show   stat\t-1 4 -1 ", "show,stat,-1,4,-1")]
    [TestCase("show info; show stat", "show,info | show,stat")]
    [TestCase("show info;;show backend;", "show,info | show,backend")]
    [TestCase(@"set server be/s1 state maint\; echo", "set,server,be/s1,state,maint;,echo")]
    [TestCase(@"show env A\ B", "show,env,A B")]
    [TestCase(@"show env A\\", @"show,env,A\")]
    [TestCase("show info\r", "show,info")]
    [TestCase("", "")]
    [TestCase(" ; ; ", "")]
    public void Split_CutsCommandsAndWordsAsHaproxy(string line, string expected) =>
        Assert.That(Show(line), Is.EqualTo(expected));

    [Test]
    public void Split_KeepsAtMost64Words()
    {
        var words = CliLine.Split(string.Join(' ', Enumerable.Range(0, 100))).Single();
        Assert.That(words, Has.Length.EqualTo(CliLine.MaxWords));
    }

    [TestCase("user", CliLevel.User)]
    [TestCase("operator", CliLevel.Operator)]
    [TestCase("admin", CliLevel.Admin)]
    public void ParseLevel_OrdersLevels(string text, CliLevel level)
    {
        Assert.That(CliSession.ParseLevel(text), Is.EqualTo(level));
        Assert.That(CliLevel.User < CliLevel.Operator && CliLevel.Operator < CliLevel.Admin);
    }
}
