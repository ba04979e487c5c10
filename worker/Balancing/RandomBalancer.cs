using System.Net.Sockets;

namespace Proxy.Worker.Balancing;

/// <summary>`balance random`: a random server, weighted (HAProxy's `random(1)`, one draw).</summary>
internal sealed class RandomBalancer : IBalancer
{
    private volatile WeightedSchedule _schedule = WeightedSchedule.Empty;

    public void Rebuild(ServerRuntime[] usable) => _schedule = WeightedSchedule.Build(usable);

    public ServerRuntime? Pick(Socket client, ServerRuntime? exclude)
    {
        var schedule = _schedule;
        int n = schedule.Sequence.Length;
        return n == 0 ? null : schedule.At((uint)Random.Shared.Next(n), exclude);
    }
}
