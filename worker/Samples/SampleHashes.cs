using Proxy.Shared.Config;

namespace Proxy.Worker.Samples;

/// <summary>The hash converters (7.3.1 "sdbm", "djb2", "crc32", "wt6"), as HAProxy's src/hash.c computes them.</summary>
internal static class SampleHashes
{
    public static uint Hash(SampleConverterKind kind, ReadOnlySpan<byte> data) => kind switch
    {
        SampleConverterKind.Sdbm => Sdbm(data),
        SampleConverterKind.Djb2 => Djb2(data),
        SampleConverterKind.Crc32 => Crc32(data),
        _ => Wt6(data),
    };

    private static uint Sdbm(ReadOnlySpan<byte> data)
    {
        uint h = 0;
        foreach (byte b in data) h = b + (h << 6) + (h << 16) - h;
        return h;
    }

    private static uint Djb2(ReadOnlySpan<byte> data)
    {
        uint h = 5381;
        foreach (byte b in data) h = 33 * h + b;
        return h;
    }

    /// <summary>hash_crc32: the IEEE CRC-32 (polynomial 0xEDB88320), bit by bit as HAProxy computes it.</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint h = ~0u;
        foreach (byte b in data)
        {
            h ^= b;
            for (int bit = 0; bit < 8; bit++) h = (h >> 1) ^ ((h & 1) != 0 ? 0xedb88320u : 0);
        }
        return ~h;
    }

    /// <summary>hash_wt6 (src/hash.c).</summary>
    private static uint Wt6(ReadOnlySpan<byte> data)
    {
        uint h0 = 0xa53c965a, h1 = 0x5ca6953a;
        uint step0 = 6, step1 = 18;
        foreach (byte c in data)
        {
            uint t = c;
            h0 = ~(h0 ^ t);
            h1 = ~(h1 + t);
            t = (h1 << (int)step0) | (h1 >> (int)(32 - step0));
            h1 = (h0 << (int)step1) | (h0 >> (int)(32 - step1));
            h0 = t;
            t = ((h0 >> 16) ^ h1) & 0xffff;
            step0 = t & 0x1F;
            step1 = t >> 11;
        }
        return h0 ^ h1;
    }

    /// <summary>full_hash (Bob Jenkins' 32-bit integer mix, src/hash.h), the converters' optional avalanche.</summary>
    public static uint FullAvalanche(uint a)
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
