using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Logging;

namespace Proxy.Tests.Logging;

/// <summary>`log PATH` as a plain file: which paths are files, and appends from several writers.</summary>
public class LogFileTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir()
    {
        _dir = Path.Combine(Path.GetTempPath(), "logfile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteDir() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void IsFileTarget_FilesAndNewPathsAreFiles_SocketsAndMissingDevicePathsAreNot()
    {
        string existing = Path.Combine(_dir, "a.log");
        File.WriteAllText(existing, "");
        string socketPath = Path.Combine(_dir, "log.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));

        Assert.That(LogFile.IsFileTarget(existing), Is.True);
        Assert.That(LogFile.IsFileTarget(Path.Combine(_dir, "new.log")), Is.True);
        Assert.That(LogFile.IsFileTarget(socketPath), Is.False);
        Assert.That(LogFile.IsFileTarget("/run/no-such-daemon-" + Guid.NewGuid().ToString("N")), Is.False, "a daemon's socket not created yet");
        Assert.That(LogFile.IsFileTarget("/dev/no-such-log-" + Guid.NewGuid().ToString("N")), Is.False);
    }

    [Test]
    public void TwoWriters_AppendWholeLines_NeitherOverwritesTheOther()
    {
        string path = Path.Combine(_dir, "shared.log");
        using var a = new LogFile(path);
        using var b = new LogFile(path);
        for (int i = 0; i < 100; i++)
        {
            Assert.That(a.Write(Encoding.ASCII.GetBytes($"a {i}\n")), Is.True);
            Assert.That(b.Write(Encoding.ASCII.GetBytes($"b {i}\n")), Is.True);
        }
        var lines = File.ReadAllLines(path);
        Assert.That(lines, Has.Length.EqualTo(200));
        Assert.That(lines.Count(l => l.StartsWith("a ", StringComparison.Ordinal)), Is.EqualTo(100));
        Assert.That(lines[1], Is.EqualTo("b 0"));
    }

    [Test]
    public void UnwritablePath_FailsWithoutThrowing()
    {
        using var f = new LogFile(Path.Combine(_dir, "missing-dir", "x.log"));
        Assert.That(f.Write("line\n"u8), Is.False);
    }
}
