using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Balancing;

namespace Proxy.Tests.Worker.Balancing;

/// <summary>The `hash-type` functions give HAProxy's values (src/hash.c; CRC-32's check value is the standard one).</summary>
public sealed class HashFunctionsTests
{
    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    [TestCase("", 0x0u, 0x1505u, 0xf99a0360u, 0x0u)]
    [TestCase("a", 0x61u, 0x2b606u, 0x714bf225u, 0xe8b7be43u)]
    [TestCase("/index.html", 0x33242976u, 0xe114b9cfu, 0x3101077eu, 0xea224b42u)]
    [TestCase("123456789", 0x68a07035u, 0x35cdbb82u, 0x84a16c1du, 0xcbf43926u)]
    public void Functions_KnownValues(string key, uint sdbm, uint djb2, uint wt6, uint crc32)
    {
        Assert.That(HashFunctions.Sdbm(B(key)), Is.EqualTo(sdbm), "sdbm");
        Assert.That(HashFunctions.Djb2(B(key)), Is.EqualTo(djb2), "djb2");
        Assert.That(HashFunctions.Wt6(B(key)), Is.EqualTo(wt6), "wt6");
        Assert.That(HashFunctions.Crc32(B(key)), Is.EqualTo(crc32), "crc32");
    }

    [TestCase(0x0u, 0x6b4ed927u)]
    [TestCase(0x1u, 0xb48681b6u)]
    [TestCase(0x7f000001u, 0x4a1b584bu)]
    public void FullHash_KnownValues(uint input, uint expected)
    {
        Assert.That(HashFunctions.FullHash(input), Is.EqualTo(expected));
    }

    [Test]
    public void Compute_Avalanche_AppliesFullHashToTheFunction()
    {
        var key = B("/index.html");
        Assert.That(HashFunctions.Compute(HashFunction.Djb2, false, key), Is.EqualTo(HashFunctions.Djb2(key)));
        Assert.That(HashFunctions.Compute(HashFunction.Djb2, true, key), Is.EqualTo(HashFunctions.FullHash(HashFunctions.Djb2(key))));
        Assert.That(HashFunctions.Compute(HashFunction.Sdbm, false, key), Is.EqualTo(HashFunctions.Sdbm(key)));
    }
}
