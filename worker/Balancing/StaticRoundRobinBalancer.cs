namespace Proxy.Worker.Balancing;

/// <summary>
/// `balance static-rr`: weighted round robin whose weights cannot change at run time. Weights are static in this
/// engine anyway, so the order is the same as <see cref="RoundRobinBalancer"/>; it stays a separate type so that
/// dynamic weights (`set weight`) can later apply to roundrobin only, as in HAProxy.
/// </summary>
internal sealed class StaticRoundRobinBalancer : IBalancer
{
    private volatile WeightedSchedule _schedule = WeightedSchedule.Empty;
    private int _next = -1;

    public void Rebuild(ServerRuntime[] usable) => _schedule = WeightedSchedule.Build(usable);

    public ServerRuntime? Pick(in PickContext context, ServerRuntime? exclude)
        => _schedule.At((uint)Interlocked.Increment(ref _next), exclude);
}
