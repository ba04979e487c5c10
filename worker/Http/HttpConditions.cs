using System.Buffers;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Proxy.Shared.Config;

namespace Proxy.Worker.Http;

/// <summary>
/// What ACLs look at: the request head and the client's address (doc/configuration.txt 7.3). The head is null at
/// `tcp-request connection` time, before any request: the same compiled conditions then run on the address alone, a
/// layer-7 criterion having no sample and so not matching (as a fetch without a sample in HAProxy; the config admits
/// only layer-4 ACLs there anyway). One evaluator serves both, with no copy of the AND/OR logic and no allocation.
/// </summary>
internal readonly ref struct HttpRequestFacts(HttpHead? head, IPAddress? client, System.Net.Security.SslStream? tls = null)
{
    /// <summary>The client connection's TLS stream (`ssl_fc*` fetches); null on a plain connection.</summary>
    public System.Net.Security.SslStream? Tls { get; } = tls;

    /// <summary>Facts at accept time: the connection's own source address, no request yet.</summary>
    public static HttpRequestFacts AtConnection(IPAddress? client) => new(null, client);

    public HttpHead? Head { get; } = head;
    public IPAddress? Client { get; } = client;
}

/// <summary>
/// One `acl` line compiled for matching: values as bytes, regexes built once. Matching allocates nothing
/// (path_reg matches a span of chars from the pool).
/// </summary>
internal sealed class CompiledAcl
{
    private readonly AclCriterion _criterion;
    private readonly byte[]? _header;
    private readonly bool _ignoreCase;
    private readonly byte[][] _values;
    private readonly Regex[] _regexes;
    private readonly IPNetwork[] _networks;

    public CompiledAcl(AclConfig acl)
    {
        _criterion = acl.Criterion;
        _header = acl.HeaderName is null ? null : Encoding.ASCII.GetBytes(acl.HeaderName);
        _ignoreCase = acl.IgnoreCase;
        _values = new byte[acl.Values.Count][];
        for (int i = 0; i < _values.Length; i++) _values[i] = Encoding.UTF8.GetBytes(acl.Values[i]);
        _regexes = [];
        if (acl.Criterion == AclCriterion.PathReg)
        {
            var options = RegexOptions.CultureInvariant | (acl.IgnoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
            _regexes = new Regex[acl.Values.Count];
            for (int i = 0; i < _regexes.Length; i++) _regexes[i] = new Regex(acl.Values[i], options);
        }
        _networks = [.. acl.Networks];
    }

    /// <summary>True when any value matches (7.1: the patterns of one ACL are ORed).</summary>
    public bool Matches(in HttpRequestFacts facts)
    {
        switch (_criterion)
        {
            case AclCriterion.Always: return true;
            case AclCriterion.Never: return false;
            case AclCriterion.Src:
                if (facts.Client is not { } ip) return false;
                if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
                foreach (var n in _networks)
                    if (n.Contains(ip)) return true;
                return false;
        }
        if (_criterion >= AclCriterion.SslFc) return TlsFetches.Matches(_criterion, facts.Tls, _values, _ignoreCase);
        if (facts.Head is not { } head) return false;   // layer 7 at connection time: no sample
        switch (_criterion)
        {
            case AclCriterion.Path: return AnyValue(HttpTargets.Path(head.Target), Kind.Exact);
            case AclCriterion.PathBeg: return AnyValue(HttpTargets.Path(head.Target), Kind.Prefix);
            case AclCriterion.PathEnd: return AnyValue(HttpTargets.Path(head.Target), Kind.Suffix);
            case AclCriterion.PathReg: return AnyRegex(HttpTargets.Path(head.Target));
            case AclCriterion.Method: return AnyValue(head.MethodBytes, Kind.Exact);
            case AclCriterion.Hdr: return AnyHeaderElement(head, Kind.Exact);
            case AclCriterion.HdrBeg: return AnyHeaderElement(head, Kind.Prefix);
            default: return false;
        }
    }

    private enum Kind { Exact, Prefix, Suffix }

    /// <summary>`hdr(NAME)`: every occurrence, each split on commas (7.3.6 "hdr"), OWS trimmed.</summary>
    private bool AnyHeaderElement(HttpHead head, Kind kind)
    {
        for (int i = head.IndexOfHeader(_header!); i >= 0; i = head.IndexOfHeader(_header!, i + 1))
        {
            ReadOnlySpan<byte> value = head.GetHeaderValue(i);
            while (true)
            {
                int comma = value.IndexOf((byte)',');
                var element = (comma < 0 ? value : value[..comma]).Trim(" \t"u8);
                if (AnyValue(element, kind)) return true;
                if (comma < 0) break;
                value = value[(comma + 1)..];
            }
        }
        return false;
    }

    private bool AnyValue(ReadOnlySpan<byte> sample, Kind kind)
    {
        foreach (var v in _values)
        {
            if (v.Length > sample.Length || (kind == Kind.Exact && v.Length != sample.Length)) continue;
            var part = kind == Kind.Suffix ? sample[^v.Length..] : sample[..v.Length];
            if (_ignoreCase ? Ascii.EqualsIgnoreCase(part, v) : part.SequenceEqual(v)) return true;
        }
        return false;
    }

    private bool AnyRegex(ReadOnlySpan<byte> sample)
    {
        char[] rented = ArrayPool<char>.Shared.Rent(Math.Max(sample.Length, 1));
        try
        {
            int n = Encoding.Latin1.GetChars(sample, rented);
            var chars = rented.AsSpan(0, n);
            foreach (var r in _regexes)
                if (r.IsMatch(chars)) return true;
            return false;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }
}

/// <summary>An `if|unless` condition compiled: OR of ANDs of (negated) ACL names, each name an OR of its lines.</summary>
internal sealed class CompiledCondition
{
    private readonly bool _unless;
    private readonly (bool Negated, CompiledAcl[] Acls)[][] _anyOf;

    public CompiledCondition(ConditionConfig condition)
    {
        _unless = condition.Unless;
        _anyOf = new (bool, CompiledAcl[])[condition.AnyOf.Count][];
        for (int i = 0; i < _anyOf.Length; i++)
        {
            var terms = condition.AnyOf[i];
            _anyOf[i] = new (bool, CompiledAcl[])[terms.Count];
            for (int j = 0; j < terms.Count; j++)
            {
                var acls = new CompiledAcl[terms[j].Acls.Count];
                for (int k = 0; k < acls.Length; k++) acls[k] = new CompiledAcl(terms[j].Acls[k]);
                _anyOf[i][j] = (terms[j].Negated, acls);
            }
        }
    }

    /// <summary>Evaluates the condition for one request (7.2: `unless` negates the whole result).</summary>
    public bool Evaluate(in HttpRequestFacts facts)
    {
        bool result = false;
        foreach (var all in _anyOf)
        {
            bool ok = true;
            foreach (var (negated, acls) in all)
            {
                bool any = false;
                foreach (var acl in acls)
                    if (acl.Matches(facts)) { any = true; break; }
                if (any == negated) { ok = false; break; }
            }
            if (ok) { result = true; break; }
        }
        return result != _unless;
    }
}

/// <summary>Pieces of a request-target (RFC 9112 3.2).</summary>
internal static class HttpTargets
{
    /// <summary>The path of origin-form or absolute-form (query excluded), as HAProxy's `path` fetch; empty for authority-form.</summary>
    public static ReadOnlySpan<byte> Path(ReadOnlySpan<byte> target)
    {
        if (target.Length > 0 && target[0] != '/' && target[0] != '*')
        {
            int scheme = target.IndexOf("://"u8);
            if (scheme < 0) return default;    // authority-form (CONNECT)
            target = target[(scheme + 3)..];
            int slash = target.IndexOf((byte)'/');
            if (slash < 0) return default;
            target = target[slash..];
        }
        int q = target.IndexOf((byte)'?');
        return q < 0 ? target : target[..q];
    }
}
