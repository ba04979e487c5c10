using NUnit.Framework;
namespace Proxy.Tests.Support;

/// <summary>Where the built executables are: tests drive the real programs from artifacts/bin (./build.sh puts them there).</summary>
public static class Artifacts
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Bin => Path.Combine(RepoRoot, "artifacts", "bin");

    public static string Proxyctl => Executable("proxyctl");

    public static string Origin => Executable("proxy-origin");

    public static string Executable(string name)
    {
        string path = Path.Combine(Bin, name);
        if (!File.Exists(path))
            Assert.Fail($"{path} is missing: run ./build.sh (./build.sh test does) before the tests");
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Proxy.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Proxy.sln above " + AppContext.BaseDirectory);
    }
}
