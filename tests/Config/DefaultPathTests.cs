using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Tests.Support;

namespace Proxy.Tests.Config;

/// <summary>
/// `default-path current|config|parent|origin PATH` (3.1) and several configuration files (`-f` more than once), side by
/// side with HAProxy 2.6's `haproxy -c`: relative file names resolve from the directory in force, which each file starts
/// again from the working directory, and each file starts outside any section.
/// </summary>
[TestFixture]
public sealed class DefaultPathTests
{
    private const string Haproxy = "/usr/sbin/haproxy";
    private string _dir = "";

    [SetUp]
    public void CreateFiles()
    {
        _dir = Directory.CreateTempSubdirectory("proxy-default-path-").FullName;
        Directory.CreateDirectory(Path.Combine(_dir, "etc", "conf"));
        Directory.CreateDirectory(Path.Combine(_dir, "origin"));
        foreach (var (folder, body) in new[] { ("etc/conf", "config"), ("etc", "parent"), ("origin", "origin") })
            File.WriteAllText(Path.Combine(_dir, folder, "503.http"), $"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\n{body}\n");
    }

    [TearDown]
    public void DeleteFiles() => Directory.Delete(_dir, recursive: true);

    private string Write(string relative, string text)
    {
        string path = Path.Combine(_dir, relative);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Config(string defaultPath) =>
        "global\n" + (defaultPath.Length > 0 ? $"    default-path {defaultPath}\n" : "") +
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n    errorfile 503 503.http\n" +
        "frontend fe\n    bind 127.0.0.1:8114\n    default_backend be\nbackend be\n    server s 127.0.0.1:8115\n";

    private static void AssertHaproxyAgrees(bool valid, params string[] files)
    {
        Assert.That(File.Exists(Haproxy), Is.True, $"{Haproxy} is missing: apt-get install haproxy (.ci/run does)");
        var args = new List<string> { "-c", "-q" };
        foreach (var f in files) args.AddRange(["-f", f]);
        var r = ProcessRunner.Run(Haproxy, args);
        Assert.That(r.ExitCode == 0, Is.EqualTo(valid), "haproxy -c:\n" + r.All);
    }

    private static string ErrorFileBody(ConfigResult r)
    {
        Assert.That(r.Errors.Select(e => e.ToString()), Is.Empty);
        var body = Encoding.ASCII.GetString(r.Config!.Frontends[0].Http.ErrorFiles[503]);
        return body[(body.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
    }

    [TestCase("config", "config\n")]
    [TestCase("parent", "parent\n")]
    public void DefaultPath_ResolvesFromTheFilesDirectoryOrItsParent(string mode, string expected)
    {
        string file = Write("etc/conf/lb.cfg", Config(mode));
        Assert.That(ErrorFileBody(ConfigFiles.Load([file])), Is.EqualTo(expected));
        AssertHaproxyAgrees(true, file);
    }

    [Test]
    public void DefaultPathOrigin_ResolvesFromItsPath()
    {
        string file = Write("etc/conf/lb.cfg", Config("origin " + Path.Combine(_dir, "origin")));
        Assert.That(ErrorFileBody(ConfigFiles.Load([file])), Is.EqualTo("origin\n"));
        AssertHaproxyAgrees(true, file);
    }

    [Test]
    public void WithoutDefaultPath_ARelativeFileIsTheWorkingDirectorys()
    {
        string file = Write("etc/conf/lb.cfg", Config(""));
        var r = ConfigFiles.Load([file]);
        Assert.That(r.Errors.Select(e => e.ToString()), Has.Some.StartWith($"{file}:7: ").And.Some.Contains("503.http"));
        AssertHaproxyAgrees(false, file);
    }

    [Test]
    public void DefaultPath_EndsWithItsFile_AndTheNextFileStartsOutsideAnySection()
    {
        string first = Write("etc/conf/a.cfg", "global\n    default-path config\n");
        string second = Write("etc/conf/b.cfg",
            "    maxconn 10\n" +   // a global keyword, but the global section of a.cfg does not go on here
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n    errorfile 503 503.http\n" +
            "frontend fe\n    bind 127.0.0.1:8114\n");
        var errors = ConfigFiles.Load([first, second]).Errors.Select(e => e.ToString()).ToList();
        Assert.That(errors, Has.Some.StartWith($"{second}:1: 'maxconn' is outside of any section"));
        Assert.That(errors, Has.Some.StartWith($"{second}:7: ").And.Some.Contains("503.http"), string.Join("\n", errors));
        AssertHaproxyAgrees(false, first, second);
    }

    [Test]
    public void DefaultPath_AppliesToTheRestOfItsOwnFile_WithSeveralFiles()
    {
        string first = Write("etc/conf/a.cfg", "global\n    maxconn 10\n");
        string second = Write("etc/conf/b.cfg", Config("config"));
        var r = ConfigFiles.Load([first, second]);
        Assert.That(ErrorFileBody(r), Is.EqualTo("config\n"));
        AssertHaproxyAgrees(true, first, second);
    }
}
