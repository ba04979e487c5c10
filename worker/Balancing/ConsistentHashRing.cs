using System.Text;

namespace Proxy.Worker.Balancing;

/// <summary>
/// `hash-type consistent`: a ring of 32-bit points, <see cref="PointsPerWeight"/> per unit of weight for each usable
/// server; a hash belongs to the first point at or after it (wrapping). A server's points depend only on its name and
/// weight, so adding a server takes over only the keys that now fall on its points (about its share of the weight) and
/// removing one hands only its own keys to the next points: every other key stays where it was.
/// HAProxy (lb_chash.c) places weight x 16 points per server derived from the numeric server id; the name is used here
/// because it is what stays stable when servers are added to or removed from the file, and 100 points per unit of
/// weight keep the shares of weight-1 servers within about 10% of their weight (16 gives about 25%).
/// Immutable: built when the usable set changes, looked up without locks.
///
/// `hash-balance-factor N` (4.2, HAProxy's chash_server_is_eligible): a server is skipped for the next one on the
/// ring while its current sessions reach its share of N% of all the ring's sessions plus this one, shares by weight
/// (at least one each). Sessions are this worker's own (each worker bounds its own load, as it balances its own).
/// </summary>
internal sealed class ConsistentHashRing
{
    public const int PointsPerWeight = 100;

    public static readonly ConsistentHashRing Empty = new([], [], 0, [], 0);

    private readonly uint[] _points;            // sorted
    private readonly ServerRuntime[] _owners;   // _owners[i] owns _points[i]
    private readonly int _servers;
    private readonly ServerRuntime[] _members;  // the usable servers, in backend order
    private readonly int[] _cumulative;         // by ServerRuntime.Index: the weight of the members before it
    private readonly int _totalWeight;
    private readonly int _balanceFactor;        // `hash-balance-factor`, 0: off

    private ConsistentHashRing(uint[] points, ServerRuntime[] owners, int servers, ServerRuntime[] members, int balanceFactor)
    {
        _points = points;
        _owners = owners;
        _servers = servers;
        _members = members;
        _balanceFactor = balanceFactor;
        int maxIndex = 0;
        foreach (var s in members) maxIndex = Math.Max(maxIndex, s.Index);
        _cumulative = new int[members.Length == 0 ? 0 : maxIndex + 1];
        foreach (var s in members)
        {
            _cumulative[s.Index] = _totalWeight;
            _totalWeight += s.Weight;
        }
    }

    public int PointCount => _points.Length;

    /// <summary>Builds the ring of <paramref name="servers"/> (all with weight &gt; 0); runs off the request path.</summary>
    public static ConsistentHashRing Build(ServerRuntime[] servers, int balanceFactor = 0)
    {
        if (servers.Length == 0) return Empty;
        long total = 0;
        foreach (var s in servers) total += (long)s.Weight * PointsPerWeight;
        // The low 32 bits order equal points by their server, so equal points sort the same way on every build.
        var keys = new ulong[total];
        var owners = new ServerRuntime[total];
        int k = 0;
        foreach (var s in servers)
        {
            ulong seed = NameSeed(s.Name);
            int count = s.Weight * PointsPerWeight;
            for (int i = 0; i < count; i++)
            {
                keys[k] = ((ulong)Point(seed, i) << 32) | (uint)seed;
                owners[k++] = s;
            }
        }
        Array.Sort(keys, owners);
        var points = new uint[total];
        for (int i = 0; i < points.Length; i++) points[i] = (uint)(keys[i] >> 32);
        return new ConsistentHashRing(points, owners, servers.Length, servers, balanceFactor);
    }

    /// <summary>Returns the owner of the first point at or after <paramref name="hash"/>; when that is <paramref name="exclude"/>
    /// and another server exists, the owner of the next point that is not (null only for an empty ring).</summary>
    public ServerRuntime? At(uint hash, ServerRuntime? exclude)
    {
        var points = _points;
        if (points.Length == 0) return null;
        int i = LowerBound(points, hash);
        if (i == points.Length) i = 0;
        var s = _owners[i];
        if (_balanceFactor > 0) return Bounded(i, exclude);
        if (s != exclude || _servers == 1) return s;
        for (int step = 1; step < points.Length; step++)
        {
            var next = _owners[(i + step) % points.Length];
            if (next != exclude) return next;
        }
        return s;
    }

    /// <summary>The first owner from point <paramref name="i"/> on that is not <paramref name="exclude"/> and is under its bound; after a whole turn, the first not excluded.</summary>
    private ServerRuntime Bounded(int i, ServerRuntime? exclude)
    {
        long served = 0;
        foreach (var m in _members) served += m.CurrentSessions;
        // HAProxy: slots = ceil((served + 1) * factor / 100), shared by weight, the remainder spread by cumulative weight.
        long slots = ((served + 1) * _balanceFactor + 99) / 100;
        long perWeight = slots / _totalWeight, remainder = slots % _totalWeight;
        ServerRuntime? fallback = null;
        for (int step = 0; step < _points.Length; step++)
        {
            var s = _owners[(i + step) % _points.Length];
            if (s == exclude && _servers > 1) continue;
            fallback ??= s;
            long cumulative = _cumulative[s.Index];
            long mine = s.Weight * perWeight + (cumulative + s.Weight) * remainder / _totalWeight - cumulative * remainder / _totalWeight;
            if (s.CurrentSessions < Math.Max(1, mine)) return s;
        }
        return fallback ?? _owners[i];
    }

    // First index whose point is >= hash (points.Length when none).
    private static int LowerBound(uint[] points, uint hash)
    {
        int lo = 0, hi = points.Length;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (points[mid] < hash) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    // FNV-1a 64 over the UTF-8 name: a stable identity for the server's points.
    private static ulong NameSeed(string name)
    {
        ulong h = 14695981039346656037;
        foreach (byte b in Encoding.UTF8.GetBytes(name)) h = (h ^ b) * 1099511628211;
        return h;
    }

    // The i-th point of a server: splitmix64's finalizer over seed + i * golden ratio, high 32 bits.
    private static uint Point(ulong seed, int i)
    {
        ulong z = seed + (ulong)(i + 1) * 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return (uint)((z ^ (z >> 31)) >> 32);
    }
}
