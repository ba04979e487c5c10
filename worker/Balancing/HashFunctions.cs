namespace Proxy.Worker.Balancing;

/// <summary>
/// The `hash-type` functions, bit for bit as HAProxy's src/hash.c (over unsigned bytes), and HAProxy's `full_hash`
/// (Bob Jenkins' 32-bit integer mix) used by the `avalanche` modifier and by consistent hashing of the source address.
/// </summary>
internal static class HashFunctions
{
    /// <summary>Hashes <paramref name="key"/> with <paramref name="function"/>, then mixes the result when <paramref name="avalanche"/> is set.</summary>
    public static uint Compute(Proxy.Shared.Config.HashFunction function, bool avalanche, ReadOnlySpan<byte> key)
    {
        uint hash = function switch
        {
            Proxy.Shared.Config.HashFunction.Djb2 => Djb2(key),
            Proxy.Shared.Config.HashFunction.Wt6 => Wt6(key),
            Proxy.Shared.Config.HashFunction.Crc32 => Crc32(key),
            _ => Sdbm(key),
        };
        return avalanche ? FullHash(hash) : hash;
    }

    /// <summary>sdbm (HAProxy's default): hash = c + (hash &lt;&lt; 6) + (hash &lt;&lt; 16) - hash.</summary>
    public static uint Sdbm(ReadOnlySpan<byte> key)
    {
        uint hash = 0;
        foreach (byte c in key) hash = c + (hash << 6) + (hash << 16) - hash;
        return hash;
    }

    /// <summary>djb2 (Bernstein): hash = hash * 33 + c from 5381.</summary>
    public static uint Djb2(ReadOnlySpan<byte> key)
    {
        uint hash = 5381;
        foreach (byte c in key) hash = (hash << 5) + hash + c;
        return hash;
    }

    /// <summary>wt6 (Willy Tarreau's): two rotating accumulators whose rotation steps depend on the data.</summary>
    public static uint Wt6(ReadOnlySpan<byte> key)
    {
        uint h0 = 0xa53c965a, h1 = 0x5ca6953a;
        int step0 = 6, step1 = 18;
        foreach (byte b in key)
        {
            uint t = b;
            h0 = ~(h0 ^ t);
            h1 = ~(h1 + t);
            t = (h1 << step0) | (h1 >> (32 - step0));
            h1 = (h0 << step1) | (h0 >> (32 - step1));
            h0 = t;
            t = ((h0 >> 16) ^ h1) & 0xffff;
            step0 = (int)(t & 0x1F);
            step1 = (int)(t >> 11);
        }
        return h0 ^ h1;
    }

    /// <summary>CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bit by bit as HAProxy computes it.</summary>
    public static uint Crc32(ReadOnlySpan<byte> key)
    {
        uint hash = ~0u;
        foreach (byte c in key)
        {
            hash ^= c;
            for (int bit = 0; bit < 8; bit++)
                hash = (hash >> 1) ^ ((hash & 1) != 0 ? 0xedb88320 : 0);
        }
        return ~hash;
    }

    /// <summary>HAProxy's full_hash(): spreads every input bit over the whole result.</summary>
    public static uint FullHash(uint a)
    {
        a = (a + 0x7ed55d16) + (a << 12);
        a = (a ^ 0xc761c23c) ^ (a >> 19);
        a = (a + 0x165667b1) + (a << 5);
        a = (a + 0xd3a2646c) ^ (a << 9);
        a = (a + 0xfd7046c5) + (a << 3);
        a = (a ^ 0xb55a4f09) ^ (a >> 16);
        return a;
    }
}
