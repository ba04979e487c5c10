using System.Text;
using NUnit.Framework;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`errorloc`, `errorloc302`, `errorloc303` (doc/configuration.txt 4.2): an error page becomes a redirect.</summary>
public class ErrorLocKeywordTests
{
    private static string Config(params string[] frontendLines) => Lines(
        [
            "defaults",
            "    mode http",
            "    errorloc 503 /sorry.html",
            "frontend web",
            "    bind 127.0.0.1:8080",
            .. frontendLines,
            "    default_backend app",
            "backend app",
            "    server s1 127.0.0.1:9001",
        ]);

    [Test]
    public void ErrorLoc_IsAPreparedRedirect_InheritedAndOverridden()
    {
        var config = ParseValid(Config("    errorloc303 403 https://errors.example/403", "    errorloc302 404 /nf"));
        var fe = config.Frontends[0].Http.ErrorFiles;
        Assert.That(Encoding.ASCII.GetString(fe[503]), Is.EqualTo("HTTP/1.1 302 Found\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: /sorry.html\r\n\r\n"));
        Assert.That(Encoding.ASCII.GetString(fe[403]), Does.StartWith("HTTP/1.1 303 See Other\r\n").And.Contains("\r\nLocation: https://errors.example/403\r\n"));
        Assert.That(Encoding.ASCII.GetString(fe[404]), Does.StartWith("HTTP/1.1 302 Found\r\n"));
        Assert.That(config.Backends[0].Http.ErrorFiles.ContainsKey(503), Is.True, "inherited from defaults");
    }

    [TestCase("    errorloc 302 /x", "test.cfg:6: 'errorloc': status code '302' cannot be customized")]
    [TestCase("    errorloc303 503", "test.cfg:6: 'errorloc303': missing argument")]
    public void BadErrorLoc_ReportsFileLineAndReason(string line, string expected)
    {
        var errors = ParseErrors(Config(line));
        Assert.That(errors, Has.Count.EqualTo(1), string.Join("\n", errors));
        Assert.That(errors[0], Does.StartWith(expected));
    }
}
