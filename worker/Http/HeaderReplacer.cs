using System.Text;
using System.Text.RegularExpressions;
using Proxy.Shared.Config;

namespace Proxy.Worker.Http;

/// <summary>
/// `http-request|http-response replace-header|replace-value NAME REGEX REPLACE-FMT` (doc/configuration.txt 4.2), as
/// HAProxy's http_replace_hdrs: when the regex matches somewhere in a field's value (replace-header) or in one of its
/// comma-separated values (replace-value), that whole value becomes REPLACE-FMT rendered, `\N` taking the regex's
/// group N. A value the regex does not match is left as it is. Several rules on one field apply in order, each to
/// what the previous one left. The rendered replacement goes through the context's value buffer and the result is
/// written straight into the outgoing head; a replacement naming groups costs one string for the regex (.NET's
/// group captures need one), the others allocate nothing.
/// </summary>
internal static class HeaderReplacer
{
    /// <summary>Whether an active replace rule names this field.</summary>
    public static bool Applies(CompiledHeaderRule[] first, ulong firstMask, CompiledHeaderRule[] second, ulong secondMask, ReadOnlySpan<byte> name) =>
        Names(first, firstMask, name) || Names(second, secondMask, name);

    private static bool Names(CompiledHeaderRule[] rules, ulong mask, ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < rules.Length; i++)
            if ((mask & (1UL << i)) != 0 && rules[i].Pattern is not null && Ascii.EqualsIgnoreCase(rules[i].Name, name)) return true;
        return false;
    }

    /// <summary>Writes "name: value\r\n" with the replace rules applied; false when it does not fit or a value turns invalid.</summary>
    public static bool Write(Span<byte> destination, ref int p, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value,
        CompiledHeaderRule[] first, ulong firstMask, CompiledHeaderRule[] second, ulong secondMask, Samples.SampleContext ctx)
    {
        if (!Http1HeadWriter.Put(destination, ref p, name) || !Http1HeadWriter.Put(destination, ref p, ": "u8)) return false;
        // The value lives in the outgoing head from here on: each rule reads it there and writes its result back.
        int start = p;
        if (!Http1HeadWriter.Put(destination, ref p, value)) return false;
        if (!Rewrite(destination, start, ref p, name, first, firstMask, second, secondMask, 0, ctx)) return false;
        if (destination[start..p].IndexOfAny(HttpChars.InvalidValue) >= 0) return false;
        return Http1HeadWriter.Put(destination, ref p, "\r\n"u8);
    }

    /// <summary>
    /// Applies the active replace rules naming <paramref name="name"/>, from the one at combined index
    /// <paramref name="from"/> on (the first proxy's rules, then the second's), to the value at
    /// destination[start..p], in place. A field a set-header|add-header wrote passes the index after its own rule,
    /// so only the replace rules written after it see it (4.2: the rules apply in order on the message).
    /// </summary>
    public static bool Rewrite(Span<byte> destination, int start, ref int p, ReadOnlySpan<byte> name,
        CompiledHeaderRule[] first, ulong firstMask, CompiledHeaderRule[] second, ulong secondMask, int from, Samples.SampleContext ctx)
    {
        for (int k = from; k < first.Length + second.Length; k++)
        {
            bool inFirst = k < first.Length;
            var rule = inFirst ? first[k] : second[k - first.Length];
            ulong bit = 1UL << (inFirst ? k : k - first.Length);
            if (((inFirst ? firstMask : secondMask) & bit) == 0 || rule.Pattern is null || !Ascii.EqualsIgnoreCase(rule.Name, name)) continue;
            int length = Apply(rule, destination[start..p], destination[start..], ctx);
            if (length < 0) return false;
            p = start + length;
        }
        return true;
    }

    /// <summary>One rule on <paramref name="current"/>; the result goes to <paramref name="output"/> (which may overlap it).</summary>
    private static int Apply(CompiledHeaderRule rule, ReadOnlySpan<byte> current, Span<byte> output, Samples.SampleContext ctx)
    {
        // The replacement, rendered once per field: a log-format string (`%[src]`), or the literal.
        ReadOnlySpan<byte> replacement = rule.Value;
        if (rule.Format is { } format)
        {
            ctx.ResetScratch();
            var buffer = ctx.ValueBuffer;
            int n = format.Render(ctx, null, buffer);
            if (n < 0) return -1;
            replacement = buffer[..n];
        }
        ctx.ResetScratch();
        var result = ctx.ScratchFree;
        int r = 0;
        if (rule.Action == HeaderAction.Replace)
        {
            if (!ReplaceOne(rule.Pattern!, current, replacement, result, ref r, ctx)) return -1;
        }
        else
        {
            // replace-value: each value between commas, its surrounding spaces and the commas kept as they were.
            int from = 0;
            while (true)
            {
                int comma = current[from..].IndexOf((byte)',');
                int end = comma < 0 ? current.Length : from + comma;
                int a = from, b = end;
                while (a < b && current[a] is (byte)' ' or (byte)'\t') a++;
                while (b > a && current[b - 1] is (byte)' ' or (byte)'\t') b--;
                if (!Put(result, ref r, current[from..a]) || !ReplaceOne(rule.Pattern!, current[a..b], replacement, result, ref r, ctx)
                    || !Put(result, ref r, current[b..end])) return -1;
                if (comma < 0) break;
                if (!Put(result, ref r, ","u8)) return -1;
                from = end + 1;
            }
        }
        if (r > output.Length) return -1;
        result[..r].CopyTo(output);
        return r;
    }

    /// <summary>The value replaced when the regex matches in it (HAProxy's exp_replace: `\N` is group N, `\\` a backslash), else as is.</summary>
    private static bool ReplaceOne(Regex regex, ReadOnlySpan<byte> value, ReadOnlySpan<byte> replacement, Span<byte> dest, ref int p,
        Samples.SampleContext ctx)
    {
        try
        {
            return Replace(regex, value, replacement, dest, ref p, ctx);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;   // past RegexLimits.MatchTimeout: a failed rewrite (the caller answers 500 / 502)
        }
    }

    private static bool Replace(Regex regex, ReadOnlySpan<byte> value, ReadOnlySpan<byte> replacement, Span<byte> dest, ref int p,
        Samples.SampleContext ctx)
    {
        var chars = ctx.AsChars(value);
        if (chars.Length < value.Length || !regex.IsMatch(chars)) return Put(dest, ref p, value);
        Match? match = null;
        for (int i = 0; i < replacement.Length; i++)
        {
            byte c = replacement[i];
            if (c == '\\' && i + 1 < replacement.Length)
            {
                byte next = replacement[++i];
                if (next is >= (byte)'0' and <= (byte)'9')
                {
                    match ??= regex.Match(chars.ToString());
                    var g = match.Groups[next - '0'];
                    if (g.Success && !Put(dest, ref p, value.Slice(g.Index, g.Length))) return false;
                    continue;
                }
                c = next;
            }
            if (p >= dest.Length) return false;
            dest[p++] = c;
        }
        return true;
    }

    private static bool Put(Span<byte> dest, ref int p, ReadOnlySpan<byte> bytes) => Http1HeadWriter.Put(dest, ref p, bytes);
}
