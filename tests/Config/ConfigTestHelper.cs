using NUnit.Framework;
using System.Net;
using System.Net.Sockets;
using Proxy.Shared.Config;

namespace Proxy.Tests.Config;

/// <summary>Parses configuration text with a fixed environment and a resolver that needs no DNS.</summary>
internal static class ConfigTestHelper
{
    public const string FileName = "test.cfg";

    /// <summary>Known names: localhost, app.internal (10.0.0.5), v6.internal (fd00::5); anything else fails.</summary>
    public static IPAddress? FakeResolver(string host, AddressFamily? family) => host switch
    {
        "localhost" => family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback,
        "app.internal" when family != AddressFamily.InterNetworkV6 => IPAddress.Parse("10.0.0.5"),
        "v6.internal" when family != AddressFamily.InterNetwork => IPAddress.Parse("fd00::5"),
        _ => null,
    };

    public static ConfigResult Parse(string text, IDictionary<string, string>? env = null) =>
        ConfigLoader.Parse(text, FileName, name => env is not null && env.TryGetValue(name, out var v) ? v : null, FakeResolver);

    /// <summary>Parses and asserts there is no error; returns the model.</summary>
    public static ProxyConfig ParseValid(string text, IDictionary<string, string>? env = null)
    {
        var result = Parse(text, env);
        Assert.That(result.Errors.Select(e => e.ToString()), Is.Empty, "unexpected errors");
        Assert.That(result.IsValid, Is.True);
        return result.Config!;
    }

    /// <summary>Parses and returns the errors as `FILE:LINE: message` strings, asserting there is at least one.</summary>
    public static List<string> ParseErrors(string text, IDictionary<string, string>? env = null)
    {
        var result = Parse(text, env);
        Assert.That(result.Errors, Is.Not.Empty, "expected errors");
        Assert.That(result.Config, Is.Null, "no model when there are errors");
        return result.Errors.Select(e => e.ToString()).ToList();
    }

    /// <summary>Joins lines with '\n', so line numbers in tests are easy to count.</summary>
    public static string Lines(params string[] lines) => string.Join('\n', lines) + "\n";

    /// <summary>A minimal valid tail: an http backend "be" with one server and all timeouts.</summary>
    public const string AllTimeouts = "    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n";
}
