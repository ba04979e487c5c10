using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Proxy.Shared.Config;

namespace Proxy.Worker.Samples;

/// <summary>
/// The patterns of an ACL or the keys of a map, compiled for one matching method (doc/configuration.txt 7.1.1 to
/// 7.1.6): exact strings in a hash index (a large map costs one lookup), prefixes, suffixes and substrings as bytes,
/// regexes built once, integer ranges, networks as bytes and a prefix length. <see cref="Find"/> returns the first
/// pattern that matches, allocating nothing.
/// </summary>
internal sealed class PatternSet
{
    private readonly PatternMatch _match;
    private readonly bool _ignoreCase;
    private readonly byte[][] _bytes;
    private readonly Dictionary<ulong, int> _exactIndex = [];
    private readonly int[] _exactNext = [];
    private readonly Regex[] _regexes = [];
    private readonly (long Min, long Max)[] _ranges = [];
    private readonly (byte[] Address, int Prefix)[] _networks = [];

    public PatternSet(PatternMatch match, bool ignoreCase, IReadOnlyList<string> patterns)
    {
        _match = match;
        _ignoreCase = ignoreCase;
        _bytes = new byte[patterns.Count][];
        for (int i = 0; i < _bytes.Length; i++) _bytes[i] = Encoding.UTF8.GetBytes(patterns[i]);
        switch (match)
        {
            case PatternMatch.Str:
                // Chained by hash, first pattern first: Find returns the first of equal patterns, as a list would.
                _exactNext = new int[_bytes.Length];
                for (int i = _bytes.Length - 1; i >= 0; i--)
                {
                    ulong h = Hash(_bytes[i], ignoreCase);
                    _exactNext[i] = _exactIndex.TryGetValue(h, out int next) ? next : -1;
                    _exactIndex[h] = i;
                }
                break;
            case PatternMatch.Reg:
                var options = RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
                _regexes = new Regex[patterns.Count];
                for (int i = 0; i < _regexes.Length; i++) _regexes[i] = new Regex(patterns[i], options, RegexLimits.MatchTimeout);
                break;
            case PatternMatch.Int or PatternMatch.Len:
                _ranges = new (long, long)[patterns.Count];
                for (int i = 0; i < _ranges.Length; i++)
                    if (SamplePatterns.TryIntRange(patterns[i], out long min, out long max)) _ranges[i] = (min, max);
                break;
            case PatternMatch.Ip:
                _networks = new (byte[], int)[patterns.Count];
                for (int i = 0; i < _networks.Length; i++)
                    if (SamplePatterns.TryNetwork(patterns[i], out IPNetwork n)) _networks[i] = (n.BaseAddress.GetAddressBytes(), n.PrefixLength);
                break;
        }
    }

    public int Count => _bytes.Length;

    /// <summary>A regex on a client's value: one that runs past its match timeout does not match (RegexLimits.MatchTimeout).</summary>
    private static bool IsMatch(Regex regex, ReadOnlySpan<char> chars)
    {
        try
        {
            return regex.IsMatch(chars);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    /// <summary>The index of the first pattern <paramref name="s"/> matches, or -1 (always -1 without a sample).</summary>
    public int Find(SampleContext ctx, scoped in Sample s)
    {
        if (!s.Exists) return -1;
        switch (_match)
        {
            case PatternMatch.Found: return 0;
            case PatternMatch.Bool: return SampleText.TryAsInt(s, out long b) && b != 0 ? 0 : -1;
            case PatternMatch.Int:
                if (!SampleText.TryAsInt(s, out long v)) return -1;
                return FindRange(v);
            case PatternMatch.Ip:
                return SampleText.TryAsIp(ctx, s, out var ip) ? FindNetwork(ip) : -1;
        }
        if (!SampleText.TryAsBytes(ctx, s, out var text)) return -1;
        switch (_match)
        {
            case PatternMatch.Len: return FindRange(text.Length);
            case PatternMatch.Str:
                if (!_exactIndex.TryGetValue(Hash(text, _ignoreCase), out int i)) return -1;
                for (; i >= 0; i = _exactNext[i])
                    if (Equal(text, _bytes[i])) return i;
                return -1;
            case PatternMatch.Reg:
                var chars = ctx.AsChars(text);
                for (int r = 0; r < _regexes.Length; r++)
                    if (IsMatch(_regexes[r], chars)) return r;
                return -1;
        }
        for (int p = 0; p < _bytes.Length; p++)
        {
            var pattern = _bytes[p];
            bool hit = _match switch
            {
                PatternMatch.Beg => pattern.Length <= text.Length && Equal(text[..pattern.Length], pattern),
                PatternMatch.End => pattern.Length <= text.Length && Equal(text[^pattern.Length..], pattern),
                PatternMatch.Sub => IndexOf(text, pattern) >= 0,
                PatternMatch.Dir => Delimited(text, pattern, "/?"u8),
                PatternMatch.Dom => Delimited(text, pattern, "/?.:"u8),
                _ => false,
            };
            if (hit) return p;
        }
        return -1;
    }

    private int FindRange(long v)
    {
        for (int i = 0; i < _ranges.Length; i++)
            if (v >= _ranges[i].Min && v <= _ranges[i].Max) return i;
        return -1;
    }

    private int FindNetwork(ReadOnlySpan<byte> ip)
    {
        for (int i = 0; i < _networks.Length; i++)
        {
            var (network, prefix) = _networks[i];
            if (network.Length != ip.Length) continue;
            int full = prefix / 8, rest = prefix % 8;
            if (!ip[..full].SequenceEqual(network.AsSpan(0, full))) continue;
            if (rest == 0 || ((ip[full] ^ network[full]) & (0xFF00 >> rest) & 0xFF) == 0) return i;
        }
        return -1;
    }

    private bool Equal(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => _ignoreCase ? Ascii.EqualsIgnoreCase(a, b) : a.SequenceEqual(b);

    private int IndexOf(ReadOnlySpan<byte> text, ReadOnlySpan<byte> pattern)
    {
        if (!_ignoreCase) return text.IndexOf(pattern);
        for (int i = 0; i + pattern.Length <= text.Length; i++)
            if (Ascii.EqualsIgnoreCase(text.Slice(i, pattern.Length), pattern)) return i;
        return -1;
    }

    /// <summary>dir and dom (7.1.4): the pattern found with a delimiter (or the string's edge) on each side.</summary>
    private bool Delimited(ReadOnlySpan<byte> text, ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> delims)
    {
        if (pattern.IsEmpty) return false;
        for (int i = 0; i + pattern.Length <= text.Length; i++)
        {
            if (i > 0 && !delims.Contains(text[i - 1])) continue;
            int end = i + pattern.Length;
            if (end < text.Length && !delims.Contains(text[end])) continue;
            if (Equal(text.Slice(i, pattern.Length), pattern)) return true;
        }
        return false;
    }

    /// <summary>FNV-1a over the bytes (lower-cased for -i).</summary>
    private static ulong Hash(ReadOnlySpan<byte> bytes, bool ignoreCase)
    {
        ulong h = 14695981039346656037;
        foreach (byte raw in bytes)
        {
            byte b = ignoreCase && raw is >= (byte)'A' and <= (byte)'Z' ? (byte)(raw + 32) : raw;
            h = (h ^ b) * 1099511628211;
        }
        return h;
    }
}
