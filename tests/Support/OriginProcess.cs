using System.Diagnostics;
using System.Net.Sockets;

namespace Proxy.Tests.Support;

/// <summary>`proxy-origin --port P --name N` from artifacts/bin, started and ready to accept; killed on dispose.</summary>
public sealed class OriginProcess : IDisposable
{
    private readonly Process _process;

    /// <param name="extra">more arguments, e.g. `--health-file PATH`</param>
    public OriginProcess(string name, params string[] extra) : this(name, "127.0.0.1", Ports.Free(), extra)
    {
    }

    /// <summary>An origin on another loopback address (127.0.0.2, ...), e.g. several on one port, told apart by DNS.</summary>
    public OriginProcess(string name, string address, int port, params string[] extra)
    {
        Name = name;
        Port = port;
        var psi = new ProcessStartInfo(Artifacts.Origin) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", Port.ToString(), "--address", address, "--name", name }.Concat(extra)) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start proxy-origin");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Leftovers.Track(this);
        long deadline = Environment.TickCount64 + 20_000;
        while (true)
        {
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Connect(address, Port);
                return;
            }
            catch (SocketException) when (Environment.TickCount64 < deadline && !_process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }

    public string Name { get; }
    public int Port { get; }

    public void Dispose()
    {
        Leftovers.Forget(this);
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }
}
