using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Http;

/// <summary>
/// Writes a head for the next hop with the header rules of up to two proxies applied (frontend then backend for
/// requests, backend then frontend for responses, as HAProxy evaluates them), after the hop-by-hop filtering of
/// <see cref="Http1HeadWriter"/>. A rule acts on the head as the previous rules left it: `set-header` and
/// `del-header` remove every earlier field of that name, received or added (4.2 "http-request set-header").
/// </summary>
internal static class HttpHeadComposer
{
    /// <summary>
    /// Writes into <paramref name="destination"/>; returns the length, or -1 when it does not fit (the caller
    /// answers 500 / 502 as HAProxy does when a rewrite fails).
    /// </summary>
    public static int Write(HttpHead head, Span<byte> destination, HttpHeadWriteFlags flags, ReadOnlySpan<byte> extraHeaderLines,
        CompiledHeaderRule[] first, ulong firstMask, CompiledHeaderRule[] second, ulong secondMask)
    {
        // A rule added earlier is cancelled by a later set/del of the same name.
        Cancel(first, ref firstMask, second, ref secondMask);
        int p = 0;
        if (!Put(destination, ref p, head.StartLine) || !Put(destination, ref p, "\r\n"u8)) return -1;
        for (int i = 0; i < head.HeaderCount; i++)
        {
            if (Http1HeadWriter.IsRemoved(head, i, flags)) continue;
            var name = head.GetHeaderName(i);
            if (Removes(first, firstMask, name) || Removes(second, secondMask, name)) continue;
            if (!PutField(destination, ref p, name, head.GetHeaderValue(i))) return -1;
        }
        if (!Put(destination, ref p, extraHeaderLines)) return -1;
        if (!PutAdded(destination, ref p, first, firstMask) || !PutAdded(destination, ref p, second, secondMask)) return -1;
        if (!Put(destination, ref p, ConnectionLine(flags)) || !Put(destination, ref p, "\r\n"u8)) return -1;
        return p;
    }

    private static void Cancel(CompiledHeaderRule[] first, ref ulong firstMask, CompiledHeaderRule[] second, ref ulong secondMask)
    {
        int total = first.Length + second.Length;
        for (int j = 1; j < total; j++)
        {
            var later = j < first.Length ? first[j] : second[j - first.Length];
            bool active = j < first.Length ? (firstMask & (1UL << j)) != 0 : (secondMask & (1UL << (j - first.Length))) != 0;
            if (!active || later.Action == HeaderAction.Add) continue;
            for (int i = 0; i < j; i++)
            {
                var earlier = i < first.Length ? first[i] : second[i - first.Length];
                if (!Ascii.EqualsIgnoreCase(earlier.Name, later.Name)) continue;
                if (i < first.Length) firstMask &= ~(1UL << i);
                else secondMask &= ~(1UL << (i - first.Length));
            }
        }
    }

    private static bool Removes(CompiledHeaderRule[] rules, ulong mask, ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < rules.Length; i++)
        {
            if ((mask & (1UL << i)) == 0 || rules[i].Action == HeaderAction.Add) continue;
            if (Ascii.EqualsIgnoreCase(rules[i].Name, name)) return true;
        }
        return false;
    }

    private static bool PutAdded(Span<byte> destination, ref int p, CompiledHeaderRule[] rules, ulong mask)
    {
        for (int i = 0; i < rules.Length; i++)
        {
            if ((mask & (1UL << i)) == 0 || rules[i].Action == HeaderAction.Delete) continue;
            if (!PutField(destination, ref p, rules[i].Name, rules[i].Value)) return false;
        }
        return true;
    }

    private static ReadOnlySpan<byte> ConnectionLine(HttpHeadWriteFlags flags)
    {
        bool upgrade = (flags & HttpHeadWriteFlags.KeepUpgrade) != 0;
        if ((flags & HttpHeadWriteFlags.ConnectionClose) != 0)
            return upgrade ? "Connection: upgrade, close\r\n"u8 : "Connection: close\r\n"u8;
        if ((flags & HttpHeadWriteFlags.ConnectionKeepAlive) != 0)
            return upgrade ? "Connection: upgrade, keep-alive\r\n"u8 : "Connection: keep-alive\r\n"u8;
        return upgrade ? "Connection: upgrade\r\n"u8 : default;
    }

    private static bool PutField(Span<byte> destination, ref int p, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
        Put(destination, ref p, name) && Put(destination, ref p, ": "u8) && Put(destination, ref p, value) && Put(destination, ref p, "\r\n"u8);

    private static bool Put(Span<byte> destination, ref int p, ReadOnlySpan<byte> bytes)
    {
        if (destination.Length - p < bytes.Length) return false;
        bytes.CopyTo(destination[p..]);
        p += bytes.Length;
        return true;
    }
}
