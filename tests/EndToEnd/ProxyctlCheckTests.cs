using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>`proxyctl check -f FILE`, run as the real executable.</summary>
[TestFixture]
public sealed class ProxyctlCheckTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("proxy-check-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        string path = Path.Combine(_dir, "test.cfg");
        File.WriteAllText(path, text.EndsWith('\n') ? text : text + "\n");   // a last line without LF is refused, as by HAProxy
        return path;
    }

    [Test]
    public void Check_ValidFile_ExitsZeroAndSaysValid()
    {
        string path = Write("""
            global
                maxconn 1000
            defaults
                mode tcp
                timeout connect 5s
                timeout client 30s
                timeout server 30s
            frontend fe
                bind 127.0.0.1:9000
                default_backend be
            backend be
                server s1 127.0.0.1:9001 check
            """);
        var r = ProcessRunner.Run(Artifacts.Proxyctl, ["check", "-f", path]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout, Does.Contain("Configuration file is valid"));
    }

    [Test]
    public void Check_SeveralErrors_ReportsEachWithFileAndLine()
    {
        string path = Write("""
            global
                maxconn lots
            defaults
                timeout connect abc
            frontend fe
                bind 127.0.0.1:70000
                frobnicate yes
                default_backend missing
            """);
        var r = ProcessRunner.Run(Artifacts.Proxyctl, ["check", "-f", path]);
        Assert.That(r.ExitCode, Is.EqualTo(1), r.All);
        Assert.That(r.Stderr, Does.Contain($"{path}:2:").And.Contain("maxconn"));
        Assert.That(r.Stderr, Does.Contain($"{path}:4:").And.Contain("timeout"));
        Assert.That(r.Stderr, Does.Contain($"{path}:6:").And.Contain("bind"));
        Assert.That(r.Stderr, Does.Contain($"{path}:7:").And.Contain("frobnicate"));
        Assert.That(r.Stderr, Does.Contain($"{path}:8:").And.Contain("missing"));
    }

    [Test]
    public void Check_MissingFile_ExitsOneWithMessage()
    {
        var r = ProcessRunner.Run(Artifacts.Proxyctl, ["check", "-f", Path.Combine(_dir, "nope.cfg")]);
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Stderr, Does.Contain("nope.cfg"));
    }

    [Test]
    public void Check_BinaryGarbage_ExitsOneWithoutCrashing()
    {
        string path = Path.Combine(_dir, "garbage.cfg");
        var bytes = new byte[8192];
        new Random(42).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        var r = ProcessRunner.Run(Artifacts.Proxyctl, ["check", "-f", path]);
        Assert.That(r.ExitCode, Is.EqualTo(1), r.All);
        Assert.That(r.Stderr, Does.Contain("garbage.cfg:"));
        Assert.That(r.Stderr, Does.Not.Contain("Unhandled exception"));
    }
}
