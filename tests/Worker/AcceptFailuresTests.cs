using NUnit.Framework;
using Proxy.Worker.Runtime;

namespace Proxy.Tests.Worker;

/// <summary>
/// A listener whose accepts keep failing (review finding 5: an epoll set refusing it logged a warning every 10 ms):
/// the pause doubles up to 100 ms, the log gets the first failure and then one line a minute with the count left out.
/// </summary>
public class AcceptFailuresTests
{
    [Test]
    public void ALastingFailure_LogsOnceAMinute_WithTheCountLeftOut()
    {
        var failures = new AcceptFailures();
        Assert.That(failures.Fail(1_000, out _, out long leftOut), Is.True, "the first failure is logged");
        Assert.That(leftOut, Is.Zero);
        int logged = 0;
        // A minute of failures every 10 ms: none of them logged.
        for (long now = 1_010; now < 1_000 + AcceptFailures.LogIntervalMs; now += 10)
            if (failures.Fail(now, out _, out _)) logged++;
        Assert.That(logged, Is.Zero, "within the minute nothing more is written");
        Assert.That(failures.Fail(1_000 + AcceptFailures.LogIntervalMs, out _, out leftOut), Is.True, "a minute later, one line");
        Assert.That(leftOut, Is.EqualTo(AcceptFailures.LogIntervalMs / 10 - 1), "with the failures it left out");
    }

    [Test]
    public void ThePause_Doubles_UpTo100ms_AndStartsOverAfterAnAccept()
    {
        var failures = new AcceptFailures();
        var pauses = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            failures.Fail(i, out int pause, out _);
            pauses.Add(pause);
        }
        Assert.That(pauses, Is.EqualTo(new[] { 10, 20, 40, 80, 100, 100 }));
        failures.Succeeded();
        failures.Fail(10, out int again, out _);
        Assert.That(again, Is.EqualTo(AcceptFailures.FirstPauseMs));
    }

    [Test]
    public void FailuresBetweenAccepts_StillLogOnceAMinute()
    {
        // The epoll set refuses the listener but connections keep coming: each accept succeeds, each wait fails.
        var failures = new AcceptFailures();
        int logged = 0;
        for (long now = 0; now < AcceptFailures.LogIntervalMs; now += 10)
        {
            if (failures.Fail(now, out _, out _)) logged++;
            failures.Succeeded();
        }
        Assert.That(logged, Is.EqualTo(1));
    }
}
