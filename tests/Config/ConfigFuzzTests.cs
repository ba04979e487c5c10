using NUnit.Framework;
using System.Text;
using Proxy.Shared.Config;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>Whatever the input, the loader answers with errors, never with an exception.</summary>
public class ConfigFuzzTests
{
    private static readonly string[] Vocabulary =
    [
        "global", "defaults", "frontend", "backend", "listen", "from", "f", "b", "d", "mode", "http", "tcp", "bind",
        ":80", "*:8080", "[::1]:1", ":::2", "fd@3", ":1-3", "ipv6@:4", "server", "s", "10.0.0.1:80", "localhost:1",
        "host.invalid:1", "default-server", "weight", "maxconn", "check", "inter", "rise", "fall", "backup",
        "disabled", "balance", "roundrobin", "leastconn", "timeout", "connect", "client", "5s", "0", "-1", "99999999999",
        "retries", "option", "no", "redispatch", "httpchk", "log", "global", "local0", "info", "cpu-map", "auto:1-2",
        "0-1", "nbproc", "auto", "stats", "socket", "/s", "level", "admin", "tune.bufsize", "16k", "daemon", "\"", "'",
        "\\", "#", "${X}", "\"${X}\"", "\"$\"", "\"${\"", "\\x4", "", " ", "\t", "\n", "\r", "\0", "\u00e9", "\uFFFF",
        "hard-stop-after", "us", "default_backend", "acl", "use_backend", "userlist", ",", ":", "[", "]", "@",
        "uri", "len", "depth", "whole", "path-only", "url_param", "hdr(", "hdr(host)", "use_domain_only", "random(", "random(2)",
        "random()", "hash-type", "consistent", "map-based", "djb2", "avalanche", "allbackups", "source",
    ];

    private static void AssertNoThrow(string text)
    {
        ConfigResult? result = null;
        Assert.DoesNotThrow(() => result = Parse(text, new Dictionary<string, string> { ["X"] = "1" }),
            "input: " + Convert.ToBase64String(Encoding.UTF8.GetBytes(text)));
        Assert.That(result, Is.Not.Null);
        Assert.That(result!.Config is null, Is.EqualTo(result.Errors.Count > 0), "a model exactly when there is no error");
        foreach (var e in result.Errors)
            Assert.That(e.Location.Line, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public void Parse_RandomBytes_NeverThrows()
    {
        var random = new Random(1234);
        for (int i = 0; i < 3000; i++)
        {
            var bytes = new byte[random.Next(0, 400)];
            random.NextBytes(bytes);
            AssertNoThrow(Encoding.Latin1.GetString(bytes));
            AssertNoThrow(Encoding.UTF8.GetString(bytes));
        }
    }

    [Test]
    public void Parse_RandomTokenSoup_NeverThrows()
    {
        var random = new Random(5678);
        var sb = new StringBuilder();
        for (int i = 0; i < 5000; i++)
        {
            sb.Clear();
            int words = random.Next(0, 60);
            for (int w = 0; w < words; w++)
            {
                sb.Append(Vocabulary[random.Next(Vocabulary.Length)]);
                sb.Append(random.Next(6) switch { 0 => "\n", 1 => "", _ => " " });
            }
            AssertNoThrow(sb.ToString());
        }
    }

    [Test]
    public void Parse_MutatedValidConfig_NeverThrows()
    {
        const string valid = "global\n maxconn 10\n cpu-map auto:1-2 0-1\ndefaults\n mode http\n timeout connect 5s\n" +
                             "frontend f\n bind :80,[::1]:81\n default_backend b\nbackend b\n server s 10.0.0.1:80 weight 3 check\n";
        var random = new Random(42);
        for (int i = 0; i < 3000; i++)
        {
            var chars = valid.ToCharArray();
            int edits = random.Next(1, 6);
            for (int e = 0; e < edits; e++)
                chars[random.Next(chars.Length)] = (char)random.Next(0, 128);
            AssertNoThrow(new string(chars));
        }
    }

    [Test]
    public void Parse_HugeInputs_DoNotThrow()
    {
        AssertNoThrow("global\n pidfile " + new string('x', 2_000_000) + "\n");
        AssertNoThrow(string.Concat(Enumerable.Repeat("backend b\n", 20_000)));
        AssertNoThrow("frontend f\n bind :1-65535\n");
        AssertNoThrow(new string('"', 100_000));
    }
}
