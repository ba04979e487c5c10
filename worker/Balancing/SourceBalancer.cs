using System.Buffers.Binary;
using System.Net;
using Proxy.Shared.Config;

namespace Proxy.Worker.Balancing;

/// <summary>
/// `balance source`: the client's address folded into 32 bits as HAProxy's get_server_sh does (the big-endian 32-bit
/// words XORed; the `hash-type` function does not apply to it), then divided by the total weight of the usable
/// servers (map-based, the default) or, with `hash-type consistent`, mixed by full_hash and looked up on the ring.
/// A client keeps its server while the set is unchanged. Without a client address: round robin, as HAProxy.
/// </summary>
internal sealed class SourceBalancer(HashMethod method, int balanceFactor = 0) : IBalancer
{
    private volatile HashedServers _servers = HashedServers.Empty;
    private int _next = -1;

    public void Rebuild(ServerRuntime[] usable) => _servers = HashedServers.Build(usable, method, balanceFactor);

    public ServerRuntime? Pick(in PickContext context, ServerRuntime? exclude)
    {
        var servers = _servers;
        // The session's client address, read once per connection (the PROXY header's on an `accept-proxy` listener).
        if (context.Client is not { } ep || !TryFold(ep.Address, out uint hash))
            return servers.Map.At((uint)Interlocked.Increment(ref _next), exclude);
        return servers.ByHash(method == HashMethod.Consistent ? HashFunctions.FullHash(hash) : hash, exclude);
    }

    /// <summary>XOR of the address's big-endian 32-bit words: an IPv4 address is its own number.</summary>
    internal static bool TryFold(IPAddress address, out uint hash)
    {
        hash = 0;
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written) || written % 4 != 0) return false;
        for (int i = 0; i < written; i += 4) hash ^= BinaryPrimitives.ReadUInt32BigEndian(bytes[i..]);
        return true;
    }
}
