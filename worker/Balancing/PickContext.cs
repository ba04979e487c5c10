using System.Net;

namespace Proxy.Worker.Balancing;

/// <summary>
/// What one pick may look at: the client's address (`balance source`; the PROXY header's on an `accept-proxy` listener) and, in `mode http`, the request's hash key
/// (`balance uri|url_param|hdr`, found by <see cref="RequestHashKey"/>) as a span over the parsed request head.
/// A ref struct so the key is never copied or boxed: a pick allocates nothing.
/// </summary>
internal readonly ref struct PickContext
{
    /// <summary>A pick with no request key (tcp sessions, algorithms that need none).</summary>
    public PickContext(IPEndPoint? client)
    {
        Client = client;
    }

    /// <summary>A pick for a request; <paramref name="hasKey"/> false when the request had no key (round robin then).</summary>
    public PickContext(IPEndPoint? client, ReadOnlySpan<byte> key, bool hasKey)
    {
        Client = client;
        Key = key;
        HasKey = hasKey;
    }

    public IPEndPoint? Client { get; }
    public ReadOnlySpan<byte> Key { get; }
    /// <summary>Whether <see cref="Key"/> holds the request's key (it may be empty and still be a key, e.g. `uri len` cut to nothing).</summary>
    public bool HasKey { get; }
}
