using NUnit.Framework;
using System.Diagnostics;

namespace Proxy.Tests.Support;

/// <summary>Runs a program to completion and captures what it printed.</summary>
public static class ProcessRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string All => Stdout + Stderr;
    }

    /// <param name="environment">variables added to the inherited environment (a daemon started this way keeps them)</param>
    public static Result Run(string exe, IEnumerable<string> args, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(exe)} {string.Join(' ', args)} did not finish in time");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
