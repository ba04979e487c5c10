using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.Config;

/// <summary>
/// The corpus (tests/Config/Corpus/*.cfg): configuration files written in the styles real deployments use (Patroni,
/// Galera, RabbitMQ, Redis, Kubernetes and OpenShift API balancers, docker-compose demos, TLS front ends, distribution
/// defaults). Each one runs through Debian's `haproxy -c` (it must pass: the corpus is valid HAProxy 2.6) and through
/// `proxyctl check`, side by side. Every file HAProxy accepts must be accepted here, except the ones in
/// <see cref="ExpectedRefused"/>: those wait on a feature another piece of work owns, and each one must still be
/// refused, with every error naming one of the keywords listed for it. So the table can only shrink, and no file is
/// skipped silently: when a feature lands and a file starts passing, its test fails until the row is removed.
/// </summary>
[TestFixture]
public sealed class CorpusTests
{
    private const string HaproxyPath = "/usr/sbin/haproxy";

    /// <summary>
    /// Files refused here although HAProxy 2.6 accepts them: file -> (the keywords that every error names, the work
    /// that owns them). Empty now that every corpus file passes; a file added for a feature still missing gets a row.
    /// </summary>
    private static readonly Dictionary<string, (string[] Keywords, string Owner)> ExpectedRefused = new()
    {
    };

    private static string CorpusDir => Path.Combine(Artifacts.RepoRoot, "tests", "Config", "Corpus");

    public static IEnumerable<string> CorpusFiles() =>
        Directory.GetFiles(CorpusDir, "*.cfg").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    [Test]
    public void Corpus_HasAtLeastFortyFiles_AndTheRefusedTableNamesOnlyCorpusFiles()
    {
        var files = CorpusFiles().ToHashSet();
        Assert.That(files, Has.Count.GreaterThanOrEqualTo(40));
        Assert.That(ExpectedRefused.Keys.Where(k => !files.Contains(k)), Is.Empty, "rows for files that do not exist");
    }

    [TestCaseSource(nameof(CorpusFiles))]
    public void HaproxyCheck_AcceptsCorpusFile(string file)
    {
        // Not a skip: without HAProxy the corpus is not shown to be valid HAProxy (.ci/run installs the package).
        Assert.That(File.Exists(HaproxyPath), Is.True, $"{HaproxyPath} is missing: apt-get install haproxy (.ci/run does)");
        var r = ProcessRunner.Run(HaproxyPath, ["-c", "-q", "-f", Path.Combine(CorpusDir, file)]);
        Assert.That(r.ExitCode, Is.EqualTo(0), $"haproxy -c refuses {file}:\n{r.All}");
    }

    [TestCaseSource(nameof(CorpusFiles))]
    public void ProxyctlCheck_AcceptsWhatHaproxyAccepts(string file)
    {
        var r = ProcessRunner.Run(Artifacts.Proxyctl, ["check", "-f", Path.Combine(CorpusDir, file)]);
        if (!ExpectedRefused.TryGetValue(file, out var gap))
        {
            Assert.That(r.ExitCode, Is.EqualTo(0), $"proxyctl check refuses {file}, which HAProxy 2.6 accepts:\n{r.All}");
            return;
        }
        Assert.That(r.ExitCode, Is.Not.EqualTo(0),
            $"{file} now passes: remove its row from ExpectedRefused (owner: {gap.Owner})\n{r.All}");
        var errors = r.All.Split('\n').Where(l => l.Contains(file + ":", StringComparison.Ordinal) && !l.StartsWith("[WARNING]", StringComparison.Ordinal)).ToList();
        Assert.That(errors, Is.Not.Empty, r.All);
        foreach (var error in errors)
            Assert.That(gap.Keywords.Any(k => error.Contains(k, StringComparison.Ordinal)), Is.True,
                $"{file}: an error names none of the expected keywords ({string.Join(", ", gap.Keywords)}; owner: {gap.Owner}):\n{error}");
    }
}
