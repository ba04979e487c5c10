namespace Proxy.Worker.Balancing;

/// <summary>
/// An immutable sequence of servers in which each appears as many times as its weight (divided by the gcd of the
/// weights), ordered by nginx's smooth weighted round robin (ngx_http_upstream_get_peer): weights 5,1,1 give
/// a a b a c a a. Built when the usable set changes; picking is an index into it, so it needs no lock.
/// </summary>
internal sealed class WeightedSchedule
{
    // Bounds the table for huge weights; HAProxy weights are at most 256 per server.
    private const int MaxEntries = 1 << 20;

    public static readonly WeightedSchedule Empty = new([], []);

    private WeightedSchedule(ServerRuntime[] servers, ServerRuntime[] sequence)
    {
        Servers = servers;
        Sequence = sequence;
    }

    /// <summary>The usable servers, in declaration order.</summary>
    public ServerRuntime[] Servers { get; }
    /// <summary>The smooth weighted order; its length is the sum of the reduced weights.</summary>
    public ServerRuntime[] Sequence { get; }

    /// <summary>Builds the schedule of <paramref name="servers"/> (all with weight &gt; 0).</summary>
    public static WeightedSchedule Build(ServerRuntime[] servers)
    {
        if (servers.Length == 0) return Empty;
        int g = 0;
        foreach (var s in servers) g = Gcd(g, s.Weight);
        var weights = new int[servers.Length];
        long total = 0;
        for (int i = 0; i < servers.Length; i++)
        {
            weights[i] = servers[i].Weight / g;
            total += weights[i];
        }
        if (total > MaxEntries)
        {
            // Scale down keeping every server at least once; proportions stay close enough for balancing.
            long scaled = 0;
            for (int i = 0; i < weights.Length; i++)
            {
                weights[i] = (int)Math.Max(1, (long)weights[i] * MaxEntries / total);
                scaled += weights[i];
            }
            total = scaled;
        }
        var sequence = new ServerRuntime[total];
        var current = new long[servers.Length];
        for (int n = 0; n < sequence.Length; n++)
        {
            // nginx: every peer gains its weight, the best is chosen and loses the total.
            int best = -1;
            for (int i = 0; i < servers.Length; i++)
            {
                current[i] += weights[i];
                if (best < 0 || current[i] > current[best]) best = i;
            }
            current[best] -= total;
            sequence[n] = servers[best];
        }
        return new WeightedSchedule(servers, sequence);
    }

    /// <summary>Returns the entry at <paramref name="position"/> modulo the length, skipping <paramref name="exclude"/> when another server exists.</summary>
    public ServerRuntime? At(uint position, ServerRuntime? exclude)
    {
        var seq = Sequence;
        if (seq.Length == 0) return null;
        var s = seq[position % (uint)seq.Length];
        if (s != exclude || Servers.Length == 1) return s;
        for (uint i = 1; i < (uint)seq.Length; i++)
        {
            s = seq[(position + i) % (uint)seq.Length];
            if (s != exclude) return s;
        }
        return s;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
