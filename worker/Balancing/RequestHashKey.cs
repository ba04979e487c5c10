using Proxy.Shared.Config;
using Proxy.Worker.Http;

namespace Proxy.Worker.Balancing;

/// <summary>
/// Finds the bytes that `balance uri`, `balance url_param NAME` and `balance hdr(NAME)` hash, as a span over the
/// parsed request head (no copy). Follows HAProxy's get_server_uh / get_server_ph / get_server_hh (src/backend.c).
/// Returns false when the request has no key, where HAProxy falls back to round robin.
/// </summary>
internal sealed class RequestHashKey
{
    private readonly BalanceAlgorithm _algorithm;
    private readonly BalanceOptions _options;
    private readonly byte[] _name;   // url_param name, or header name

    public RequestHashKey(BalanceAlgorithm algorithm, BalanceOptions options)
    {
        _algorithm = algorithm;
        _options = options;
        _name = System.Text.Encoding.ASCII.GetBytes((algorithm == BalanceAlgorithm.UrlParam ? options.UrlParam : options.Header) ?? "");
    }

    /// <summary>Whether <paramref name="algorithm"/> hashes something of the request.</summary>
    public static bool IsNeeded(BalanceAlgorithm algorithm) =>
        algorithm is BalanceAlgorithm.Uri or BalanceAlgorithm.UrlParam or BalanceAlgorithm.Header;

    /// <summary>Sets <paramref name="key"/> to the request's key; false when it has none.</summary>
    public bool TryGet(HttpHead request, out ReadOnlySpan<byte> key) => _algorithm switch
    {
        BalanceAlgorithm.Uri => TryUri(request.Target, out key),
        BalanceAlgorithm.UrlParam => TryUrlParam(request.Target, out key),
        BalanceAlgorithm.Header => TryHeader(request, out key),
        _ => NoKey(out key),
    };

    private static bool NoKey(out ReadOnlySpan<byte> key)
    {
        key = default;
        return false;
    }

    /// <summary>
    /// `balance uri`: the target up to '?' (all of it with `whole`), cut to `len` bytes, and stopped before the
    /// (depth+1)-th '/' with `depth`. `path-only` starts at the path of an absolute-form target (none: no key).
    /// </summary>
    private bool TryUri(ReadOnlySpan<byte> uri, out ReadOnlySpan<byte> key)
    {
        if (_options.UriPathOnly && !TryPath(ref uri)) return NoKey(out key);
        if (_options.UriLength > 0 && uri.Length > _options.UriLength) uri = uri[.._options.UriLength];
        int stopAtSlash = _options.UriDepth > 0 ? _options.UriDepth + 1 : 0;
        int slashes = 0, end = 0;
        for (; end < uri.Length; end++)
        {
            byte c = uri[end];
            if (c == (byte)'/')
            {
                if (++slashes == stopAtSlash) break;
            }
            else if (c == (byte)'?' && !_options.UriWhole)
            {
                break;
            }
        }
        key = uri[..end];
        return true;
    }

    // The path of an origin-form target is the target; of an absolute-form one, what follows the authority
    // (RFC 9112 3.2.2); asterisk and authority forms have none.
    private static bool TryPath(ref ReadOnlySpan<byte> uri)
    {
        if (uri.Length > 0 && uri[0] == (byte)'/') return true;
        int scheme = uri.IndexOf("://"u8);
        if (scheme <= 0) return false;
        var rest = uri[(scheme + 3)..];
        int path = rest.IndexOfAny((byte)'/', (byte)'?');
        if (path < 0) return false;
        uri = rest[path..];
        return uri[0] == (byte)'/';
    }

    /// <summary>`balance url_param NAME`: the value of the first NAME=VALUE of the query string (case-sensitive name,
    /// '&amp;'-separated); no query, no such parameter or an empty value: no key.</summary>
    private bool TryUrlParam(ReadOnlySpan<byte> uri, out ReadOnlySpan<byte> key)
    {
        int q = uri.IndexOf((byte)'?');
        if (q < 0) return NoKey(out key);
        var query = uri[(q + 1)..];
        var name = _name.AsSpan();
        while (query.Length > 0)
        {
            int amp = query.IndexOf((byte)'&');
            var pair = amp < 0 ? query : query[..amp];
            if (pair.Length > name.Length && pair[name.Length] == (byte)'=' && pair.StartsWith(name))
            {
                key = pair[(name.Length + 1)..];
                return key.Length > 0;
            }
            if (amp < 0) break;
            query = query[(amp + 1)..];
        }
        return NoKey(out key);
    }

    /// <summary>`balance hdr(NAME)`: the first value (up to a comma) of the first NAME header, as HAProxy's
    /// http_find_header; with `use_domain_only`, only the label before the last dot. Absent or empty: no key.</summary>
    private bool TryHeader(HttpHead request, out ReadOnlySpan<byte> key)
    {
        if (!request.TryGetHeader(_name, out var value)) return NoKey(out key);
        int comma = value.IndexOf((byte)',');
        if (comma >= 0) value = value[..comma].TrimEnd(" \t"u8);
        if (value.Length == 0) return NoKey(out key);
        key = _options.UseDomainOnly ? MainDomain(value) : value;
        return true;
    }

    /// <summary>HAProxy's use_domain_only: "haproxy.1wt.eu" gives "1wt", "example.com:8080" gives "example";
    /// a value without a dot is used whole.</summary>
    internal static ReadOnlySpan<byte> MainDomain(ReadOnlySpan<byte> host)
    {
        int lastDot = host.LastIndexOf((byte)'.');
        if (lastDot < 0) return host;
        int start = host[..lastDot].LastIndexOf((byte)'.') + 1;
        return host[start..lastDot];
    }
}
