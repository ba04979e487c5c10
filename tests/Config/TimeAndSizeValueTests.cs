using NUnit.Framework;
using Proxy.Shared.Config;

namespace Proxy.Tests.Config;

public class TimeAndSizeValueTests
{
    [TestCase("100", 100_000L)]
    [TestCase("100ms", 100_000L)]
    [TestCase("250us", 250L)]
    [TestCase("5s", 5_000_000L)]
    [TestCase("2m", 120_000_000L)]
    [TestCase("1h", 3_600_000_000L)]
    [TestCase("1d", 86_400_000_000L)]
    [TestCase("0", 0L)]
    public void TimeValue_ValidUnits_ParseToMicroseconds(string text, long micros)
    {
        Assert.That(TimeValue.TryParse(text, out var value), Is.True);
        Assert.That(value, Is.EqualTo(TimeSpan.FromMicroseconds(micros)));
    }

    [TestCase("")]
    [TestCase("abc")]
    [TestCase("5 s")]
    [TestCase("5S")]
    [TestCase("-5s")]
    [TestCase("5sec")]
    [TestCase("s")]
    [TestCase("25d")]                 // above HAProxy's 2^31-1 ms
    [TestCase("99999999999999999999d")]
    public void TimeValue_Invalid_IsRejected(string text)
    {
        Assert.That(TimeValue.TryParse(text, out _), Is.False);
    }

    [TestCase("16384", 16384)]
    [TestCase("16k", 16384)]
    [TestCase("16K", 16384)]
    [TestCase("1m", 1 << 20)]
    [TestCase("1g", 1 << 30)]
    public void SizeValue_ValidUnits_ParseToBytes(string text, int bytes)
    {
        Assert.That(SizeValue.TryParse(text, out var value), Is.True);
        Assert.That(value, Is.EqualTo(bytes));
    }

    [TestCase("")]
    [TestCase("k")]
    [TestCase("1.5k")]
    [TestCase("2g")]
    [TestCase("16kb")]
    [TestCase("-1")]
    public void SizeValue_Invalid_IsRejected(string text)
    {
        Assert.That(SizeValue.TryParse(text, out _), Is.False);
    }
}
