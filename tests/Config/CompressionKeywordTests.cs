using NUnit.Framework;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`compression algo|type|offload` (configuration.txt 4.2) and the global compression limits (3.2).</summary>
public class CompressionKeywordTests
{
    [Test]
    public void AlgoAndType_InDefaults_AreInheritedAndExtended()
    {
        var config = ParseValid(Lines("defaults", "mode http", "compression algo gzip", "compression type text/html",
            "frontend f", "bind :80", "compression algo deflate raw-deflate identity", "compression offload", "default_backend b",
            "backend b"));
        var fe = config.Frontends[0].Http.Compression!;
        Assert.That(fe.Algorithms, Is.EqualTo(new[] { CompressionAlgorithm.Gzip, CompressionAlgorithm.Deflate, CompressionAlgorithm.RawDeflate, CompressionAlgorithm.Identity }));
        Assert.That(fe.Types, Is.EqualTo(new[] { "text/html" }));
        Assert.That(fe.Offload, Is.True);
        var be = config.Backends[0].Http.Compression!;
        Assert.That((be.Algorithms.Single(), be.Offload), Is.EqualTo((CompressionAlgorithm.Gzip, false)));
    }

    [Test]
    public void NoCompressionLine_NoSettings()
    {
        var config = ParseValid(Lines("defaults", "mode http", "backend b"));
        Assert.That(config.Backends[0].Http.Compression, Is.Null);
    }

    [Test]
    public void OffloadInDefaults_IsAWarningWithoutEffect()
    {
        var result = Parse(Lines("defaults", "mode http", "compression offload", "backend b"));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Select(w => w.ToString()), Has.Member("test.cfg:3: 'compression offload' ignored in a defaults section (HAProxy does the same)"));
        Assert.That(result.Config!.Backends[0].Http.Compression, Is.Null);
    }

    [TestCase("compression algo lz4", "test.cfg:3: 'compression algo': unknown algorithm 'lz4', expected gzip, deflate, raw-deflate or identity")]
    [TestCase("compression algo", "test.cfg:3: 'compression algo' expects an algorithm: gzip, deflate, raw-deflate or identity")]
    [TestCase("compression", "test.cfg:3: 'compression': missing argument, expected 'compression algo ALGO... | compression type MIME... | compression offload'")]
    [TestCase("compression offload now", "test.cfg:3: 'compression offload': unexpected 'now', expected 'compression offload'")]
    [TestCase("compression direction both", "test.cfg:3: 'compression direction' is not supported (HAProxy 2.6 compresses responses only)")]
    public void BadLine_IsAnErrorAtItsLine(string line, string expected)
    {
        var errors = ParseErrors(Lines("backend b", "mode http", line));
        Assert.That(errors, Has.Member(expected));
    }

    [Test]
    public void CompressionInTcpMode_IsAnError()
    {
        var errors = ParseErrors(Lines("backend b", "mode tcp", "compression algo gzip"));
        Assert.That(errors.Single(), Does.Contain("'compression' requires 'mode http'"));
    }

    [Test]
    public void GlobalLimits_AreParsed()
    {
        var config = ParseValid(Lines("global", "maxcomprate 512", "maxcompcpuusage 80", "maxzlibmem 64", "tune.comp.maxlevel 5", "backend b"));
        Assert.That((config.Global.MaxCompRate, config.Global.MaxCompCpuUsage, config.Global.MaxZlibMem, config.Global.CompMaxLevel),
            Is.EqualTo((512, 80, 64, 5)));
        var defaults = ParseValid(Lines("backend b")).Global;
        Assert.That((defaults.MaxCompRate, defaults.MaxCompCpuUsage, defaults.MaxZlibMem, defaults.CompMaxLevel), Is.EqualTo((0, 100, 0, 1)));
    }

    [TestCase("tune.comp.maxlevel 10")]
    [TestCase("maxcompcpuusage 101")]
    [TestCase("maxcomprate -1")]
    public void GlobalLimit_OutOfRange_IsAnError(string line)
    {
        var errors = ParseErrors(Lines("global", line, "backend b"));
        Assert.That(errors.Single(), Does.StartWith("test.cfg:2: '" + line.Split(' ')[0] + "': expected an integer"));
    }
}
