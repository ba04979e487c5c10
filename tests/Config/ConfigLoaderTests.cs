using NUnit.Framework;
using System.Net;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>The public entry points and the behaviours that span several sections.</summary>
public class ConfigLoaderTests
{
    [Test]
    public void SystemResolver_Localhost_IsLoopbackWithoutDns()
    {
        Assert.That(AddressParser.SystemResolver("localhost", null), Is.EqualTo(IPAddress.Loopback));
        Assert.That(AddressParser.SystemResolver("LOCALHOST", System.Net.Sockets.AddressFamily.InterNetworkV6), Is.EqualTo(IPAddress.IPv6Loopback));
    }

    [Test]
    public void Parse_PublicOverload_ResolvesLocalhostAndUsesGivenEnv()
    {
        var result = ConfigLoader.Parse(Lines("backend b", "server s \"localhost:${P}\""), "x.cfg", n => n == "P" ? "81" : null);
        Assert.That(result.IsValid, Is.True, string.Join("\n", result.Errors));
        Assert.That(result.Config!.Backends[0].Servers[0].EndPoint, Is.EqualTo(new IPEndPoint(IPAddress.Loopback, 81)));
    }

    [Test]
    public void Parse_ErrorToString_IsFileColonLineColonMessage()
    {
        var error = ConfigLoader.Parse("frontend\n", "/etc/proxy.cfg", _ => null).Errors.Single();
        Assert.That(error.ToString(), Is.EqualTo("/etc/proxy.cfg:1: 'frontend': missing the frontend name"));
    }

    [Test]
    public void Parse_SeveralGlobalSections_Merge()
    {
        var g = ParseValid(Lines("global", "maxconn 5", "backend b", "global", "daemon")).Global;
        Assert.That((g.MaxConn, g.Daemon), Is.EqualTo((5, true)));
    }

    [Test]
    public void Parse_FrontendWithoutDefaultBackend_Warns()
    {
        var result = Parse(Lines("frontend f", "bind :80", "timeout client 1s"));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Single().ToString(), Is.EqualTo("test.cfg:1: 'frontend' 'f' has no 'default_backend': every connection will be refused"));
    }

    [Test]
    public void Parse_UnquotedUndefinedVariable_WarnsAndReportsTheBadPort()
    {
        // HAProxy 2.6 expands an unquoted variable when it is defined, and leaves it as written when not.
        var result = Parse(Lines("frontend f", "bind :${PORT}"), new Dictionary<string, string> { ["OTHER"] = "80" });
        Assert.That(result.Warnings, Has.Some.Property("Message").Contains("is not defined: kept as written"));
        Assert.That(result.Errors.Single().ToString(), Does.StartWith("test.cfg:2: 'bind': expected a port number, got '${PORT}'"));
    }

    [Test]
    public void Parse_ErrorsInEverySection_AreReportedInLineOrder()
    {
        var errors = ParseErrors(Lines("global", "nbproc x", "defaults", "retries x", "listen l", "bind :x", "backend b", "weight 1"));
        Assert.That(errors.Select(e => e.Split(':')[1]), Is.EqualTo(new[] { "2", "4", "6", "8" }));
    }

    [Test]
    public void Parse_ListenWithDefaultBackend_RoutesThere()
    {
        var config = ParseValid(Lines("listen l", "bind :80", "default_backend other", "backend other"));
        Assert.That(config.Frontends.Single().DefaultBackend, Is.EqualTo("other"));
    }

    [Test]
    public void Parse_ListenModeDiffersFromItsDefaultBackend_IsAnError()
    {
        var errors = ParseErrors(Lines("listen l", "mode http", "bind :80", "default_backend other", "backend other"));
        Assert.That(errors.Single(), Is.EqualTo("test.cfg:4: 'default_backend': listen 'l' is in http mode but backend 'other' is in tcp mode"));
    }
}
