using NUnit.Framework;
using Proxy.Shared.Stats;

namespace Proxy.Tests.Stats;

public class RateCounterTests
{
    [Test]
    public void Read_SameSecond_CountsEvents()
    {
        var rate = new RateCounter();
        for (int i = 0; i < 5; i++) rate.Add(10_000 + i);
        Assert.That(rate.Read(10_500), Is.EqualTo(5));
    }

    [Test]
    public void Read_HalfIntoNextSecond_WeighsPreviousSecondByHalf()
    {
        var rate = new RateCounter();
        rate.Add(10_100, 100);
        rate.Add(11_000, 10);
        Assert.That(rate.Read(11_500), Is.EqualTo(10 + 50));
    }

    [Test]
    public void Read_NothingForTwoSeconds_IsZero()
    {
        var rate = new RateCounter();
        rate.Add(10_100, 100);
        Assert.Multiple(() =>
        {
            Assert.That(rate.Read(11_900), Is.EqualTo(10), "a tenth of the previous second is still in the window");
            Assert.That(rate.Read(12_000), Is.EqualTo(0));
        });
    }

    [Test]
    public void Add_AfterAGap_ForgetsOldSeconds()
    {
        var rate = new RateCounter();
        rate.Add(10_100, 100);
        rate.Add(15_000, 1);
        Assert.That(rate.Read(15_000), Is.EqualTo(1));
    }
}
