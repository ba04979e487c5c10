namespace Proxy.Shared.Config;

/// <summary>
/// HAProxy time values (doc/configuration.txt 2.5 "Time format"): an unsigned integer followed by an
/// optional unit `us`, `ms`, `s`, `m`, `h` or `d`; without a unit the keyword's default unit applies
/// (milliseconds for every keyword supported here). HAProxy stores timers as 32-bit milliseconds, so
/// larger values are rejected as it does ("timer overflow").
/// </summary>
internal static class TimeValue
{
    /// <summary>The largest value HAProxy accepts: 2^31-1 ms, about 24.8 days.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>Parses <paramref name="text"/>; returns false (value undefined) when it is not a valid time.</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        int digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits])) digits++;
        if (digits == 0 || digits > 12) return false;
        long number = long.Parse(text.AsSpan(0, digits), System.Globalization.CultureInfo.InvariantCulture);
        long microsPerUnit = text[digits..] switch
        {
            "" or "ms" => 1_000,
            "us" => 1,
            "s" => 1_000_000,
            "m" => 60_000_000,
            "h" => 3_600_000_000,
            "d" => 86_400_000_000,
            _ => -1,
        };
        if (microsPerUnit < 0) return false;
        // 12 digits times a day in microseconds overflows long: check in decimal first.
        decimal micros = (decimal)number * microsPerUnit;
        if (micros > (decimal)Max.Ticks / TimeSpan.TicksPerMicrosecond) return false;
        value = TimeSpan.FromMicroseconds((long)micros);
        return true;
    }

    /// <summary>The standard message for a bad time, naming the keyword: `'timeout connect': expected a time like 5s, got 'abc'`.</summary>
    public static string Expected(string keyword, string got) =>
        $"'{keyword}': expected a time like 5s, got {ConfigDiagnostics.Quote(got)} (units: us ms s m h d, at most 24d)";
}

/// <summary>
/// HAProxy size values (doc/configuration.txt 2.5, used by `tune.bufsize`): an unsigned integer with an
/// optional suffix `k`, `m` or `g` (powers of 1024, either case).
/// </summary>
internal static class SizeValue
{
    /// <summary>Parses <paramref name="text"/> as a size in bytes that fits an int.</summary>
    public static bool TryParse(string text, out int value)
    {
        value = 0;
        if (text.Length == 0) return false;
        long multiplier = char.ToLowerInvariant(text[^1]) switch
        {
            'k' => 1L << 10,
            'm' => 1L << 20,
            'g' => 1L << 30,
            _ => 1,
        };
        var digits = multiplier == 1 ? text.AsSpan() : text.AsSpan(0, text.Length - 1);
        if (digits.Length == 0 || digits.Length > 10) return false;
        foreach (var c in digits)
            if (!char.IsAsciiDigit(c)) return false;
        long bytes = long.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) * multiplier;
        if (bytes > int.MaxValue) return false;
        value = (int)bytes;
        return true;
    }
}

/// <summary>Plain decimal integers as HAProxy's keywords take them (no sign, no unit).</summary>
internal static class IntValue
{
    public static bool TryParse(string text, out int value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > 10) return false;
        foreach (var c in text)
            if (!char.IsAsciiDigit(c)) return false;
        long n = long.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        if (n > int.MaxValue) return false;
        value = (int)n;
        return true;
    }
}
