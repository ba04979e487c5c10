using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`option splice-auto|splice-request|splice-response` and global `nosplice` (configuration.txt 3.2, 4.2).</summary>
public class SpliceOptionTests
{
    [Test]
    public void Default_NoSplicing()
    {
        var config = ParseValid(Lines("frontend f", "bind :80", "default_backend b", "backend b"));
        Assert.That((config.Frontends[0].Splice, config.Backends[0].Splice, config.Global.NoSplice),
            Is.EqualTo((SpliceDirections.None, SpliceDirections.None, false)));
    }

    [TestCase("option splice-auto", SpliceDirections.Both)]
    [TestCase("option splice-request", SpliceDirections.Request)]
    [TestCase("option splice-response", SpliceDirections.Response)]
    public void Option_SetsDirections(string line, SpliceDirections expected)
    {
        var config = ParseValid(Lines("frontend f", "bind :80", line, "default_backend b", "backend b", line));
        Assert.That((config.Frontends[0].Splice, config.Backends[0].Splice), Is.EqualTo((expected, expected)));
    }

    [Test]
    public void Defaults_AreInherited_AndNoOptionClearsOneDirection()
    {
        var config = ParseValid(Lines("defaults", "option splice-auto", "backend b", "no option splice-response"));
        Assert.That(config.Backends[0].Splice, Is.EqualTo(SpliceDirections.Request));
    }

    [Test]
    public void GlobalNoSplice_IsParsed()
    {
        var config = ParseValid(Lines("global", "nosplice", "backend b", "option splice-auto"));
        Assert.That(config.Global.NoSplice, Is.True);
    }

    [Test]
    public void Option_WithArgument_IsAnErrorAtItsLine()
    {
        var errors = ParseErrors(Lines("backend b", "option splice-auto now"));
        Assert.That(errors, Is.EqualTo(new[] { "test.cfg:2: 'option splice-auto' takes no argument, got 'now'" }));
    }

    [Test]
    public void NoSplice_WithArgument_IsAnErrorAtItsLine()
    {
        var errors = ParseErrors(Lines("global", "nosplice yes"));
        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Does.StartWith("test.cfg:2: 'nosplice'"));
    }
}
