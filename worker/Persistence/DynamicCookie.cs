using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Proxy.Worker.Persistence;

/// <summary>
/// `cookie ... dynamic` (doc/configuration.txt 4.2): a server without `cookie VALUE` gets the 16 hex digits of
/// XXH64(KEY + its address bytes + its port as 4 big-endian bytes), as HAProxy's srv_set_dyncookie, so this proxy and
/// HAProxy with the same `dynamic-cookie-key` send a client to the same server.
/// </summary>
internal static class DynamicCookie
{
    public static byte[] For(string key, IPEndPoint server)
    {
        var buffer = new List<byte>(Encoding.UTF8.GetBytes(key));
        buffer.AddRange(server.Address.GetAddressBytes());
        Span<byte> port = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(port, server.Port);
        buffer.AddRange(port.ToArray());
        return Encoding.ASCII.GetBytes(XxHash64.Hash(buffer.ToArray()).ToString("x16"));
    }
}
