namespace Proxy.Worker.Balancing;

/// <summary>
/// `balance roundrobin`: each server in turn according to its weight, smoothly interleaved (nginx's smooth
/// weighted round robin). Lock-free: a shared counter indexes the precomputed <see cref="WeightedSchedule"/>.
/// </summary>
internal sealed class RoundRobinBalancer : IBalancer
{
    private volatile WeightedSchedule _schedule = WeightedSchedule.Empty;
    private int _next = -1;

    public void Rebuild(ServerRuntime[] usable) => _schedule = WeightedSchedule.Build(usable);

    public ServerRuntime? Pick(in PickContext context, ServerRuntime? exclude)
        => _schedule.At((uint)Interlocked.Increment(ref _next), exclude);
}
