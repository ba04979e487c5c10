namespace Proxy.Worker.Balancing;

/// <summary>
/// `balance random[(DRAWS)]`: DRAWS servers drawn at random by weight, the least loaded of them (current sessions per
/// unit of weight) taken: HAProxy's "power of two random choices" with its default of 2 draws. A later draw wins a tie,
/// as in HAProxy's get_server_rnd, so an idle farm is served in proportion to the weights.
/// </summary>
internal sealed class RandomBalancer(int draws) : IBalancer
{
    private volatile WeightedSchedule _schedule = WeightedSchedule.Empty;

    public void Rebuild(ServerRuntime[] usable) => _schedule = WeightedSchedule.Build(usable);

    public ServerRuntime? Pick(in PickContext context, ServerRuntime? exclude)
    {
        var schedule = _schedule;
        int n = schedule.Sequence.Length;
        if (n == 0) return null;
        ServerRuntime? best = null;
        for (int d = 0; d < draws; d++)
        {
            var s = schedule.At((uint)Random.Shared.Next(n), exclude);
            // s.load / s.weight <= best.load / best.weight, cross-multiplied to stay in integers.
            if (s is not null && (best is null || s.CurrentSessions * best.Weight <= best.CurrentSessions * s.Weight)) best = s;
        }
        return best;
    }
}
