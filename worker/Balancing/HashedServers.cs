using Proxy.Shared.Config;

namespace Proxy.Worker.Balancing;

/// <summary>
/// The usable servers of a hash-based algorithm (`balance source|uri|url_param|hdr`), as one immutable snapshot:
/// the weighted map used by `hash-type map-based` (hash modulo the total weight, HAProxy's default) and by the
/// round robin that HAProxy falls back to when a request has no key, plus the ring of `hash-type consistent`.
/// </summary>
internal sealed class HashedServers
{
    public static readonly HashedServers Empty = new(WeightedSchedule.Empty, null);

    private HashedServers(WeightedSchedule map, ConsistentHashRing? ring)
    {
        Map = map;
        Ring = ring;
    }

    /// <summary>Each server as often as its (reduced) weight, smoothly interleaved.</summary>
    public WeightedSchedule Map { get; }
    /// <summary>Null for map-based hashing.</summary>
    public ConsistentHashRing? Ring { get; }

    public static HashedServers Build(ServerRuntime[] usable, HashMethod method, int balanceFactor = 0) =>
        usable.Length == 0 ? Empty
            : new(WeightedSchedule.Build(usable), method == HashMethod.Consistent ? ConsistentHashRing.Build(usable, balanceFactor) : null);

    /// <summary>The server for <paramref name="hash"/>: on the ring when there is one, else the map entry hash mod total weight.</summary>
    public ServerRuntime? ByHash(uint hash, ServerRuntime? exclude) =>
        Ring is { } ring ? ring.At(hash, exclude) : Map.At(hash, exclude);
}
