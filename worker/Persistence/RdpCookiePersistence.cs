using System.Buffers.Text;
using System.Net.Sockets;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Persistence;

/// <summary>
/// `persist rdp-cookie[(NAME)]` (doc/configuration.txt 4.2), after HAProxy's tcp_persist_rdp_cookie: the RDP connection
/// request's cookie NAME (msts by default) is `ADDR.PORT.` where ADDR is the server's IPv4 address as the decimal of
/// its four bytes read little-endian (the s_addr of a little-endian machine) and PORT its port byte-swapped (network
/// order read as a host integer), as a Microsoft connection broker writes it. The server of that address and port
/// takes the connection when it is running or with `option persist`.
/// </summary>
internal sealed class RdpCookiePersistence(BackendRuntime be, string name)
{
    private readonly byte[] _name = System.Text.Encoding.ASCII.GetBytes(name);
    private readonly bool _persist = be.Config.Persistence.Persist;

    public ServerRuntime? Find(ReadOnlySpan<byte> payload)
    {
        if (RdpCookie.Find(payload, _name, out var value) != RdpCookie.Result.Found || value.Length == 0) return null;
        if (!TryDecode(value, out uint address, out int port)) return null;
        Span<byte> bytes = stackalloc byte[4];
        foreach (var s in be.Servers)
        {
            var ep = s.EndPoint;
            if (ep.AddressFamily != AddressFamily.InterNetwork || ep.Port != port || !ep.Address.TryWriteBytes(bytes, out _)) continue;
            if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes) != address) continue;
            if (BackendPersistence.IsRunning(s) || _persist) return s;
        }
        return null;
    }

    /// <summary>`ADDR.PORT.`: strtoul's digits then a dot, twice (what follows the second dot is not read).</summary>
    internal static bool TryDecode(ReadOnlySpan<byte> value, out uint address, out int port)
    {
        port = 0;
        if (!Utf8Parser.TryParse(value, out address, out int used) || used >= value.Length || value[used] != (byte)'.')
            return false;
        value = value[(used + 1)..];
        if (!Utf8Parser.TryParse(value, out uint raw, out used) || used >= value.Length || value[used] != (byte)'.') return false;
        ushort wire = (ushort)raw;   // strtoul then ntohs: the low 16 bits, byte-swapped
        port = (ushort)((wire >> 8) | (wire << 8));
        return true;
    }
}
