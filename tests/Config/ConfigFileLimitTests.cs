using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Tests.Support;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>
/// The files a configuration names are read with a bound (issue 14: `errorfile 503 /dev/zero` grew `proxyctl check`
/// past 2.4 GB): `errorfile` and `http-request return ... file` take a regular file (or /dev/null) of at most
/// `tune.bufsize`, as HAProxy 2.6; the configuration itself may also be a FIFO, of at most 16 MiB.
/// </summary>
public sealed class ConfigFileLimitTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("proxy-cfgfiles-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static string Http(params string[] frontendLines) => Lines(
        [
            "defaults",
            "    mode http",
            "    timeout connect 5s",
            "    timeout client 30s",
            "    timeout server 30s",
            "frontend web",
            "    bind 127.0.0.1:8080",
            .. frontendLines,
            "    default_backend app",
            "backend app",
            "    server s1 127.0.0.1:9001",
        ]);

    private string Fifo(string name)
    {
        string path = Path.Combine(_dir, name);
        var mkfifo = ProcessRunner.Run("mkfifo", [path]);
        Assert.That(mkfifo.ExitCode, Is.EqualTo(0), mkfifo.All);
        return path;
    }

    /// <summary>A complete response of exactly <paramref name="size"/> bytes.</summary>
    private string Response(string name, int size)
    {
        string head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: ";
        int body = size - head.Length - 4;
        body -= (body - 1).ToString().Length;
        string text = head + body + "\r\n\r\n" + new string('x', body);
        Assert.That(text.Length, Is.EqualTo(size));
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Runs <paramref name="parse"/> on this thread, failing if it takes over 10 s; returns what it allocated.</summary>
    private static long Allocated(Action parse)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        parse();
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "reading a config file must not take long");
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Test]
    public void ErrorFile_DevZero_IsRefusedAtItsLineWithoutReading()
    {
        List<string> errors = [];
        long allocated = Allocated(() => errors = ParseErrors(Http("    errorfile 503 /dev/zero")));
        Assert.That(errors, Is.EqualTo(new[] { "test.cfg:8: 'errorfile 503': cannot read '/dev/zero': a character device, not a regular file" }));
        Assert.That(allocated, Is.LessThan(1 << 20));
    }

    [Test]
    public void ErrorFile_Fifo_IsRefusedWithoutWaitingForAWriter()
    {
        string fifo = Fifo("503.http");
        var parse = Task.Run(() => ParseErrors(Http($"    errorfile 503 {fifo}")));
        if (!parse.Wait(TimeSpan.FromSeconds(10)))
        {
            using (new FileStream(fifo, FileMode.Open, FileAccess.Write)) { }   // unblock the parse before failing
            Assert.Fail("parsing waited for a writer on the FIFO");
        }
        Assert.That(parse.Result, Has.Exactly(1).EqualTo($"test.cfg:8: 'errorfile 503': cannot read '{fifo}': a FIFO, not a regular file"));
    }

    [Test]
    public void ErrorFile_Directory_IsRefused() =>
        Assert.That(ParseErrors(Http($"    errorfile 503 {_dir}")), Has.Exactly(1).EqualTo($"test.cfg:8: 'errorfile 503': cannot read '{_dir}': a directory, not a regular file"));

    [Test]
    public void ErrorFile_HugeRegularFile_IsRefusedFromItsSizeWithoutReading()
    {
        string path = Path.Combine(_dir, "huge.http");
        using (var f = new FileStream(path, FileMode.CreateNew)) f.SetLength(200L << 20);   // sparse: no disk used
        List<string> errors = [];
        long allocated = Allocated(() => errors = ParseErrors(Http($"    errorfile 503 {path}")));
        Assert.That(errors, Has.Exactly(1).EqualTo($"test.cfg:8: 'errorfile 503': cannot read '{path}': 209715200 bytes, larger than tune.bufsize (16384 bytes)"));
        Assert.That(allocated, Is.LessThan(1 << 20), "the size is known from fstat: nothing is read");
    }

    [Test]
    public void ErrorFile_OfTuneBufsizeBytes_IsAccepted_OneMoreIsRefused()
    {
        string fits = Response("fits.http", 16384);
        Assert.That(ParseValid(Http($"    errorfile 503 {fits}")).Frontends[0].Http.ErrorFiles[503], Has.Length.EqualTo(16384));
        string over = Response("over.http", 16385);
        Assert.That(ParseErrors(Http($"    errorfile 503 {over}")), Has.Exactly(1).Contains("16385 bytes, larger than tune.bufsize (16384 bytes)"));
    }

    [Test]
    public void ErrorFile_TuneBufsizeSetBefore_IsTheLimit()
    {
        string path = Response("big.http", 20000);
        Assert.That(ParseValid("global\n    tune.bufsize 32k\n" + Http($"    errorfile 503 {path}")).Frontends[0].Http.ErrorFiles[503], Has.Length.EqualTo(20000));
        Assert.That(ParseErrors("global\n    tune.bufsize 8k\n" + Http($"    errorfile 503 {Response("small.http", 9000)}")),
            Has.Exactly(1).Contains("9000 bytes, larger than tune.bufsize (8192 bytes)"));
    }

    [Test]
    public void ErrorFile_GrowingPastItsStatSize_IsReadOnlyToTheLimit()
    {
        // /proc files say 0 bytes to fstat and hold more: the read, not the size, must stop at tune.bufsize + 1.
        Assert.That(new FileInfo("/proc/self/maps").Length, Is.Zero);
        Assert.That(ParseErrors("global\n    tune.bufsize 1k\n" + Http("    errorfile 503 /proc/self/maps")),
            Has.Exactly(1).EqualTo("test.cfg:10: 'errorfile 503': cannot read '/proc/self/maps': larger than tune.bufsize (1024 bytes)"));
    }

    [Test]
    public void ErrorFile_DevNull_StaysEmpty() =>
        Assert.That(ParseValid(Http("    errorfile 408 /dev/null")).Frontends[0].Http.ErrorFiles[408], Is.Empty);

    [Test]
    public void ReturnFile_DevZeroOrHuge_IsRefusedAtItsLine()
    {
        Assert.That(ParseErrors(Http("    http-request return content-type text/plain file /dev/zero")),
            Has.Exactly(1).EqualTo("test.cfg:8: 'http-request return': cannot read '/dev/zero': a character device, not a regular file"));
        string path = Path.Combine(_dir, "body.txt");
        File.WriteAllText(path, new string('b', 16385));
        Assert.That(ParseErrors(Http($"    http-request return content-type text/plain file {path}")),
            Has.Exactly(1).Contains("16385 bytes, larger than tune.bufsize (16384 bytes)"));
    }

    [Test]
    public void Load_DevZero_IsRefusedAtOnce()
    {
        ConfigResult result = null!;
        long allocated = Allocated(() => result = ConfigLoader.Load("/dev/zero"));
        Assert.That(result.Errors.Select(e => e.ToString()), Is.EqualTo(new[] { "/dev/zero:0: cannot read configuration file: a character device, not a regular file" }));
        Assert.That(allocated, Is.LessThan(1 << 20));
    }

    [Test]
    public void Load_FifoFedWithoutEnd_StopsPastTheLimit()
    {
        string fifo = Fifo("proxy.cfg");
        var writer = Task.Run(() =>
        {
            var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("# a comment line\n", 4096)));
            try
            {
                using var f = new FileStream(fifo, FileMode.Open, FileAccess.Write);
                while (true) f.Write(chunk);   // until the reader has closed: EPIPE
            }
            catch (IOException)
            {
            }
        });
        ConfigResult result = null!;
        long allocated = Allocated(() => result = ConfigLoader.Load(fifo));
        Assert.That(result.Errors.Select(e => e.ToString()),
            Is.EqualTo(new[] { $"{fifo}:0: cannot read configuration file: larger than the configuration size limit (16777216 bytes)" }));
        Assert.That(allocated, Is.LessThan(64L << 20), "the buffer grows to the limit, no further");
        Assert.That(writer.Wait(TimeSpan.FromSeconds(10)), Is.True, "the writer sees the reader gone");
    }

    [Test]
    public void Load_Fifo_ReadsWhatTheWriterWrote()
    {
        string fifo = Fifo("proxy.cfg");
        var writer = Task.Run(() =>
        {
            using var f = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            f.Write(Encoding.UTF8.GetBytes("global\n    maxconn 123\n"));
        });
        var result = ConfigLoader.Load(fifo);
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Config!.Global.MaxConn, Is.EqualTo(123));
        writer.Wait();
    }

    [Test]
    public void Load_Utf8ByteOrderMark_IsSkipped()
    {
        string path = Path.Combine(_dir, "bom.cfg");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("global\n    maxconn 77\n")]);
        var result = ConfigLoader.Load(path);
        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Config!.Global.MaxConn, Is.EqualTo(77));
    }

    [Test]
    public void Load_LargerThanTheLimit_IsRefusedFromItsSize()
    {
        string path = Path.Combine(_dir, "huge.cfg");
        using (var f = new FileStream(path, FileMode.CreateNew)) f.SetLength(ConfigLoader.MaxConfigFileBytes + 1L);
        Assert.That(ConfigLoader.Load(path).Errors.Single().Message, Does.Contain("16777217 bytes, larger than the configuration size limit"));
    }

    [Test]
    public void ControlSocketOf_DevZero_FallsBackToTheDefaultAtOnce()
    {
        string socket = "";
        long allocated = Allocated(() => socket = InstancePaths.ControlSocketOf("/dev/zero"));
        Assert.That(socket, Is.EqualTo(InstancePaths.DefaultControlSocket("/dev/zero")));
        Assert.That(allocated, Is.LessThan(1 << 20));
    }

    [Test]
    public void ControlSocketOf_BrokenFile_StillFindsTheStatsSocketLine()
    {
        string path = Path.Combine(_dir, "broken.cfg");
        File.WriteAllText(path, "global\r\n    stats socket /run/x.sock level admin\r\n    frobnicate\r\n");
        Assert.That(InstancePaths.ControlSocketOf(path), Is.EqualTo("/run/x.sock"));
    }
}
