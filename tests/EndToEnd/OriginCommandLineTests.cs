using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// proxy-origin's command line (perf/origin): `--help` once started a server on 8081 instead of printing help (issue 14);
/// now every argument is read before anything binds.
/// </summary>
[TestFixture]
public sealed class OriginCommandLineTests
{
    [TestCase("--help")]
    [TestCase("-h")]
    public void Help_PrintsUsageAndExitsZeroWithoutBinding(string option)
    {
        // A server started anyway would never exit: the runner fails the test after 20 s.
        int port = Ports.Free();
        var r = ProcessRunner.Run(Artifacts.Origin, ["--port", port.ToString(), option], TimeSpan.FromSeconds(20));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.All);
        Assert.That(r.Stdout, Does.StartWith("usage: proxy-origin").And.Contain("--health-file PATH").And.Contain("GET /bytes/N"));
        Assert.That(r.Stdout, Does.Not.Contain("listening"));
        Assert.That(Ports.CanBind(port), Is.True, "nothing was bound");
    }

    [TestCase(new[] { "--frobnicate" }, "unknown argument '--frobnicate'")]
    [TestCase(new[] { "--port" }, "--port needs a value")]
    [TestCase(new[] { "--port", "http" }, "--port expects 1 to 65535, got 'http'")]
    [TestCase(new[] { "--address", "localhost" }, "--address expects an IP address, got 'localhost'")]
    public void BadArguments_ExitTwoWithTheReasonAndUsage(string[] args, string reason)
    {
        var r = ProcessRunner.Run(Artifacts.Origin, args, TimeSpan.FromSeconds(20));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.All);
        Assert.That(r.Stderr, Does.Contain("proxy-origin: " + reason).And.Contain("usage: proxy-origin"));
        Assert.That(r.Stdout, Does.Not.Contain("listening"));
    }
}
