namespace Proxy.Shared.Config;

/// <summary>`hash-type` methods (4.2 "hash-type"): how a hash designates a server.</summary>
public enum HashMethod
{
    /// <summary>Hash modulo the total weight over a static weighted map: good spread, but a change of the server set moves most keys.</summary>
    MapBased,
    /// <summary>A weighted ring of points: adding or removing a server moves only the keys of that server.</summary>
    Consistent,
}

/// <summary>`hash-type` functions (HAProxy src/hash.c); sdbm is HAProxy's default.</summary>
public enum HashFunction { Sdbm, Djb2, Wt6, Crc32 }

/// <summary>
/// Arguments of `balance` (`uri len N depth N whole path-only`, `url_param NAME`, `hdr(NAME) use_domain_only`,
/// `random(DRAWS)`) and the `hash-type` line. Only the fields of the backend's algorithm mean anything.
/// </summary>
public sealed record BalanceOptions
{
    public static BalanceOptions Default { get; } = new();

    /// <summary>`balance uri len N`: hash at most the first N characters of the URI; 0: no limit.</summary>
    public int UriLength { get; init; }
    /// <summary>`balance uri depth N`: hash at most N directory levels (one per '/'); 0: no limit.</summary>
    public int UriDepth { get; init; }
    /// <summary>`balance uri whole`: include the query string (by default the hash stops at '?').</summary>
    public bool UriWhole { get; init; }
    /// <summary>`balance uri path-only`: skip the scheme and authority of an absolute-form URI.</summary>
    public bool UriPathOnly { get; init; }
    /// <summary>`balance url_param NAME`: the query-string parameter whose value is hashed.</summary>
    public string? UrlParam { get; init; }
    /// <summary>`balance hdr(NAME)`: the request header whose value is hashed.</summary>
    public string? Header { get; init; }
    /// <summary>`balance hdr(NAME) use_domain_only`: hash only the main domain ("1wt" in "haproxy.1wt.eu").</summary>
    public bool UseDomainOnly { get; init; }
    /// <summary>`balance rdp-cookie[(NAME)]`: the RDP connection request's cookie whose value is hashed (default mstshash).</summary>
    public string? RdpCookie { get; init; }
    /// <summary>`balance random(N)`: servers drawn before the least loaded of them is taken; HAProxy's default is 2.</summary>
    public int RandomDraws { get; init; } = 2;

    /// <summary>`hash-type METHOD`: map-based (HAProxy's default) or consistent.</summary>
    public HashMethod HashMethod { get; init; }
    /// <summary>`hash-type METHOD FUNCTION`: sdbm (HAProxy's default), djb2, wt6 or crc32.</summary>
    public HashFunction HashFunction { get; init; }
    /// <summary>`hash-type METHOD FUNCTION avalanche`: mix the hash once more (HAProxy's full_hash) before using it.</summary>
    public bool HashAvalanche { get; init; }
    /// <summary>`hash-balance-factor N` (4.2): with `hash-type consistent`, a server whose load would pass N% of the
    /// average is skipped for the next one on the ring (bounded-load consistent hashing); 0: off.</summary>
    public int HashBalanceFactor { get; init; }
}
