using System.Diagnostics;
using System.Net.Sockets;
using NUnit.Framework;
using Proxy.Shared.Interop;

namespace Proxy.Tests.Support;

/// <summary>
/// Debian's dnsmasq as the DNS server of a test, on 127.0.0.1 and a free port: its names come from a hosts file
/// (`--addn-hosts`, re-read on SIGHUP) and `--srv-host` lines; it forwards nothing. A missing package fails the test
/// (.ci/run installs it). Killed on dispose.
/// </summary>
public sealed class DnsmasqServer : IDisposable
{
    private const string DnsmasqPath = "/usr/sbin/dnsmasq";
    private readonly Process _process;
    private readonly string _dir;

    /// <param name="hosts">the hosts file's lines ("127.0.0.2 web.test")</param>
    /// <param name="extra">more options, e.g. `--srv-host=_http._tcp.svc.test,b2.test,8080`</param>
    public DnsmasqServer(string hosts, params string[] extra)
    {
        Assert.That(File.Exists(DnsmasqPath), Is.True, $"{DnsmasqPath} is missing: apt-get install dnsmasq (.ci/run does)");
        _dir = Directory.CreateTempSubdirectory("proxy-dns-").FullName;
        // dnsmasq drops to user nobody after start: the hosts file must stay readable for it on SIGHUP.
        File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        HostsPath = Path.Combine(_dir, "hosts");
        WriteHosts(hosts);
        Port = Ports.Free();
        var psi = new ProcessStartInfo(DnsmasqPath) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
                 {
                     "--no-daemon", $"--port={Port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                     $"--addn-hosts={HostsPath}", "--conf-file=/dev/null", "--pid-file=", "--local-ttl=0",
                 }.Concat(extra))
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start dnsmasq");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Leftovers.Track(this);
        long deadline = Environment.TickCount64 + 10_000;
        while (true)
        {
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Connect("127.0.0.1", Port);      // dnsmasq answers over TCP too: listening means ready
                return;
            }
            catch (SocketException) when (Environment.TickCount64 < deadline && !_process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }

    public int Port { get; }
    public string HostsPath { get; }

    /// <summary>Replaces the hosts file and makes dnsmasq read it again (SIGHUP).</summary>
    public void SetHosts(string hosts)
    {
        WriteHosts(hosts);
        Posix.Signal(_process.Id, Posix.SIGHUP);
    }

    private void WriteHosts(string hosts)
    {
        File.WriteAllText(HostsPath, hosts);
        File.SetUnixFileMode(HostsPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    public void Dispose()
    {
        Leftovers.Forget(this);
        try
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
