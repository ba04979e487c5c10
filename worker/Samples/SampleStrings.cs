using System.Text.RegularExpressions;

namespace Proxy.Worker.Samples;

/// <summary>The string converters' work (7.3.1 "field", "word", "regsub", "url_dec", "json", "lower", "upper").</summary>
internal static class SampleStrings
{
    /// <summary>ASCII letters only change case, as HAProxy's tolower()/toupper() in the C locale.</summary>
    public static bool TryChangeCase(ReadOnlySpan<byte> input, Span<byte> dest, bool upper)
    {
        if (dest.Length < input.Length) return false;
        for (int i = 0; i < input.Length; i++)
        {
            byte b = input[i];
            dest[i] = upper ? (b is >= (byte)'a' and <= (byte)'z' ? (byte)(b - 32) : b) : (b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b);
        }
        return true;
    }

    /// <summary>
    /// field(INDEX,DELIMS[,COUNT]) and word(...): the INDEX-th field (1 the first, -1 the last) and the COUNT-1 after it
    /// (0: all that follow), delimiters between them kept. Fields are cut at each delimiter; words at runs of them,
    /// leading and trailing delimiters ignored.
    /// </summary>
    public static bool TryField(ReadOnlySpan<byte> input, ReadOnlySpan<byte> delims, int index, int count, bool words, out ReadOnlySpan<byte> result)
    {
        result = default;
        // A negative index counts from the end, and COUNT then runs backwards from it (7.3.1 "field" examples).
        int total = CountFields(input, delims, words);
        int first, last;
        if (index < 0)
        {
            last = total + 1 + index;
            first = count <= 0 ? 1 : Math.Max(1, last - count + 1);
        }
        else
        {
            first = index;
            last = count <= 0 ? total : Math.Min(total, index + count - 1);
        }
        if (first <= 0 || last <= 0 || first > total) return false;
        index = first;
        int start = -1, end = input.Length, n = 0, i = 0;
        while (i <= input.Length)
        {
            if (words) while (i < input.Length && delims.Contains(input[i])) i++;
            if (words && i == input.Length) break;
            int fieldStart = i;
            while (i < input.Length && !delims.Contains(input[i])) i++;
            n++;
            if (n == index) start = fieldStart;
            if (n == last) { end = i; break; }
            i++;
        }
        if (start < 0) return false;
        result = input[start..end];
        return true;
    }

    private static int CountFields(ReadOnlySpan<byte> input, ReadOnlySpan<byte> delims, bool words)
    {
        if (!words) return input.IndexOfAny(delims) < 0 ? 1 : CountAny(input, delims) + 1;
        int n = 0;
        bool inWord = false;
        foreach (byte b in input)
        {
            bool d = delims.Contains(b);
            if (!d && !inWord) n++;
            inWord = !d;
        }
        return n;
    }

    private static int CountAny(ReadOnlySpan<byte> input, ReadOnlySpan<byte> delims)
    {
        int n = 0;
        foreach (byte b in input) if (delims.Contains(b)) n++;
        return n;
    }

    /// <summary>
    /// regsub(REGEX,SUBST[,FLAGS]) into the context's scratch: the first match (every one with `g`) replaced by SUBST,
    /// where \1..\9 name groups. Without groups in SUBST nothing is allocated; with them, .NET's Match object is.
    /// </summary>
    public static bool TryRegSub(SampleContext ctx, ReadOnlySpan<byte> input, Regex regex, byte[] subst, bool global, out int length)
    {
        length = 0;
        try
        {
            return RegSub(ctx, input, regex, subst, global, out length);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;   // past RegexLimits.MatchTimeout: no sample, as a regsub that failed
        }
    }

    private static bool RegSub(SampleContext ctx, ReadOnlySpan<byte> input, Regex regex, byte[] subst, bool global, out int length)
    {
        length = 0;
        var chars = ctx.AsChars(input);
        if (chars.Length < input.Length) return false;
        var dest = ctx.ScratchFree;
        int p = 0, copied = 0;
        bool groups = subst.AsSpan().IndexOf((byte)'\\') >= 0;
        string? text = groups ? chars.ToString() : null;
        foreach (var m in regex.EnumerateMatches(chars))
        {
            if (!Put(dest, ref p, input[copied..m.Index])) return false;
            if (!groups)
            {
                if (!Put(dest, ref p, subst)) return false;
            }
            else
            {
                var match = regex.Match(text!, m.Index);
                for (int i = 0; i < subst.Length; i++)
                {
                    if (subst[i] == '\\' && i + 1 < subst.Length && subst[i + 1] is >= (byte)'0' and <= (byte)'9')
                    {
                        var g = match.Groups[subst[++i] - '0'];
                        if (g.Success && !Put(dest, ref p, input.Slice(g.Index, g.Length))) return false;
                        continue;
                    }
                    if (p >= dest.Length) return false;
                    dest[p++] = subst[i];
                }
            }
            copied = m.Index + m.Length;
            if (!global) break;
        }
        if (!Put(dest, ref p, input[copied..])) return false;
        length = p;
        return true;
    }

    private static bool Put(Span<byte> dest, ref int p, ReadOnlySpan<byte> bytes)
    {
        if (!bytes.TryCopyTo(dest[p..])) return false;
        p += bytes.Length;
        return true;
    }

    /// <summary>url_dec([IN_FORM]): %XX decoded; '+' becomes a space in a form, or after the first '?' otherwise.</summary>
    public static bool TryUrlDecode(ReadOnlySpan<byte> input, Span<byte> dest, bool inForm, out int length)
    {
        length = 0;
        if (dest.Length < input.Length) return false;
        bool query = inForm;
        int p = 0;
        for (int i = 0; i < input.Length; i++)
        {
            byte b = input[i];
            if (b == '?') query = true;
            if (b == '%')
            {
                if (i + 2 >= input.Length + 0 && i + 2 > input.Length - 1) return false;
                int hi = HexValue(input[i + 1]), lo = HexValue(input[i + 2]);
                if (hi < 0 || lo < 0) return false;
                dest[p++] = (byte)(hi << 4 | lo);
                i += 2;
                continue;
            }
            dest[p++] = b == '+' && query ? (byte)' ' : b;
        }
        length = p;
        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>json: escapes '"', '\\', '/' and control characters (as \uXXXX) for a JSON string.</summary>
    public static bool TryJsonEscape(ReadOnlySpan<byte> input, Span<byte> dest, out int length)
    {
        int p = 0;
        length = 0;
        foreach (byte b in input)
        {
            if (dest.Length - p < 6) return false;
            switch (b)
            {
                case (byte)'"' or (byte)'\\' or (byte)'/':
                    dest[p++] = (byte)'\\';
                    dest[p++] = b;
                    break;
                case (byte)'\n': dest[p++] = (byte)'\\'; dest[p++] = (byte)'n'; break;
                case (byte)'\r': dest[p++] = (byte)'\\'; dest[p++] = (byte)'r'; break;
                case (byte)'\t': dest[p++] = (byte)'\\'; dest[p++] = (byte)'t'; break;
                case < 0x20:
                    "\\u00"u8.CopyTo(dest[p..]);
                    dest[p + 4] = (byte)"0123456789abcdef"[b >> 4];
                    dest[p + 5] = (byte)"0123456789abcdef"[b & 15];
                    p += 6;
                    break;
                default: dest[p++] = b; break;
            }
        }
        length = p;
        return true;
    }
}
