using System.Numerics;

namespace Proxy.Worker.ProxyProtocol;

/// <summary>CRC32C (Castagnoli) of the PP2_TYPE_CRC32C TLV (proxy-protocol.txt 2.2.5), with the CPU's crc32 instruction where it has one.</summary>
internal static class Crc32C
{
    /// <summary>Continues <paramref name="crc"/> (start with <see cref="Start"/>, end with <see cref="Finish"/>) over <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
            crc = BitOperations.Crc32C(crc, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        for (; i < data.Length; i++) crc = BitOperations.Crc32C(crc, data[i]);
        return crc;
    }

    public const uint Start = 0xFFFFFFFF;

    public static uint Finish(uint crc) => ~crc;

    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Start, data));
}
