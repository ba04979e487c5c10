namespace Proxy.Worker.Persistence;

/// <summary>
/// The dates of a persistence cookie with `maxidle` / `maxlife` (4.2 "cookie"): `NAME=SRV|LAST[|FIRST]`, each date
/// a UNIX time in 4-second units, 30 bits written as 5 base64 characters, most significant first (HAProxy's
/// s30tob64 / b64tos30, so a cookie set by HAProxy is read here and the other way round).
/// </summary>
internal static class CookieDate
{
    public const int Length = 5;
    private static ReadOnlySpan<byte> Alphabet => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"u8;

    /// <summary>Writes the 30 low bits of <paramref name="value"/> into the first 5 bytes of <paramref name="destination"/>.</summary>
    public static void Encode(int value, Span<byte> destination)
    {
        for (int i = Length - 1; i >= 0; i--)
        {
            destination[i] = Alphabet[value & 0x3F];
            value >>= 6;
        }
    }

    /// <summary>The value of the first 5 bytes of <paramref name="text"/>; -1 when shorter or not base64.</summary>
    public static int Decode(ReadOnlySpan<byte> text)
    {
        if (text.Length < Length) return -1;
        int value = 0;
        for (int i = 0; i < Length; i++)
        {
            int digit = Alphabet.IndexOf(text[i]);
            if (digit < 0) return -1;
            value = (value << 6) | digit;
        }
        return value;
    }

    /// <summary>The date HAProxy writes for <paramref name="unixSeconds"/>: rounded up to the next 4-second unit.</summary>
    public static int ToUnits(long unixSeconds) => (int)((unixSeconds + 3) >> 2);
}
