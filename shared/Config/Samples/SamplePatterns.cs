using System.Globalization;
using System.Net;

namespace Proxy.Shared.Config;

/// <summary>
/// The pattern syntaxes of ACLs and maps (doc/configuration.txt 7.1.3 "Matching integers", 7.1.6 "Matching IPv4 and
/// IPv6 addresses"), read by the config parser to check them and by workers to compile them.
/// </summary>
public static class SamplePatterns
{
    /// <summary>`N`, `MIN:MAX`, `:MAX`, `MIN:` (7.1.3 "Matching integers").</summary>
    public static bool TryIntRange(string text, out long min, out long max)
    {
        min = long.MinValue;
        max = long.MaxValue;
        int colon = text.IndexOf(':');
        if (colon < 0)
        {
            bool ok = long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out min);
            max = min;
            return ok;
        }
        var lo = text[..colon];
        var hi = text[(colon + 1)..];
        if (lo.Length > 0 && !long.TryParse(lo, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out min)) return false;
        if (hi.Length > 0 && !long.TryParse(hi, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out max)) return false;
        return (lo.Length > 0 || hi.Length > 0) && min <= max;
    }

    /// <summary>An address (a host network) or `ADDRESS/PREFIX` or `ADDRESS/MASK`, IPv4 or IPv6.</summary>
    public static bool TryNetwork(string text, out IPNetwork network)
    {
        int slash = text.IndexOf('/');
        if (slash > 0 && IPAddress.TryParse(text[..slash], out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            && text.IndexOf('.', slash) > 0 && IPAddress.TryParse(text[(slash + 1)..], out var mask) && TryMask(mask.ToString(), 32, out int bits))
        {
            network = new IPNetwork(MaskAddress(a, bits), bits);
            return true;
        }
        if (slash > 0 && IPAddress.TryParse(text[..slash], out var addr)
            && int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int prefix)
            && prefix <= (addr.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
        {
            // HAProxy accepts host bits after the prefix (10.1.2.3/8); IPNetwork does not, so they are cleared.
            network = new IPNetwork(MaskAddress(addr, prefix), prefix);
            return true;
        }
        if (slash < 0 && IPAddress.TryParse(text, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        network = default;
        return false;
    }

    private static IPAddress MaskAddress(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (int i = 0; i < bytes.Length; i++)
        {
            int keep = Math.Clamp(prefix - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF00 >> keep);
        }
        return new IPAddress(bytes);
    }

    /// <summary>A prefix length (`24`) or, for IPv4, a dotted mask (`255.255.255.0`) with contiguous bits.</summary>
    public static bool TryMask(string text, int max, out int bits)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out bits)) return bits <= max;
        if (max == 32 && IPAddress.TryParse(text, out var mask) && mask.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            uint m = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(mask.GetAddressBytes());
            bits = System.Numerics.BitOperations.PopCount(m);
            return m == (bits == 0 ? 0 : uint.MaxValue << (32 - bits));
        }
        return false;
    }

}
