using NUnit.Framework;
using Proxy.Shared.Tables;

namespace Proxy.Tests.Tables;

/// <summary>
/// StickTableLayout.StoredMask and MaskOf give each stored type the bit 1u &lt;&lt; type (review finding 10): a 33rd
/// type would wrap to bit 0 (C# masks the shift count) and a table would seem to store what it does not.
/// </summary>
public class StickTableLayoutMaskTests
{
    [Test]
    public void EveryStoredType_HasItsOwnBitOfTheMask()
    {
        uint all = 0;
        foreach (var type in Enum.GetValues<StickDataType>())
        {
            Assert.That((int)type, Is.InRange(0, 31), $"{type}: the mask is a uint, one bit per type");
            uint bit = StickTableLayout.MaskOf(type, type);
            Assert.That(all & bit, Is.Zero, $"{type} shares its bit with another type");
            all |= bit;
        }
    }
}
