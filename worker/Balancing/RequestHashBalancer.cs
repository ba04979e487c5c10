using Proxy.Shared.Config;

namespace Proxy.Worker.Balancing;

/// <summary>
/// `balance uri`, `balance url_param NAME`, `balance hdr(NAME)`: the request's key (<see cref="PickContext.Key"/>) is
/// hashed with the `hash-type` function and looked up map-based (hash mod total weight) or on the consistent ring.
/// A request without a key goes round robin over the same servers, as in HAProxy.
/// </summary>
internal sealed class RequestHashBalancer(BalanceOptions options) : IBalancer
{
    private volatile HashedServers _servers = HashedServers.Empty;
    private int _next = -1;

    public void Rebuild(ServerRuntime[] usable) => _servers = HashedServers.Build(usable, options.HashMethod, options.HashBalanceFactor);

    public ServerRuntime? Pick(in PickContext context, ServerRuntime? exclude)
    {
        var servers = _servers;
        if (!context.HasKey) return servers.Map.At((uint)Interlocked.Increment(ref _next), exclude);
        return servers.ByHash(HashFunctions.Compute(options.HashFunction, options.HashAvalanche, context.Key), exclude);
    }
}
