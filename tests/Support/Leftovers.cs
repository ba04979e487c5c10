using System.Collections.Concurrent;
using NUnit.Framework;

namespace Proxy.Tests.Support;

/// <summary>
/// The processes tests start, tracked so that none outlives the run. A test past its time limit is abandoned
/// where it stands (NUnit cannot stop it), so its `using` blocks never run: the proxy it started (a daemon, not a
/// child of the test host) and its origins would keep running and holding their ports. Whatever is still registered
/// when the run ends is disposed here.
/// </summary>
public static class Leftovers
{
    private static readonly ConcurrentDictionary<IDisposable, byte> s_live = new();

    public static void Track(IDisposable process) => s_live.TryAdd(process, 0);

    public static void Forget(IDisposable process) => s_live.TryRemove(process, out _);

    internal static void DisposeAll()
    {
        foreach (var process in s_live.Keys)
        {
            try
            {
                process.Dispose();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or AssertionException)
            {
                TestContext.Progress.WriteLine($"left over after the run, could not be stopped: {process} ({e.Message})");
            }
        }
    }
}
