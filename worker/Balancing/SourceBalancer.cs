using System.Net;
using System.Net.Sockets;

namespace Proxy.Worker.Balancing;

/// <summary>
/// `balance source`: the client's IP address is hashed and divided by the total weight of the usable servers
/// (HAProxy's default map-based hashing), so a client keeps its server while the set is unchanged.
/// </summary>
internal sealed class SourceBalancer : IBalancer
{
    private volatile WeightedSchedule _schedule = WeightedSchedule.Empty;

    public void Rebuild(ServerRuntime[] usable) => _schedule = WeightedSchedule.Build(usable);

    public ServerRuntime? Pick(Socket client, ServerRuntime? exclude)
    {
        uint hash = 2166136261;
        if (client.RemoteEndPoint is IPEndPoint ep)
        {
            Span<byte> bytes = stackalloc byte[16];
            if (ep.Address.TryWriteBytes(bytes, out int written))
            {
                // FNV-1a over the address bytes.
                for (int i = 0; i < written; i++) hash = (hash ^ bytes[i]) * 16777619;
            }
        }
        return _schedule.At(hash, exclude);
    }
}
